"""Opening a python-can bus from a profile's ``[can]`` section.

The bench never talks to an adapter directly: python-can's interface registry picks the
driver by name (socketcan, pcan, kvaser, vector, slcan, virtual, udp_multicast, ...), so
any adapter python-can supports works unchanged.

The capture must hold every frame of the bus exactly once, the bench's own included, and
stamped by the same clock as the DUT's wherever the interface allows it. How the bench's
own frames come back depends on the interface (:class:`EchoMode`).
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import can

log = logging.getLogger(__name__)


class EchoMode(str, Enum):
    """How the bench's own transmissions reach its capture."""

    #: The driver hands them back when asked (``receive_own_messages``), marked
    #: ``is_rx=False`` and stamped by the same clock as received frames (the adapter's
    #: hardware clock, or the kernel's on SocketCAN).
    DRIVER = "driver"
    #: The medium loops them back to every member, the sender included (python-can's
    #: ``udp_multicast``): the bench tags what it sends and marks the copy it gets back.
    LOOPBACK = "loopback"
    #: Nothing comes back: the bench records each frame itself, stamped by the host
    #: clock just before ``send``.
    SOFTWARE = "software"


#: Interfaces whose python-can driver echoes our own transmissions when asked to
#: (python-can 4.6 sources: each takes ``receive_own_messages`` and sets ``is_rx``).
DRIVER_ECHO = frozenset(
    {"socketcan", "virtual", "kvaser", "vector", "ixxat", "pcan", "etas", "neovi", "nixnet",
     "systec"}
)  # fmt: skip
#: Interfaces that deliver every frame to every member, the sender included, whatever it
#: asks (``udp_multicast`` joins its group with the IP multicast loopback on).
LOOPBACK_ECHO = frozenset({"udp_multicast"})
#: Kept for callers of the old name: the interfaces with a driver echo.
ECHO_CAPABLE = DRIVER_ECHO


def echo_mode(interface: str) -> EchoMode:
    """How our own frames come back on ``interface`` when the bus is opened to echo."""
    if interface in DRIVER_ECHO:
        return EchoMode.DRIVER
    if interface in LOOPBACK_ECHO:
        return EchoMode.LOOPBACK
    return EchoMode.SOFTWARE


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
    if echo and interface in DRIVER_ECHO:
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
    """Open the bus; ``echo`` asks for our own frames back, else none come back.

    On a loopback medium (``udp_multicast``) our own frames return whatever we ask: they
    are marked ``is_rx=False`` with ``echo``, and dropped without it, so every bus the
    bench opens behaves like SocketCAN.
    """
    kwargs = bus_kwargs(interface, channel, bitrate, options, echo=echo)
    try:
        bus = can.Bus(**kwargs)
    except (can.CanError, OSError, ImportError, ValueError, NotImplementedError) as exc:
        raise BusOpenError(f"cannot open CAN bus {interface}:{channel}: {exc}") from exc
    if interface in LOOPBACK_ECHO:
        tag_own_frames(bus, keep=echo)
    return bus


def tag_own_frames(bus: can.BusABC, *, keep: bool) -> None:
    """Tell our own frames from the peers' on a medium that loops every frame back.

    Each frame we send carries a token of this bus in its ``channel`` field (udp_multicast
    sends that field along); a received frame with our token is ours: kept as a
    transmission (``is_rx=False``, the loopback's own timestamp) when ``keep``, else
    dropped. The copy the medium hands back is stamped on receipt like every peer frame,
    so both directions share one clock. Done here because python-can's udp_multicast
    cannot tell its own frames (its ``receive_own_messages`` is not implemented).
    """
    token = f"vgi-bench:{uuid.uuid4().hex}"
    original_send, original_recv = bus.send, bus.recv

    def send(msg: can.Message, timeout: float | None = None) -> None:
        tagged = copy.copy(msg)  # periodic tasks send the same object again: leave it
        tagged.channel = token
        original_send(tagged, timeout)

    def recv(timeout: float | None = None) -> can.Message | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            msg = original_recv(left)
            if msg is None or msg.channel != token:
                return msg
            if keep:
                msg.channel = None
                msg.is_rx = False
                return msg
            if deadline is not None and time.monotonic() >= deadline:
                return None

    bus.send = send  # type: ignore[method-assign]
    bus.recv = recv  # type: ignore[method-assign]


def attach_tx_echo(bus: can.BusABC, listener: Callable[[can.Message], None]) -> None:
    """Feed every frame sent through ``bus`` to ``listener`` when nothing echoes it.

    Interfaces with neither a driver echo nor a loopback (slcan, serial, gs_usb, ...) get
    a software echo, recorded and stamped by the host clock just before ``send``;
    python-can's thread-based periodic tasks send through the same ``send``, so they are
    echoed too.
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


@dataclass(frozen=True)
class RecordingBus:
    """A bus whose own transmissions reach the capture once, and how they do."""

    bus: can.BusABC
    interface: str
    channel: str
    echo: EchoMode


def open_recording_bus(
    interface: str,
    channel: str,
    bitrate: int,
    options: Mapping[str, Any] | None,
    listener: Callable[[can.Message], None],
) -> RecordingBus:
    """Open a bus whose every frame, ours included, reaches ``listener`` exactly once.

    Our frames come back through the driver, the medium's loopback, or a software echo
    (:class:`EchoMode`), never two of them. A driver that refuses the echo (a PCAN-Basic
    older than its echo frames, say) falls back to the software echo, with a warning.
    """
    mode = echo_mode(interface)
    if mode is EchoMode.DRIVER and (options or {}).get("receive_own_messages") is False:
        mode = EchoMode.SOFTWARE  # the profile turned the driver's echo off
    try:
        bus = open_bus(interface, channel, bitrate, options, echo=True)
    except BusOpenError as exc:
        if mode is not EchoMode.DRIVER or interface == "virtual":
            raise
        log.warning("%s: %s; retrying without the driver's echo", interface, exc)
        bus = open_bus(interface, channel, bitrate, options, echo=False)
        mode = EchoMode.SOFTWARE
    if mode is EchoMode.SOFTWARE:
        attach_tx_echo(bus, listener)
    return RecordingBus(bus, interface, channel, mode)


def open_echoing_bus(
    interface: str,
    channel: str,
    bitrate: int,
    options: Mapping[str, Any] | None,
    listener: Callable[[can.Message], None],
) -> can.BusABC:
    """Open a bus whose own transmissions reach ``listener`` once (see
    :func:`open_recording_bus`, which also says how)."""
    return open_recording_bus(interface, channel, bitrate, options, listener).bus
