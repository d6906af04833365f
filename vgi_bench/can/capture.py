"""Everything seen on the bus during a case, decoded, timestamped and searchable.

The capture is a python-can listener. It keeps every frame with its bus timestamp,
reassembles transport-protocol transfers passively, decodes each message with the
message table, and lets a test wait for "the first CRM(0xAA) after t" without sleeping.
A frame that fails to decode is kept with its :class:`DecodeError`; it never stops the run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import can

from vgi_bench.can.bus import EchoMode
from vgi_bench.can.j1939 import Frame
from vgi_bench.can.transport import TP_CM_PGN, TP_DT_PGN, TpAborted, TpCompleted, TpMonitor
from vgi_bench.clocks import can_clock
from vgi_bench.gbt27930.messages import Decoded, DecodeError, MessageTable
from vgi_bench.timing import TimeJudge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One message as the bench saw it.

    ``timestamp`` is the bus timestamp (for TP transfers: of the last data frame);
    ``host_time`` is when the bench took it in, used only to bound waits.
    """

    name: str | None
    frame: Frame
    decoded: Decoded | DecodeError | None
    host_time: float
    via_tp: bool = False
    started: float | None = None  # first frame of a TP transfer

    @property
    def timestamp(self) -> float:
        return self.frame.timestamp

    @property
    def values(self) -> dict[str, Any]:
        return self.decoded.values if isinstance(self.decoded, Decoded) else {}

    @property
    def ok(self) -> bool:
        return isinstance(self.decoded, Decoded)

    def describe(self) -> str:
        """A short text for failure messages: name, source, length and bytes."""
        data = self.frame.data.hex(" ").upper()
        name = self.name or hex(self.frame.pgn)
        return f"{name} from 0x{self.frame.src:02X} [{len(self.frame.data)}] {data}"


Predicate = Callable[[Record], bool]


def default_timing() -> TimeJudge:
    """Timing of frames whose clock is not known: judged as host-stamped ones."""
    return TimeJudge(can_clock("unknown", "", EchoMode.SOFTWARE))


@dataclass
class Capture(can.Listener):
    """Collects and decodes frames; thread-safe waits on what has been seen.

    ``timing`` judges time differences of its records with the clock that stamped them
    (the rig sets it for the bus it opened); a capture of an unknown bus is judged as a
    host-stamped one.
    """

    table: MessageTable
    writer: can.Listener | None = None  # raw log (ASC/BLF), written as frames arrive
    records: list[Record] = field(default_factory=list)
    tp_events: list[TpCompleted | TpAborted] = field(default_factory=list)
    timing: TimeJudge = field(default_factory=default_timing)

    @staticmethod
    def default_timing() -> TimeJudge:
        return default_timing()

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        # Frames arrive from the notifier thread and, with a software echo, from sending
        # threads: decoding and transport reassembly take one frame at a time.
        self._ingest = threading.Lock()
        self._monitor = TpMonitor()
        self._subscribers: list[Callable[[Record], None]] = []

    # -- listener side -------------------------------------------------------------
    def on_message_received(self, msg: can.Message) -> None:
        with self._ingest:
            if self.writer is not None:
                try:
                    self.writer.on_message_received(msg)
                except Exception:  # a full disk must not lose the in-memory capture
                    log.exception("raw capture writer failed")
            frame = Frame.from_can(msg)
            if frame is None:
                return
            self.add_frame(frame)

    def add_frame(self, frame: Frame) -> list[Record]:
        """Record one frame (and any transfer it completes); returns the new records."""
        now = time.time()
        new: list[Record] = []
        if frame.pgn in (TP_CM_PGN, TP_DT_PGN):
            new.append(Record(_tp_name(frame), frame, None, now))
            for event in self._monitor.on_frame(frame):
                self.tp_events.append(event)
                if isinstance(event, TpCompleted):
                    new.append(self._transfer_record(event, now))
        else:
            decoded = self.table.decode(frame.pgn, frame.data)
            new.append(Record(decoded.name, frame, decoded, now))
        with self._cond:
            self.records.extend(new)
            self._cond.notify_all()
        for rec in new:
            if isinstance(rec.decoded, DecodeError):
                log.warning("decode error: %s (%s)", rec.decoded.reason, rec.describe())
            for subscriber in list(self._subscribers):
                try:
                    subscriber(rec)
                except Exception:  # a subscriber's bug must not stop the recording
                    log.exception("capture subscriber failed")
        return new

    def _transfer_record(self, event: TpCompleted, now: float) -> Record:
        spec = self.table.by_pgn(event.pgn)
        frame = Frame(7, event.pgn, event.src, event.dst, event.payload, event.finished)
        decoded = self.table.decode(event.pgn, event.payload)
        name = spec.name if spec else None
        return Record(name, frame, decoded, now, via_tp=True, started=event.started)

    def subscribe(self, callback: Callable[[Record], None]) -> None:
        """Call ``callback`` (in the listener's thread) for every new record."""
        self._subscribers.append(callback)

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.stop()

    # -- query side ----------------------------------------------------------------
    def select(
        self,
        name: str | None = None,
        *,
        since: float | None = None,
        until: float | None = None,
        where: Predicate | None = None,
        src: int | None = None,
    ) -> list[Record]:
        """Records matching all the given filters; ``since``/``until`` are bus timestamps."""
        with self._cond:
            snapshot = list(self.records)
        return [r for r in snapshot if _matches(r, name, since, until, where, src)]

    def first(self, name: str | None = None, **filters: Any) -> Record | None:
        found = self.select(name, **filters)
        return found[0] if found else None

    def wait_for(
        self,
        name: str | None,
        *,
        timeout: float,
        since: float | None = None,
        where: Predicate | None = None,
        src: int | None = None,
    ) -> Record | None:
        """The first matching record with ``timestamp >= since``, waiting up to ``timeout`` s.

        Returns ``None`` when nothing matched in time: the caller turns that into a verdict.
        """
        deadline = time.monotonic() + timeout
        index = 0
        with self._cond:
            while True:
                while index < len(self.records):
                    rec = self.records[index]
                    index += 1
                    if _matches(rec, name, since, None, where, src):
                        return rec
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def hold(self, seconds: float) -> None:
        """Let the bus run for ``seconds`` (a wait, not a measurement)."""
        time.sleep(seconds)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.select())

    def now(self) -> float:
        """Current time on the bus clock (python-can adapters timestamp in epoch seconds)."""
        return time.time()


def _matches(
    rec: Record,
    name: str | None,
    since: float | None,
    until: float | None,
    where: Predicate | None,
    src: int | None,
) -> bool:
    if name is not None and rec.name != name:
        return False
    if since is not None and rec.timestamp < since:
        return False
    if until is not None and rec.timestamp > until:
        return False
    if src is not None and rec.frame.src != src:
        return False
    if where is not None:
        try:
            return bool(where(rec))
        except (KeyError, TypeError, ValueError):
            return False
    return True


def _tp_name(frame: Frame) -> str:
    if frame.pgn == TP_DT_PGN:
        return "TP.DT"
    if not frame.data:
        return "TP.CM"
    names = {0x10: "TP.RTS", 0x11: "TP.CTS", 0x13: "TP.EoMA", 0x20: "TP.BAM", 0xFF: "TP.Abort"}
    return names.get(frame.data[0], "TP.CM")
