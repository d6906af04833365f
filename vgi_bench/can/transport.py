"""SAE J1939-21 connection-mode transport (TP.CM / TP.DT) as used by GB/T 27930.

Written by hand: neither cantools (which only packs identifiers and decodes single
frames) nor python-can (a bus layer) implements the J1939 transport protocol, and the
bench needs full control over it anyway (fault injection, exact timers, passive
reassembly of what a DUT puts on the bus).

The implementation is *sans-IO*: there are no threads, sockets or sleeps. Every method
takes the current time ``now`` in seconds and returns the frames to put on the bus; the
caller owns the bus and the clock and calls ``poll(now)`` at (or after)
``next_deadline()``. The same classes therefore drive the bench, the simulated DUTs and
deterministic unit tests with a fake clock.

* :class:`TpSender` – originator (the BMS in GB/T 27930-2015): RTS, DT, Abort.
* :class:`TpReceiver` – responder (the charger in 2015): CTS, EndOfMsgAck, Abort; any
  number of originators at once, one session per originator address.
* :class:`TpMonitor` – passive reassembly of RTS/CTS and BAM transfers seen on the bus;
  never sends.

Frame layouts (reference §4, bytes 1-based)::

    RTS    10 size(LE16) packets max_per_cts     PGN(LE24)
    CTS    11 allowed    next_seq FF FF          PGN(LE24)
    EoMA   13 size(LE16) packets FF              PGN(LE24)
    BAM    20 size(LE16) packets FF              PGN(LE24)
    Abort  FF reason     FF FF FF                PGN(LE24)
    DT     seq(1..n) 7 data bytes, the last frame padded with 0xFF

Choices where J1939-21 leaves room (or where the 2006 abort table has no fitting code):

* Out-of-sequence DT at the receiver (wrong, repeated or unexpected sequence number):
  the receiver does not ask for a retransmission; it aborts at once with
  :attr:`AbortReason.MAX_RETRANSMIT` (its retransmit-request limit is zero).
  J1939-21:2010+ would use reason 7 "bad sequence number", outside the 2006 table 7
  this bench follows.
* An RTS the receiver cannot take (``accept`` says no, size outside 1..1785, packet
  count not ``ceil(size / 7)``) is refused with :attr:`AbortReason.RESOURCES`.
* A new RTS for the same PGN from an originator already in session restarts the
  session; the dropped one is reported as :class:`TpAborted` with ``reason=0``
  (:data:`NO_ABORT_FRAME`, no Abort frame was exchanged).
* A CTS for a packet range outside ``1..n`` is ignored by the sender (its T3/T4 timer
  keeps running); a window larger than what is left, or than the RTS maximum, is
  clipped. A CTS while DT frames of the current window are still due aborts with
  :attr:`AbortReason.CTS_WHILE_SENDING`. A CTS after the window (also in the EoMA
  wait) is honoured, including a retransmit request for earlier packets.
* An RTS "max packets per CTS" of 0 (invalid) is read like 0xFF, no limit.
* DT frames shorter than 8 bytes are accepted (missing bytes count as 0xFF padding);
  DT frames with no data byte after the sequence number are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from vgi_bench.can.j1939 import GLOBAL_ADDRESS, Frame

TP_CM_PGN = 0xEC00
TP_DT_PGN = 0xEB00
#: Payload limits of the connection-mode transport (J1939-21; reference §1 notes).
MIN_PAYLOAD = 9
MAX_PAYLOAD = 1785
#: ``TpAborted.reason`` for transfers that ended without an Abort frame on the bus.
NO_ABORT_FRAME = 0
BYTES_PER_PACKET = 7

_PAD = 0xFF


class Control(IntEnum):
    """TP.CM control byte."""

    RTS = 0x10
    CTS = 0x11
    EOMA = 0x13
    BAM = 0x20
    ABORT = 0xFF


class AbortReason(IntEnum):
    """Connection abort reasons, J1939-21:2006 table 7."""

    ALREADY_IN_SESSION = 1
    RESOURCES = 2
    TIMEOUT = 3
    CTS_WHILE_SENDING = 4
    MAX_RETRANSMIT = 5


@dataclass(frozen=True)
class TpTimers:
    """J1939-21 transport timers in seconds (reference §4)."""

    tr: float = 0.200  # response time
    th: float = 0.500  # hold: receiver repeats CTS(0) at this interval
    t1: float = 0.750  # receiver: gap between DT frames
    t2: float = 1.250  # receiver: CTS to first DT
    t3: float = 1.250  # sender: after RTS / last DT of a window, waiting for CTS or EoMA
    t4: float = 1.050  # sender: after CTS(0), waiting for the next CTS


@dataclass(frozen=True)
class TpCompleted:
    """A transfer that delivered its whole payload. ``src`` is the originator."""

    pgn: int
    src: int
    dst: int
    payload: bytes
    started: float
    finished: float


@dataclass(frozen=True)
class TpAborted:
    """A transfer that ended without its payload.

    ``by`` is ``"local"`` or ``"peer"`` for :class:`TpSender`/:class:`TpReceiver`; the
    monitor says ``"originator"``, ``"responder"`` or ``"monitor"`` (inferred: stale,
    restarted, or still open at :meth:`TpMonitor.flush`). ``reason`` is the Abort
    frame's byte 2, or :data:`NO_ABORT_FRAME` when none was exchanged.
    """

    pgn: int
    src: int
    dst: int
    reason: int
    by: str
    detail: str
    at: float


TpEvent = TpCompleted | TpAborted


# --------------------------------------------------------------------------- TP.CM codec


@dataclass(frozen=True)
class TpCm:
    """A decoded TP.CM frame; fields a control byte does not carry are ``None``.

    ``packets`` is the packet count (RTS, EoMA, BAM) or the packets allowed (CTS).
    """

    control: Control
    pgn: int
    total_size: int | None = None
    packets: int | None = None
    max_packets: int | None = None
    next_seq: int | None = None
    reason: int | None = None


def _pgn_bytes(pgn: int) -> bytes:
    return (pgn & 0xFFFFFF).to_bytes(3, "little")


def encode_rts(total_size: int, packets: int, pgn: int, max_packets: int = 0xFF) -> bytes:
    return (
        bytes([Control.RTS])
        + (total_size & 0xFFFF).to_bytes(2, "little")
        + bytes([packets & 0xFF, max_packets & 0xFF])
        + _pgn_bytes(pgn)
    )


def encode_cts(packets: int, next_seq: int, pgn: int) -> bytes:
    return bytes([Control.CTS, packets & 0xFF, next_seq & 0xFF, _PAD, _PAD]) + _pgn_bytes(pgn)


def encode_eoma(total_size: int, packets: int, pgn: int) -> bytes:
    return (
        bytes([Control.EOMA])
        + (total_size & 0xFFFF).to_bytes(2, "little")
        + bytes([packets & 0xFF, _PAD])
        + _pgn_bytes(pgn)
    )


def encode_bam(total_size: int, packets: int, pgn: int) -> bytes:
    return (
        bytes([Control.BAM])
        + (total_size & 0xFFFF).to_bytes(2, "little")
        + bytes([packets & 0xFF, _PAD])
        + _pgn_bytes(pgn)
    )


def encode_abort(reason: int, pgn: int) -> bytes:
    return bytes([Control.ABORT, reason & 0xFF, _PAD, _PAD, _PAD]) + _pgn_bytes(pgn)


def parse_cm(data: bytes) -> TpCm | None:
    """Decode TP.CM data; ``None`` for short data or an unknown control byte. Never raises."""
    try:
        raw = bytes(data)
    except (TypeError, ValueError):
        return None
    if len(raw) < 8:
        return None
    try:
        control = Control(raw[0])
    except ValueError:
        return None
    size = int.from_bytes(raw[1:3], "little")
    pgn = int.from_bytes(raw[5:8], "little")
    if control is Control.RTS:
        return TpCm(control, pgn, total_size=size, packets=raw[3], max_packets=raw[4])
    if control is Control.CTS:
        return TpCm(control, pgn, packets=raw[1], next_seq=raw[2])
    if control in (Control.EOMA, Control.BAM):
        return TpCm(control, pgn, total_size=size, packets=raw[3])
    return TpCm(control, pgn, reason=raw[1])


def packet_count(total_size: int) -> int:
    return math.ceil(total_size / BYTES_PER_PACKET)


def split_packets(payload: bytes) -> list[bytes]:
    """TP.DT data fields for ``payload``: sequence byte + 7 bytes, the last padded."""
    out = []
    for index in range(packet_count(len(payload))):
        chunk = payload[index * BYTES_PER_PACKET : (index + 1) * BYTES_PER_PACKET]
        out.append(bytes([index + 1]) + chunk.ljust(BYTES_PER_PACKET, bytes([_PAD])))
    return out


def _dt_chunk(data: bytes) -> bytes:
    return bytes(data[1:8]).ljust(BYTES_PER_PACKET, bytes([_PAD]))


# --------------------------------------------------------------------------- sender


class TpSender:
    """Originator of one connection-mode transfer (RTS → CTS → DT… → EoMA).

    ``stop_after_packets`` injects a fault: after that many DT frames in total the sender
    goes silent (no more DT, no Abort on its own timeouts) but still records a peer's
    EoMA or Abort. ``dt_gap`` is the minimum spacing of DT frames (also across windows);
    with 0 a whole window is returned at once.
    """

    def __init__(
        self,
        pgn: int,
        payload: bytes,
        src: int,
        dst: int,
        *,
        timers: TpTimers = TpTimers(),
        priority: int = 7,
        max_packets_per_cts: int = 0xFF,
        dt_gap: float = 0.0,
        stop_after_packets: int | None = None,
    ) -> None:
        payload = bytes(payload)
        if not MIN_PAYLOAD <= len(payload) <= MAX_PAYLOAD:
            raise ValueError(
                f"TP payload must be {MIN_PAYLOAD}..{MAX_PAYLOAD} bytes, got {len(payload)}"
            )
        if dst == GLOBAL_ADDRESS:
            raise ValueError(
                "connection-mode transfer needs a specific destination (BAM unsupported)"
            )
        if not 1 <= max_packets_per_cts <= 0xFF:
            raise ValueError("max_packets_per_cts must be 1..255")
        if dt_gap < 0:
            raise ValueError("dt_gap must be >= 0")
        if stop_after_packets is not None and stop_after_packets < 0:
            raise ValueError("stop_after_packets must be >= 0")
        self.pgn = pgn
        self.payload = payload
        self.src = src
        self.dst = dst
        self.timers = timers
        self.priority = priority
        self.max_packets_per_cts = max_packets_per_cts
        self.dt_gap = dt_gap
        self.stop_after_packets = stop_after_packets
        self.packets = split_packets(payload)
        self.state = "idle"
        self.result: TpCompleted | TpAborted | None = None
        self.dt_sent = 0  # DT frames sent in total, retransmissions included
        self._started = 0.0
        self._deadline: float | None = None  # T3/T4 expiry
        self._holding = False
        self._next_seq = 1  # next DT sequence number to send
        self._window_end = 0  # last sequence number of the current window
        self._next_dt_at = 0.0
        self._last_dt_at: float | None = None

    # -- public -------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the transfer is over, completed or aborted (see ``result``)."""
        return self.state in ("done", "aborted")

    @property
    def silent(self) -> bool:
        """The ``stop_after_packets`` fault has kicked in: nothing more goes on the bus."""
        return self.stop_after_packets is not None and self.dt_sent >= self.stop_after_packets

    def start(self, now: float) -> list[Frame]:
        """The RTS. Starts T3."""
        if self.state != "idle":
            raise RuntimeError(f"TpSender.start() in state {self.state!r}")
        self._started = now
        self.state = "wait_cts"
        self._deadline = now + self.timers.t3
        data = encode_rts(len(self.payload), len(self.packets), self.pgn, self.max_packets_per_cts)
        return [self._frame(TP_CM_PGN, data, now)]

    def on_frame(self, frame: Frame, now: float) -> list[Frame]:
        """Handle a CTS, EoMA or Abort from ``dst`` to ``src`` for our PGN; ignore the rest."""
        if frame.pgn != TP_CM_PGN or frame.src != self.dst or frame.dst != self.src:
            return []
        cm = parse_cm(frame.data)
        if cm is None or cm.pgn != self.pgn or self.state in ("idle", "done", "aborted"):
            return []
        if cm.control is Control.ABORT:
            self._finish_aborted(cm.reason or 0, "peer", "Abort received from peer", now)
            return []
        if cm.control is Control.EOMA:
            if self.state == "wait_eoma":
                self.state = "done"
                self._deadline = None
                self.result = TpCompleted(
                    self.pgn, self.src, self.dst, self.payload, self._started, now
                )
            return []
        if cm.control is Control.CTS:
            return self._on_cts(cm, now)
        return []

    def poll(self, now: float) -> list[Frame]:
        """Due DT frames and T3/T4 expiry (→ Abort(TIMEOUT)); nothing once silent."""
        if self.silent:
            return []
        if self.state == "sending":
            return self._send_due(now)
        if self.state in ("wait_cts", "wait_eoma") and self._deadline is not None:
            if now >= self._deadline:
                if self._holding:
                    detail = f"T4: no CTS within {self.timers.t4:.3f} s after CTS(0)"
                elif self.state == "wait_eoma":
                    detail = f"T3: no EndOfMsgAck within {self.timers.t3:.3f} s after last DT"
                else:
                    detail = f"T3: no CTS within {self.timers.t3:.3f} s"
                return self.abort(now, AbortReason.TIMEOUT, detail)
        return []

    def next_deadline(self) -> float | None:
        if self.state == "sending":
            return None if self.silent else self._next_dt_at
        if self.state in ("wait_cts", "wait_eoma") and not self.silent:
            return self._deadline
        return None

    def abort(
        self, now: float, reason: int = AbortReason.RESOURCES, detail: str = "aborted locally"
    ) -> list[Frame]:
        """Abort the transfer from our side (also used on timer expiry)."""
        if self.state in ("idle", "done", "aborted"):
            return []
        silent = self.silent
        self._finish_aborted(int(reason), "local", detail, now)
        if silent:
            return []
        return [self._frame(TP_CM_PGN, encode_abort(reason, self.pgn), now)]

    # -- internals ----------------------------------------------------------------------

    def _frame(self, pgn: int, data: bytes, now: float) -> Frame:
        return Frame(self.priority, pgn, self.src, self.dst, data, now)

    def _finish_aborted(self, reason: int, by: str, detail: str, now: float) -> None:
        self.state = "aborted"
        self._deadline = None
        self.result = TpAborted(self.pgn, self.src, self.dst, reason, by, detail, now)

    def _on_cts(self, cm: TpCm, now: float) -> list[Frame]:
        if self.silent:
            return []
        if self.state == "sending":
            return self.abort(
                now, AbortReason.CTS_WHILE_SENDING, "CTS received while DT frames were due"
            )
        allowed = cm.packets or 0
        if allowed == 0:  # hold: wait for the next CTS up to T4
            self._holding = True
            self.state = "wait_cts"
            self._deadline = now + self.timers.t4
            return []
        total = len(self.packets)
        seq = cm.next_seq or 0
        if not 1 <= seq <= total:
            return []  # see module docstring: ignored, the running timer decides
        count = min(allowed, self.max_packets_per_cts, total - seq + 1)
        self._holding = False
        self._deadline = None
        self._next_seq = seq
        self._window_end = seq + count - 1
        # dt_gap is the minimum spacing of any two DT frames, across windows too
        last = self._last_dt_at
        self._next_dt_at = now if last is None else max(now, last + self.dt_gap)
        self.state = "sending"
        return self._send_due(now)

    def _send_due(self, now: float) -> list[Frame]:
        out: list[Frame] = []
        while (
            self.state == "sending"
            and not self.silent
            and self._next_seq <= self._window_end
            and now >= self._next_dt_at
        ):
            out.append(self._frame(TP_DT_PGN, self.packets[self._next_seq - 1], now))
            self.dt_sent += 1
            self._last_dt_at = now
            self._next_seq += 1
            self._next_dt_at = now + self.dt_gap
            if self._next_seq > self._window_end:
                self.state = "wait_eoma" if self._window_end == len(self.packets) else "wait_cts"
                self._deadline = now + self.timers.t3
            elif self.dt_gap > 0:
                break
        return out


