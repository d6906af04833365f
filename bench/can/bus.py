"""Opening a python-can bus from a profile's ``[can]`` section.

The bench never talks to an adapter directly: python-can's interface registry picks the
driver by name (socketcan, pcan, kvaser, vector, slcan, virtual, udp_multicast, ...), so
any adapter python-can supports works unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import can

#: Interfaces known to echo our own transmissions back when asked to. The echo carries
#: the bus timestamp, so transmitted and received frames share one clock in the capture.
ECHO_CAPABLE = frozenset({"socketcan", "virtual", "kvaser", "vector", "ixxat"})


class BusOpenError(RuntimeError):
    """The adapter named in the profile could not be opened (missing driver, no device...)."""


def bus_kwargs(
    interface: str,
    channel: str,
    bitrate: int,
    options: Mapping[str, Any] | None = None,
    *,
    echo: bool = False,
) -> dict[str, Any]:
    """The keyword arguments for ``can.Bus``: profile values plus interface quirks."""
    kwargs: dict[str, Any] = {"interface": interface, "channel": channel}
    if interface not in ("virtual", "udp_multicast"):
        kwargs["bitrate"] = bitrate
    if interface == "udp_multicast":
        # Classic CAN frames only; GB/T 27930 is CAN 2.0B.
        kwargs["fd"] = False
    if echo and interface in ECHO_CAPABLE:
        kwargs["receive_own_messages"] = True
    kwargs.update(options or {})
    return kwargs


def open_bus(
    interface: str,
    channel: str,
    bitrate: int = 250_000,
    options: Mapping[str, Any] | None = None,
    *,
    echo: bool = False,
) -> can.BusABC:
    """Open the bus; ``echo`` asks for our own frames back (see :data:`ECHO_CAPABLE`)."""
    kwargs = bus_kwargs(interface, channel, bitrate, options, echo=echo)
    try:
        return can.Bus(**kwargs)
    except (can.CanError, OSError, ImportError, ValueError, NotImplementedError) as exc:
        raise BusOpenError(f"cannot open CAN bus {interface}:{channel}: {exc}") from exc


def attach_tx_echo(bus: can.BusABC, listener: Callable[[can.Message], None]) -> None:
    """Feed every frame sent through ``bus`` to ``listener`` when the driver cannot echo.

    Interfaces without ``receive_own_messages`` (udp_multicast, pcan, slcan, ...) get a
    software echo, recorded and stamped just before ``send``; python-can's
    thread-based periodic tasks send through the same ``send``, so they are echoed too.
    """
    original = bus.send

    def send(msg: can.Message, timeout: float | None = None) -> None:
        # Recorded before sending, with the time before sending: no peer can have seen the
        # frame earlier, and its answer must not reach the capture ahead of the frame.
        listener(
            can.Message(
                arbitration_id=msg.arbitration_id,
                is_extended_id=msg.is_extended_id,
                data=msg.data,
                dlc=msg.dlc,
                is_rx=False,
                timestamp=time.time(),
                channel=msg.channel,
            )
        )
        original(msg, timeout)

    bus.send = send  # type: ignore[method-assign]


def open_echoing_bus(
    interface: str,
    channel: str,
    bitrate: int,
    options: Mapping[str, Any] | None,
    listener: Callable[[can.Message], None],
) -> can.BusABC:
    """Open a bus whose own transmissions reach ``listener`` (driver echo or software)."""
    bus = open_bus(interface, channel, bitrate, options, echo=True)
    if interface not in ECHO_CAPABLE:
        attach_tx_echo(bus, listener)
    return bus
