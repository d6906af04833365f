"""A GB/T 27930 participant: a CAN node that sends and receives messages by name.

Both the bench's roles and the simulated DUTs build on this: it encodes from the message
table, picks single frame or transport by the message's length, and hands decoded
messages to the state machine. Anything that fails to decode is logged and counted,
never raised into the node thread.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import can

from vgi_bench.can.j1939 import Frame
from vgi_bench.can.node import CanNode
from vgi_bench.can.transport import TpAborted, TpCompleted
from vgi_bench.gbt27930.messages import Decoded, DecodeError, MessageTable

log = logging.getLogger(__name__)


class GbtParticipant(CanNode):
    """Sends GB/T 27930 messages by name to one peer; subclasses implement ``on_message``."""

    def __init__(
        self,
        bus: can.BusABC,
        address: int,
        peer: int,
        *,
        table: MessageTable | None = None,
        name: str = "gbt",
        **node_kwargs: Any,
    ) -> None:
        super().__init__(bus, address, name=name, **node_kwargs)
        self.peer = peer
        self.table = table or MessageTable.gbt27930_2015()
        self.decode_errors: list[DecodeError] = []

    # -- encoding ------------------------------------------------------------------
    def payload(self, name: str, values: Mapping[str, Any] | None = None) -> bytes:
        return self.table.encode(name, values or {})

    def frame(self, name: str, data: bytes) -> Frame:
        spec = self.table[name]
        return Frame(spec.priority, spec.pgn, self.address, self.peer, data)

    # -- sending -------------------------------------------------------------------
    def send_message(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        stop_after_packets: int | None = None,
    ) -> None:
        """Send ``name`` once: single frame, or a TP transfer for long payloads."""
        data = raw if raw is not None else self.payload(name, values)
        if len(data) > 8:
            self.send_transfer(
                self.table[name].pgn, data, self.peer, stop_after_packets=stop_after_packets
            )
        else:
            self.send(self.frame(name, data))

    def start_message(
        self,
        name: str,
        values: Mapping[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        period_s: float | None = None,
        stop_after_packets: int | None = None,
        immediate: bool = False,
    ) -> None:
        """Send ``name`` periodically (table period unless ``period_s``); updates if running.

        ``immediate`` sends the new content now instead of at the next period.
        """
        spec = self.table[name]
        data = raw if raw is not None else self.payload(name, values)
        period = period_s if period_s is not None else (spec.period_s or 0.25)
        if len(data) > 8:
            if self.is_sending(name) and stop_after_packets is None:
                self.update_periodic_transfer(name, data)
                return
            self.start_periodic_transfer(
                name, spec.pgn, data, self.peer, period, stop_after_packets=stop_after_packets
            )
        else:
            self.start_periodic(name, self.frame(name, data), period, immediate=immediate)

    def stop_message(self, *names: str) -> None:
        for name in names:
            self.stop_periodic(name)

    # -- receiving -----------------------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        if frame.src != self.peer:
            return
        self._deliver(frame.pgn, frame.data, frame)

    def on_transfer(self, event: TpCompleted | TpAborted) -> None:
        if isinstance(event, TpCompleted):
            if event.src != self.peer:
                return
            frame = Frame(7, event.pgn, event.src, event.dst, event.payload, event.finished)
            self._deliver(event.pgn, event.payload, frame)
        else:
            self.on_transfer_aborted(event)

    def _deliver(self, pgn: int, data: bytes, frame: Frame) -> None:
        decoded = self.table.decode(pgn, data)
        if isinstance(decoded, DecodeError):
            log.info("%s: ignored %s", self.name, decoded.reason)
            self.decode_errors.append(decoded)
            self.on_bad_message(decoded, frame)
            return
        self.on_message(decoded, frame)

    def on_message(self, msg: Decoded, frame: Frame) -> None:
        """A well-formed message from the peer."""

    def on_bad_message(self, error: DecodeError, frame: Frame) -> None:
        """A message from the peer that did not decode (wrong length, bad value...)."""

    def on_transfer_aborted(self, event: TpAborted) -> None:
        """A transfer to us was aborted (by either side)."""