# --------------------------------------------------------------------------- receiver


@dataclass
class _RxSession:
    src: int
    pgn: int
    size: int
    packets: int
    rts_max: int
    started: float
    chunks: list[bytes] = field(default_factory=list)
    state: str = "receiving"  # "receiving" | "holding"
    expected: int = 1  # next DT sequence number
    window_end: int = 0
    deadline: float = 0.0
    first_in_window: bool = True


class TpReceiver:
    """Responder for connection-mode transfers addressed to ``address``.

    One session per originator address. ``accept(pgn, size)`` returning False refuses an
    RTS with Abort(RESOURCES). :meth:`hold` makes the receiver answer with CTS(0) (repeated
    every Th) at the next window boundary until :meth:`release`.
    """

    def __init__(
        self,
        address: int,
        *,
        timers: TpTimers = TpTimers(),
        priority: int = 7,
        max_packets_per_cts: int = 0xFF,
        accept: Callable[[int, int], bool] | None = None,
    ) -> None:
        if not 1 <= max_packets_per_cts <= 0xFF:
            raise ValueError("max_packets_per_cts must be 1..255")
        self.address = address
        self.timers = timers
        self.priority = priority
        self.max_packets_per_cts = max_packets_per_cts
        self.accept = accept
        self._sessions: dict[int, _RxSession] = {}
        self._held: set[int] = set()

    # -- public -------------------------------------------------------------------------

    @property
    def sessions(self) -> dict[int, tuple[int, int]]:
        """Open sessions: originator address → (PGN, packets received so far)."""
        return {src: (s.pgn, len(s.chunks)) for src, s in self._sessions.items()}

    def on_frame(self, frame: Frame, now: float) -> tuple[list[Frame], list[TpEvent]]:
        if frame.dst != self.address or frame.src == self.address:
            return [], []
        if frame.pgn == TP_DT_PGN:
            return self._on_dt(frame, now)
        if frame.pgn != TP_CM_PGN:
            return [], []
        cm = parse_cm(frame.data)
        if cm is None:
            return [], []
        if cm.control is Control.RTS:
            return self._on_rts(frame.src, cm, now)
        if cm.control is Control.ABORT:
            session = self._sessions.get(frame.src)
            if session is None or session.pgn != cm.pgn:
                return [], []
            del self._sessions[frame.src]
            event = TpAborted(
                session.pgn,
                session.src,
                self.address,
                cm.reason or 0,
                "peer",
                "Abort received from originator",
                now,
            )
            return [], [event]
        return [], []  # CTS/EoMA are for a sender on this node; BAM is not addressed here

    def poll(self, now: float) -> tuple[list[Frame], list[TpEvent]]:
        """T1/T2 expiry → Abort(TIMEOUT); CTS(0) repeats every Th while holding."""
        frames: list[Frame] = []
        events: list[TpEvent] = []
        for src in sorted(self._sessions):
            session = self._sessions[src]
            if now < session.deadline:
                continue
            if session.state == "holding":
                frames.append(self._cm(src, encode_cts(0, session.expected, session.pgn), now))
                session.deadline = now + self.timers.th
                continue
            if session.first_in_window:
                detail = f"T2: no DT within {self.timers.t2:.3f} s after CTS"
            else:
                detail = (
                    f"T1: no DT {session.expected} within {self.timers.t1:.3f} s "
                    "after the previous DT"
                )
            f, e = self._abort(session, AbortReason.TIMEOUT, detail, now)
            frames += f
            events += e
        return frames, events

    def next_deadline(self) -> float | None:
        return min((s.deadline for s in self._sessions.values()), default=None)

    def hold(self, src: int) -> None:
        """Answer ``src`` with CTS(0) from its next window boundary (or RTS) on."""
        self._held.add(src)

    def release(self, src: int, now: float) -> list[Frame]:
        """Stop holding ``src``; if its session is held, send the CTS for the next window."""
        self._held.discard(src)
        session = self._sessions.get(src)
        if session is None or session.state != "holding":
            return []
        return [self._next_cts(session, now)]

    def abort(
        self,
        src: int,
        now: float,
        reason: int = AbortReason.RESOURCES,
        detail: str = "aborted locally",
    ) -> tuple[list[Frame], list[TpEvent]]:
        """Abort the session with originator ``src`` from our side."""
        session = self._sessions.get(src)
        if session is None:
            return [], []
        return self._abort(session, reason, detail, now)

    # -- internals ----------------------------------------------------------------------

    def _cm(self, dst: int, data: bytes, now: float) -> Frame:
        return Frame(self.priority, TP_CM_PGN, self.address, dst, data, now)

    def _abort(
        self, session: _RxSession, reason: int, detail: str, now: float
    ) -> tuple[list[Frame], list[TpEvent]]:
        self._sessions.pop(session.src, None)
        frame = self._cm(session.src, encode_abort(reason, session.pgn), now)
        event = TpAborted(session.pgn, session.src, self.address, int(reason), "local", detail, now)
        return [frame], [event]

    def _refuse(
        self, src: int, pgn: int, reason: int, detail: str, now: float
    ) -> tuple[list[Frame], list[TpEvent]]:
        frame = self._cm(src, encode_abort(reason, pgn), now)
        return [frame], [TpAborted(pgn, src, self.address, int(reason), "local", detail, now)]

    def _on_rts(self, src: int, cm: TpCm, now: float) -> tuple[list[Frame], list[TpEvent]]:
        size = cm.total_size or 0
        packets = cm.packets or 0
        events: list[TpEvent] = []
        current = self._sessions.get(src)
        if current is not None:
            if current.pgn != cm.pgn:
                return self._refuse(
                    src,
                    cm.pgn,
                    AbortReason.ALREADY_IN_SESSION,
                    f"RTS for PGN 0x{cm.pgn:04X} while PGN 0x{current.pgn:04X} is in session",
                    now,
                )
            del self._sessions[src]
            events.append(
                TpAborted(
                    current.pgn,
                    src,
                    self.address,
                    NO_ABORT_FRAME,
                    "peer",
                    "session restarted by a new RTS for the same PGN",
                    now,
                )
            )
        if not 1 <= size <= MAX_PAYLOAD or packets != packet_count(size):
            frames, refused = self._refuse(
                src,
                cm.pgn,
                AbortReason.RESOURCES,
                f"malformed RTS: size {size}, packets {packets}",
                now,
            )
            return frames, events + refused
        if self.accept is not None and not self.accept(cm.pgn, size):
            frames, refused = self._refuse(
                src,
                cm.pgn,
                AbortReason.RESOURCES,
                f"RTS for PGN 0x{cm.pgn:04X} ({size} bytes) not accepted",
                now,
            )
            return frames, events + refused
        session = _RxSession(
            src=src,
            pgn=cm.pgn,
            size=size,
            packets=packets,
            rts_max=cm.max_packets or 0xFF,
            started=now,
        )
        self._sessions[src] = session
        return [self._next_cts(session, now)], events

    def _next_cts(self, session: _RxSession, now: float) -> Frame:
        """CTS for the window starting at ``session.expected`` (CTS(0) when held)."""
        if session.src in self._held:
            session.state = "holding"
            session.deadline = now + self.timers.th
            return self._cm(session.src, encode_cts(0, session.expected, session.pgn), now)
        remaining = session.packets - session.expected + 1
        count = min(remaining, self.max_packets_per_cts, session.rts_max)
        session.state = "receiving"
        session.window_end = session.expected + count - 1
        session.first_in_window = True
        session.deadline = now + self.timers.t2
        return self._cm(session.src, encode_cts(count, session.expected, session.pgn), now)

    def _on_dt(self, frame: Frame, now: float) -> tuple[list[Frame], list[TpEvent]]:
        session = self._sessions.get(frame.src)
        if session is None or len(frame.data) < 2:
            return [], []
        seq = frame.data[0]
        if session.state != "receiving" or seq != session.expected:
            what = "while holding" if session.state == "holding" else "out of sequence"
            return self._abort(
                session,
                AbortReason.MAX_RETRANSMIT,
                f"DT {seq} {what}: expected {session.expected} (no retransmit requests)",
                now,
            )
        session.chunks.append(_dt_chunk(frame.data))
        session.expected += 1
        session.first_in_window = False
        if seq == session.packets:
            del self._sessions[frame.src]
            payload = b"".join(session.chunks)[: session.size]
            eoma = self._cm(frame.src, encode_eoma(session.size, session.packets, session.pgn), now)
            done = TpCompleted(
                session.pgn, session.src, self.address, payload, session.started, now
            )
            return [eoma], [done]
        if seq == session.window_end:
            return [self._next_cts(session, now)], []
        session.deadline = now + self.timers.t1
        return [], []


# --------------------------------------------------------------------------- monitor


@dataclass
class _MonSession:
    src: int
    dst: int
    pgn: int
    size: int
    packets: int
    started: float
    last: float
    chunks: dict[int, bytes] = field(default_factory=dict)


class TpMonitor:
    """Passive reassembly of RTS/CTS and BAM transfers seen on the bus (both directions).

    Uses ``frame.timestamp``. DT frames go to the transfer the responder last sent a CTS
    for (or the last BAM of that source). A transfer is complete when every packet has
    arrived (EoMA is not required; retransmitted packets overwrite). Transfers with no
    traffic for ``stale_after`` seconds (default: longest timer + Tr) are reported as
    ``TpAborted(by="monitor", reason=TIMEOUT)``; :meth:`flush` reports what is still open.
    Garbage is ignored; nothing here raises on bus data.
    """

    def __init__(
        self,
        *,
        timers: TpTimers = TpTimers(),
        stale_after: float | None = None,
    ) -> None:
        if stale_after is None:
            stale_after = max(timers.t1, timers.t2, timers.t3, timers.t4) + timers.tr
        self.stale_after = stale_after
        # (originator, responder or GLOBAL for BAM) → PGN → session
        self._sessions: dict[tuple[int, int], dict[int, _MonSession]] = {}
        self._active: dict[tuple[int, int], int] = {}

    def on_frame(self, frame: Frame) -> list[TpEvent]:
        if frame.pgn not in (TP_CM_PGN, TP_DT_PGN):
            return []
        try:
            now = float(frame.timestamp)
            data = bytes(frame.data)
        except (TypeError, ValueError):
            return []
        return self._on_frame(frame, data, now)

    def flush(self, now: float | None = None) -> list[TpEvent]:
        """Report every open transfer as aborted (end of capture) and forget them."""
        out: list[TpEvent] = []
        for key in sorted(self._sessions):
            for pgn in sorted(self._sessions[key]):
                s = self._sessions[key][pgn]
                out.append(
                    self._inferred(
                        s,
                        NO_ABORT_FRAME,
                        f"open at end of capture ({len(s.chunks)}/{s.packets} packets)",
                        s.last if now is None else now,
                    )
                )
        self._sessions.clear()
        self._active.clear()
        return out

    # -- internals ----------------------------------------------------------------------

    @staticmethod
    def _inferred(s: _MonSession, reason: int, detail: str, at: float) -> TpAborted:
        return TpAborted(s.pgn, s.src, s.dst, reason, "monitor", detail, at)

    def _drop(self, key: tuple[int, int], pgn: int) -> None:
        group = self._sessions.get(key)
        if group is None:
            return
        group.pop(pgn, None)
        if not group:
            del self._sessions[key]
        if self._active.get(key) == pgn:
            del self._active[key]

    def _expire(self, now: float) -> list[TpEvent]:
        out: list[TpEvent] = []
        for key in sorted(self._sessions):
            for pgn in sorted(self._sessions[key]):
                s = self._sessions[key][pgn]
                if now - s.last > self.stale_after:
                    out.append(
                        self._inferred(
                            s,
                            AbortReason.TIMEOUT,
                            f"no traffic for {self.stale_after:.3f} s "
                            f"({len(s.chunks)}/{s.packets} packets)",
                            s.last + self.stale_after,
                        )
                    )
                    self._drop(key, pgn)
        return out

    def _on_frame(self, frame: Frame, data: bytes, now: float) -> list[TpEvent]:
        events = self._expire(now)
        if frame.pgn == TP_DT_PGN:
            return events + self._on_dt(frame.src, frame.dst, data, now)
        cm = parse_cm(data)
        if cm is None:
            return events
        src, dst = frame.src, frame.dst
        if cm.control in (Control.RTS, Control.BAM):
            broadcast = cm.control is Control.BAM
            if broadcast != (dst == GLOBAL_ADDRESS):
                return events  # RTS must be addressed, BAM must be global
            size, packets = cm.total_size or 0, cm.packets or 0
            if not 1 <= size <= MAX_PAYLOAD or packets != packet_count(size):
                return events
            key = (src, dst)
            group = self._sessions.setdefault(key, {})
            old = group.get(cm.pgn)
            if broadcast:  # one BAM per source at a time: a new one replaces any other
                for pgn in sorted(group):
                    s = group[pgn]
                    events.append(self._inferred(s, NO_ABORT_FRAME, "replaced by a new BAM", now))
                group.clear()
            elif old is not None:
                events.append(
                    self._inferred(
                        old, NO_ABORT_FRAME, "restarted by a new RTS for the same PGN", now
                    )
                )
            group[cm.pgn] = _MonSession(src, dst, cm.pgn, size, packets, now, now)
            if broadcast:
                self._active[key] = cm.pgn
            elif self._active.get(key) == cm.pgn:
                del self._active[key]  # DT only after the responder's CTS
            return events
        if cm.control is Control.CTS:
            key = (dst, src)  # the responder sends CTS to the originator
            s = self._sessions.get(key, {}).get(cm.pgn)
            if s is not None:
                s.last = now
                self._active[key] = cm.pgn
            return events
        if cm.control is Control.ABORT:
            for key, by in (((src, dst), "originator"), ((dst, src), "responder")):
                s = self._sessions.get(key, {}).get(cm.pgn)
                if s is not None:
                    self._drop(key, cm.pgn)
                    events.append(
                        TpAborted(
                            s.pgn,
                            s.src,
                            s.dst,
                            cm.reason or 0,
                            by,
                            f"Abort from {by} ({len(s.chunks)}/{s.packets} packets)",
                            now,
                        )
                    )
                    break
            return events
        return events  # EoMA: completion does not depend on it

    def _on_dt(self, src: int, dst: int, data: bytes, now: float) -> list[TpEvent]:
        key = (src, dst)
        pgn = self._active.get(key)
        if pgn is None or len(data) < 2:
            return []
        s = self._sessions.get(key, {}).get(pgn)
        if s is None:
            return []
        seq = data[0]
        s.last = now
        if not 1 <= seq <= s.packets:
            return []
        s.chunks[seq] = _dt_chunk(data)
        if len(s.chunks) < s.packets:
            return []
        self._drop(key, pgn)
        payload = b"".join(s.chunks[i] for i in range(1, s.packets + 1))[: s.size]
        return [TpCompleted(s.pgn, s.src, s.dst, payload, s.started, now)]
