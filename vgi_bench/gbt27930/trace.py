"""Recorded GB/T 27930 sessions: decode a CAN log, mark phases and violations, judge it.

A lab often holds a capture taken elsewhere (CANalyzer ``.asc``/``.blf``, PCAN ``.trc``,
candump ``.log``, a CSV export) and needs to know what happened on the bus and whether
the charger behaved. Everything here works from the frame timestamps in the file and
sends nothing. Decoding and transport reassembly are the live bench's own
(:class:`~vgi_bench.can.capture.Capture`), so a trace reads a frame exactly as a conformance
case reads it.

Three layers, each a list of plain data so more can be added without touching the loop:

* :data:`MESSAGE_PHASE` / :data:`SESSION_STARTS` — which phase a message belongs to and
  which messages start a new session; the phase of each entry follows from them.
* :data:`RULES` — per-frame violations (late frame, wrong length, undecodable value).
* :data:`CHECKS` — passive checks over the whole trace (periods, order, values, the
  charger's timeouts), each result saying ``expected ...; saw ...``.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import can

from vgi_bench.can.capture import Capture, Record
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.transport import TP_DT_PGN, parse_cm
from vgi_bench.gbt27930.messages import Decoded, DecodeError, MessageSpec, MessageTable, Value
from vgi_bench.gbt27930.timeouts import Timeout, TimingTable, timing_2015
from vgi_bench.timing import Latency, period_stats

# ====================================================================== reading logs

#: The formats python-can reads without extra packages (``.gz`` of each works too).
SUPPORTED_SUFFIXES: tuple[str, ...] = (".asc", ".blf", ".log", ".trc", ".csv")

#: python-can readers that log (instead of raising) on a line they skip; a trace reports
#: a bad file in one line of its own, so these per-line warnings are held back.
_READER_LOGGERS = ("can.io.asc", "can.io.trc", "can.io.canutils", "can.io.blf", "can.io.csv")


class TraceError(Exception):
    """A log that cannot be read; the text is one line naming the file and the reason."""


def read_log(path: str | Path) -> Iterator[can.Message]:
    """The frames of a CAN log, in file order, read with python-can's ``LogReader``.

    The path and format are checked at once (:class:`TraceError`); a file that turns out
    to be corrupt raises :class:`TraceError` while iterating, naming how many frames
    were read before, and a file holding no frame at all is refused the same way. ASC
    timestamps are made absolute from the file's header where it has one.
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    fmt = suffixes[-2] if suffixes[-1:] == [".gz"] and len(suffixes) == 2 else path.suffix.lower()
    if fmt not in SUPPORTED_SUFFIXES:
        shown = "".join(suffixes) or "no suffix"
        raise TraceError(
            f"{path}: unsupported log format ({shown}); supported: "
            f"{', '.join(SUPPORTED_SUFFIXES)} (also gzipped)"
        )
    if not path.exists():
        raise TraceError(f"{path}: no such file")
    if not path.is_file():
        raise TraceError(f"{path}: not a file")
    return _read(path, fmt)


def _read(path: Path, fmt: str) -> Iterator[can.Message]:
    kwargs: dict[str, Any] = {}
    if fmt == ".asc":
        kwargs["relative_timestamp"] = False  # absolute times from "Begin Triggerblock"
    if fmt != ".blf":
        kwargs["encoding"] = "utf-8"
    count = 0
    with _held_back(_READER_LOGGERS):
        try:
            for msg in _messages(path, kwargs):
                count += 1
                yield msg
        except Exception as exc:  # python-can raises anything from struct.error to zlib.error
            where = f"after {count} frames" if count else "at the start"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TraceError(
                f"{path}: not a readable {fmt[1:].upper()} log ({where}): {reason}"
            ) from None
    if count == 0:
        raise TraceError(f"{path}: no CAN frames in this {fmt[1:].upper()} file")


def _messages(path: Path, kwargs: dict[str, Any]) -> Iterator[can.Message]:
    """LogReader; an ASC whose header date python-can cannot parse (a localised date) is
    read again with relative times, if that happened before its first frame."""
    reader = can.LogReader(path, **kwargs)
    count = 0
    try:
        for msg in reader:
            count += 1
            yield msg
        return
    except ValueError as exc:
        if count or not str(exc).startswith("Incompatible datetime string"):
            raise
    finally:
        reader.stop()
    kwargs = {**kwargs, "relative_timestamp": True}
    reader = can.LogReader(path, **kwargs)
    try:
        yield from reader
    finally:
        reader.stop()


@contextlib.contextmanager
def _held_back(logger_names: Iterable[str]) -> Iterator[None]:
    """Drop log records of ``logger_names`` made by this thread while the block runs.

    Thread-local on purpose: a live capture in another thread keeps its warnings.
    """
    thread = threading.get_ident()

    def keep(record: logging.LogRecord) -> bool:
        return record.thread != thread

    loggers = [logging.getLogger(name) for name in logger_names]
    for lg in loggers:
        lg.addFilter(keep)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(keep)


# ====================================================================== phases

#: Phases in the order a session goes through them (reference §3); ``idle`` = nothing
#: recognised yet.
PHASES: tuple[str, ...] = (
    "idle",
    "handshake",
    "identification",
    "configuration",
    "charging",
    "end",
    "error",
)
_RANK = MappingProxyType({phase: rank for rank, phase in enumerate(PHASES)})

#: The phase each message belongs to. A session's phase is the latest phase of any
#: message seen in it, so a CRO(0xAA) still repeated after the first BCL stays in
#: "charging", and nothing moves a session out of "error" but a new session.
MESSAGE_PHASE: Mapping[str, str] = MappingProxyType(
    {
        "CHM": "handshake",
        "BHM": "handshake",
        "CRM": "identification",
        "BRM": "identification",
        "BCP": "configuration",
        "CTS": "configuration",
        "CML": "configuration",
        "BRO": "configuration",
        "CRO": "configuration",
        "BCL": "charging",
        "BCS": "charging",
        "BSM": "charging",
        "CCS": "charging",
        "BMV": "charging",
        "BMT": "charging",
        "BSP": "charging",
        "BST": "end",
        "CST": "end",
        "BSD": "end",
        "CSD": "end",
        "BEM": "error",
        "CEM": "error",
    }
)

#: Messages that start a new session when seen after their own phase: a charger starts
#: over with CHM (re-plug) or, after an error, with CRM(0x00) (reference §3). ``None``:
#: any content; else (signal, value) the message must carry.
SESSION_STARTS: Mapping[str, tuple[str, Value] | None] = MappingProxyType(
    {"CHM": None, "CRM": ("recognition", 0x00)}
)

#: A bus quiet this long has no session on it (four times the longest period of a
#: mandatory message, 500 ms): what comes next is a new session, and no gap is measured
#: across the silence.
QUIET_RESTART_S = 2.0

#: Frames are decoded in timestamp order, not file order: a log's writer may have got
#: them a little out of order (a software echo of a node's own frames, several threads
#: or channels merged), and a CTS read before its RTS would lose the transfer. A frame
#: is held until one this much newer has been read.
REORDER_WINDOW_S = 0.1

#: The largest 29-bit identifier: a log line with a larger one is corrupt (and cantools
#: refuses to unpack it).
MAX_29BIT_ID = 0x1FFFFFFF

#: Direction labels by source address (GB/T 27930 fixes both addresses).
_DIRECTIONS = MappingProxyType({CHARGER_ADDRESS: "C→B", BMS_ADDRESS: "B→C"})
#: Who sends each side's messages: the table's ``sender`` as a source address.
SENDER_ADDRESS = MappingProxyType({"charger": CHARGER_ADDRESS, "bms": BMS_ADDRESS})


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule a frame broke: the rule's name and why, with the figures."""

    rule: str
    reason: str


@dataclass(slots=True)
class TraceEntry:
    """One message of a trace: what the capture made of a frame, and where it sits.

    ``time`` is seconds since the first frame of the log; ``timestamp`` the absolute bus
    timestamp as the file has it (for a reassembled transfer: of its last DT). ``run``
    numbers the stretches of constant phase across the whole log, so two entries with
    the same ``run`` had no phase change or new session between them. The fields are
    copied out of the capture's record (slots, shared payloads and decodes), so a long
    log costs a couple of hundred bytes per frame.
    """

    timestamp: float
    origin: float  # timestamp of the log's first frame
    src: int
    dst: int
    pgn: int
    data: bytes
    label: str | None  # the capture's name: message, TP.xx, or None (foreign PGN)
    decoded: Decoded | DecodeError | None  # None for transport frames
    spec: MessageSpec | None  # the table's message, None for transport/foreign frames
    via_tp: bool
    phase: str
    session: int
    run: int
    violations: tuple[Violation, ...] = ()

    @property
    def time(self) -> float:
        return self.timestamp - self.origin

    @property
    def name(self) -> str:
        """Message name, ``TP.RTS``/``TP.DT``/..., or ``PGN 0x1234`` for a foreign PGN."""
        return self.label or f"PGN 0x{self.pgn:04X}"

    @property
    def known(self) -> bool:
        """A GB/T 27930 message (not transport, not a foreign PGN)."""
        return self.spec is not None

    @property
    def direction(self) -> str:
        return _DIRECTIONS.get(self.src) or f"{self.src:02X}→{self.dst:02X}"

    @property
    def tp(self) -> bool:
        """A transport frame (TP.CM or TP.DT), kept in the trace but not a message."""
        return self.decoded is None

    @property
    def ok(self) -> bool:
        return isinstance(self.decoded, Decoded)

    @property
    def values(self) -> dict[str, Value]:
        return self.decoded.values if isinstance(self.decoded, Decoded) else {}

    @property
    def error(self) -> str | None:
        return self.decoded.reason if isinstance(self.decoded, DecodeError) else None


# ====================================================================== rules


@dataclass(frozen=True)
class RuleContext:
    """What a rule may look at besides the entry: the table, tolerance and history."""

    table: MessageTable
    period_rel: float
    jitter_s: float = 0.0
    history: dict[tuple[str, int], TraceEntry] = field(default_factory=dict)

    def previous(self, entry: TraceEntry) -> TraceEntry | None:
        """The last entry of the same message from the same source with no phase change
        or session restart in between (``None`` otherwise)."""
        prev = self.history.get((entry.name, entry.src))
        return prev if prev is not None and prev.run == entry.run else None

    def remember(self, entry: TraceEntry) -> None:
        self.history[(entry.name, entry.src)] = entry


@dataclass(frozen=True)
class Rule:
    """A per-frame rule: ``check`` returns why the entry breaks it, or ``None``."""

    name: str
    checks: str
    check: Callable[[TraceEntry, RuleContext], str | None]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _rule_late(entry: TraceEntry, ctx: RuleContext) -> str | None:
    spec = entry.spec
    if spec is None or spec.period_s is None:
        return None
    prev = ctx.previous(entry)
    if prev is None:
        return None
    gap = entry.timestamp - prev.timestamp
    limit = spec.period_s * (1 + ctx.period_rel) + ctx.jitter_s
    if gap <= limit:
        return None
    jitter = f" + {ctx.jitter_s * 1000:g} ms jitter" if ctx.jitter_s else ""
    return (
        f"gap {_ms(gap)} since the previous {entry.name} > {_ms(limit)} "
        f"(period {spec.period_s * 1000:g} ms +{ctx.period_rel:.0%}{jitter})"
    )


def _rule_length(entry: TraceEntry, ctx: RuleContext) -> str | None:
    spec = entry.spec
    if spec is None:
        return None
    n = len(entry.data)
    if spec.min_length <= n <= spec.max_length:
        return None
    expected = (
        str(spec.length)
        if spec.min_length == spec.max_length
        else f"{spec.min_length}..{spec.max_length}"
    )
    return f"length {n}, table {expected}"


def _rule_value(entry: TraceEntry, ctx: RuleContext) -> str | None:
    spec = entry.spec
    if spec is None or entry.error is None or _rule_length(entry, ctx):
        return None  # a wrong length is the length rule's
    return entry.error


#: Per-frame rules, applied in order to every entry; add a :class:`Rule` to extend.
RULES: tuple[Rule, ...] = (
    Rule(
        "late",
        "gap since the previous frame of the same message and source, within one phase "
        "of one session, at most the table period × (1 + tolerance.period_rel) "
        "(+ the timestamp jitter allowed, 0 unless asked for)",
        _rule_late,
    ),
    Rule("length", "frame length within the table's length range", _rule_length),
    Rule("value", "every field decodes: defined codes, values in range", _rule_value),
)


# ====================================================================== decoding


class _MemoTable:
    """A table whose decode results are remembered per (PGN, payload); everything else
    is the wrapped table's own.

    Recorded traffic repeats the same few hundred payloads; decoding each once keeps a
    long trace fast and lets its entries share one :class:`Decoded` per payload.
    """

    LIMIT = 1 << 16

    def __init__(self, table: MessageTable) -> None:
        self._table = table
        self._memo: dict[tuple[int, bytes], Decoded | DecodeError] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def decode(self, pgn: int, data: bytes) -> Decoded | DecodeError:
        key = (pgn, bytes(data))
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= self.LIMIT:
                self._memo.clear()
            found = self._memo[key] = self._table.decode(pgn, data)
        return found


class _PhaseTracker:
    """Session number, phase and phase run as messages go by (see :data:`MESSAGE_PHASE`)."""

    def __init__(self) -> None:
        self.session = 1
        self.phase = "idle"
        self.run = 0
        self._last_time: float | None = None

    def see(self, rec: Record) -> None:
        t = rec.frame.timestamp
        if self._last_time is not None and t - self._last_time > QUIET_RESTART_S:
            self._restart("idle")
        self._last_time = t
        name = rec.name or ""
        phase = MESSAGE_PHASE.get(name)
        if phase is None:
            return
        if name in SESSION_STARTS and _RANK[self.phase] > _RANK[phase]:
            want = SESSION_STARTS[name]
            if want is None or rec.values.get(want[0]) == want[1]:
                self._restart(phase)
                return
        if _RANK[phase] > _RANK[self.phase]:
            self.phase = phase
            self.run += 1

    def _restart(self, phase: str) -> None:
        self.session += 1
        self.phase = phase
        self.run += 1


def decode_log(
    messages: Iterable[can.Message],
    table: MessageTable | None = None,
    *,
    period_rel: float | None = None,
    jitter_s: float = 0.0,
    rules: Sequence[Rule] = RULES,
) -> list[TraceEntry]:
    """Every J1939 frame of ``messages`` as a :class:`TraceEntry`, plus one entry per
    completed transport transfer, in timestamp order (see :data:`REORDER_WINDOW_S`),
    with phase, session and violations.

    ``period_rel`` is the late-frame tolerance (default: the timeouts table's
    ``tolerance.period_rel``); ``jitter_s`` is added to each gap limit for logs whose
    timestamps are noisier than the DUT (a host-stamped USB adapter, a loaded PC).
    11-bit, error and remote frames are not J1939 and are left out. Reading errors of
    :func:`read_log` propagate as :class:`TraceError`.
    """
    table = table or MessageTable.gbt27930_2015()
    if period_rel is None:
        period_rel = timing_2015().tolerance.period_rel
    capture = Capture(cast(MessageTable, _MemoTable(table)))
    ctx = RuleContext(table, period_rel, jitter_s)
    tracker = _PhaseTracker()
    entries: list[TraceEntry] = []
    t0: float | None = None
    by_pgn = table.by_pgn
    with _held_back(["vgi_bench.can.capture"]):  # decode errors are in the entries already
        for msg in _in_time_order(messages, REORDER_WINDOW_S):
            frame = Frame.from_can(msg)
            if frame is None:
                continue
            if t0 is None:
                t0 = frame.timestamp
            for rec in capture.add_frame(frame):
                tracker.see(rec)
                f, decoded = rec.frame, rec.decoded
                known = decoded is not None and decoded.name is not None
                entry = TraceEntry(
                    f.timestamp,
                    t0,
                    f.src,
                    f.dst,
                    f.pgn,
                    f.data if decoded is None else decoded.raw,  # shared per payload
                    rec.name,
                    decoded,
                    by_pgn(f.pgn) if known else None,
                    rec.via_tp,
                    tracker.phase,
                    tracker.session,
                    tracker.run,
                )
                if rules:
                    entry.violations = tuple(
                        Violation(rule.name, reason)
                        for rule in rules
                        if (reason := rule.check(entry, ctx)) is not None
                    )
                ctx.remember(entry)
                entries.append(entry)
            # The entries hold what the trace needs; the capture's own copy would double
            # the memory of a long log. Nothing here waits on the capture.
            capture.records.clear()
    return entries


def _in_time_order(messages: Iterable[can.Message], window: float) -> Iterator[can.Message]:
    """``messages`` sorted by timestamp within ``window`` (equal stamps keep file order);
    frames with an identifier no CAN frame can have (a corrupt line) are left out."""
    held: list[tuple[float, int, can.Message]] = []
    newest = -math.inf
    for seq, msg in enumerate(messages):
        if not 0 <= msg.arbitration_id <= MAX_29BIT_ID:
            continue
        heapq.heappush(held, (msg.timestamp, seq, msg))
        newest = max(newest, msg.timestamp)
        while held and held[0][0] <= newest - window:
            yield heapq.heappop(held)[2]
    while held:
        yield heapq.heappop(held)[2]


# ====================================================================== presenting


#: Fields people read in hex (the standard prints them so).
HEX_SIGNALS = frozenset({"protocol_version"})


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def format_value(spec: MessageSpec, name: str, value: Value) -> str:
    """One decoded value as text: codes in hex (``0xAA``), numbers with their unit."""
    sig = spec.signal(name)
    if isinstance(value, bytes):
        return value.hex().upper()
    if isinstance(value, str):
        return value if value and " " not in value else repr(value)
    if value is None:
        return "n/a"
    if isinstance(value, int) and (sig.name in HEX_SIGNALS or (sig.choices and sig.bits >= 8)):
        return f"0x{value:0{(sig.bits + 3) // 4}X}"
    return f"{_fmt_number(value)}{sig.unit}"


def tp_details(entry: TraceEntry, table: MessageTable) -> dict[str, Any]:
    """What a transport frame says: control, carried message, size/packets, sequence."""
    if entry.pgn == TP_DT_PGN:
        return {"seq": entry.data[0]} if entry.data else {}
    cm = parse_cm(entry.data)
    if cm is None:
        return {}
    spec = table.by_pgn(cm.pgn)
    out: dict[str, Any] = {"message": spec.name if spec else f"PGN 0x{cm.pgn:04X}"}
    for key in ("total_size", "packets", "max_packets", "next_seq", "reason"):
        value = getattr(cm, key)
        if value is not None:
            out[key] = value
    return out


def format_values(entry: TraceEntry, table: MessageTable | None = None) -> str:
    """The entry's content in one line: ``recognition=0xAA charger_number=1``.

    Fields not available (all ones) are left out; an undecodable frame shows its reason
    and bytes; a transport frame what it carries.
    """
    table = table or MessageTable.gbt27930_2015()
    if entry.tp:
        return " ".join(f"{k}={v}" for k, v in tp_details(entry, table).items())
    if entry.error is not None:
        return f"error: {entry.error}; data={entry.data.hex(' ').upper()}"
    spec = entry.spec
    if spec is None:
        return f"data={entry.data.hex(' ').upper()}"
    return " ".join(
        f"{name}={format_value(spec, name, value)}"
        for name, value in entry.values.items()
        if value is not None
    )


def _json_value(value: Value) -> Any:
    return value.hex().upper() if isinstance(value, bytes) else value


def entry_dict(entry: TraceEntry, table: MessageTable | None = None) -> dict[str, Any]:
    """A JSON-ready view of one entry (bytes as hex)."""
    table = table or MessageTable.gbt27930_2015()
    out: dict[str, Any] = {
        "time": round(entry.time, 6),
        "timestamp": entry.timestamp,
        "direction": entry.direction,
        "src": entry.src,
        "dst": entry.dst,
        "name": entry.name,
        "pgn": entry.pgn,
        "data": entry.data.hex().upper(),
        "tp": entry.tp,
        "via_tp": entry.via_tp,
        "phase": entry.phase,
        "session": entry.session,
        "values": {k: _json_value(v) for k, v in entry.values.items() if v is not None},
        "error": entry.error,
        "violations": [{"rule": v.rule, "reason": v.reason} for v in entry.violations],
    }
    if entry.tp:
        out["transport"] = tp_details(entry, table)
    return out


def summarise(entries: Sequence[TraceEntry]) -> dict[str, Any]:
    """Counts for a trace's last line: frames, messages, sessions, phases, violations.

    ``phases`` is the sequence the log went through (each change once, all sessions).
    """
    phases: list[str] = []
    for e in entries:
        if e.phase != "idle" and (not phases or phases[-1] != e.phase):
            phases.append(e.phase)
    return {
        "frames": sum(not e.via_tp for e in entries),
        "messages": sum(e.known for e in entries),
        "transport_frames": sum(e.tp for e in entries),
        "foreign_frames": sum(not e.known and not e.tp for e in entries),
        "decode_errors": sum(e.error is not None for e in entries if e.known),
        "sessions": len({e.session for e in entries}),
        "phases": phases,
        "violations": sum(len(e.violations) for e in entries),
        "duration_s": round(entries[-1].time, 6) if entries else 0.0,
    }


# ====================================================================== passive checks


class Verdict(str, Enum):
    """In order of precedence when several results are folded into one."""

    FAILED = "failed"
    PASSED = "passed"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class CheckResult:
    """One passive check: ``message`` says ``expected ...; saw ...``."""

    name: str
    verdict: Verdict
    message: str
    measurement: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "message": self.message,
            "measurement": dict(self.measurement),
        }


class _Session:
    """The entries of one session, indexed by message name for the checks' look-ups
    (a day-long log has thousands of sessions and the checks ask dozens of questions)."""

    def __init__(self, number: int, entries: list[TraceEntry], senders: Mapping[str, int]):
        self.number = number
        self.entries = entries
        self.end = entries[-1].timestamp
        self.senders = senders
        self._by_name: dict[str, list[tuple[int, TraceEntry]]] = {}
        for position, e in enumerate(entries):
            if not e.tp:
                self._by_name.setdefault(e.name, []).append((position, e))

    def found(self, match: Match, after: float | None = None) -> Iterator[tuple[int, TraceEntry]]:
        """(position in the session, entry) of each match at or after ``after``."""
        for position, e in self._by_name.get(match.name, ()):
            if (after is None or e.timestamp >= after) and match.matches(e, self.senders):
                yield position, e

    def where(self, match: Match, after: float | None = None) -> Iterator[TraceEntry]:
        return (e for _, e in self.found(match, after))

    def first(self, match: Match, after: float | None = None) -> TraceEntry | None:
        return next(self.where(match, after), None)

    def counts(self, sender: int) -> str:
        """What ``sender`` sent in this session, most frequent first: ``CRM×24, CEM×3``."""
        counts: dict[str, int] = {}
        for e in self.entries:
            if e.src == sender and not e.tp:
                counts[e.name] = counts.get(e.name, 0) + 1
        items = sorted(counts.items(), key=lambda kv: -kv[1])[:6]
        return ", ".join(f"{n}×{c}" for n, c in items) or "nothing"


@dataclass(frozen=True)
class Match:
    """A message from its owner (the table's sender), optionally with given values.

    ``any_content`` also takes frames that failed to decode (a frame still shows that
    the sender is sending); otherwise only decoded frames count.
    """

    name: str
    values: Mapping[str, Value] = field(default_factory=dict)
    label: str = ""
    any_content: bool = False

    def __str__(self) -> str:
        if self.label:
            return self.label
        shown = ", ".join(
            f"0x{v:02X}" if isinstance(v, int) else str(v) for v in self.values.values()
        )
        return f"{self.name}({shown})" if shown else self.name

    def matches(self, e: TraceEntry, senders: Mapping[str, int]) -> bool:
        if e.name != self.name or e.tp or e.src != senders.get(self.name):
            return False
        if not e.ok:
            return self.any_content and not self.values
        return all(e.values.get(k) == v for k, v in self.values.items())


@dataclass(frozen=True)
class CheckContext:
    """The trace split into sessions, with the tables the checks read."""

    entries: Sequence[TraceEntry]
    table: MessageTable
    timing: TimingTable
    sessions: tuple[_Session, ...]

    @classmethod
    def build(
        cls, entries: Sequence[TraceEntry], table: MessageTable, timing: TimingTable
    ) -> CheckContext:
        senders = {spec.name: SENDER_ADDRESS[spec.sender] for spec in table}
        grouped: dict[int, list[TraceEntry]] = {}
        for e in entries:
            grouped.setdefault(e.session, []).append(e)
        sessions = tuple(_Session(n, es, senders) for n, es in grouped.items())
        return cls(entries, table, timing, sessions)


@dataclass(frozen=True)
class Check:
    """A passive check over a whole trace; ``run`` returns one result or several."""

    name: str
    checks: str
    run: Callable[[CheckContext], list[CheckResult]]


def _expected_saw(expected: str, saw: str) -> str:
    return f"expected {expected}; saw {saw}"


# ---------------------------------------------------------------------- periods

#: Messages whose content switches state (0x00 → 0xAA) and which are sent at once on the
#: switch: gaps are measured only between frames in the same state.
STATE_SIGNALS: Mapping[str, str] = MappingProxyType(
    {"CRM": "recognition", "BRO": "bms_ready", "CRO": "charger_ready"}
)
#: Frames needed before a mean period means anything (as the live period checks).
MIN_PERIOD_FRAMES = 5


def _check_periods(ctx: CheckContext) -> list[CheckResult]:
    """Mean gap per message within ±period_rel of the table period, like the live
    ``check_period``: gaps only within one phase of one session and one state."""
    tol = ctx.timing.tolerance.period_rel
    by_name: dict[str, list[TraceEntry]] = {}
    for e in ctx.entries:
        if e.known and not e.tp:
            by_name.setdefault(e.name, []).append(e)
    results = []
    for spec in ctx.table:
        seen = [e for e in by_name.get(spec.name, ()) if e.src == SENDER_ADDRESS[spec.sender]]
        if not seen or spec.period_s is None:
            continue
        key = STATE_SIGNALS.get(spec.name)
        labels = [(e.session, e.run, e.values.get(key) if key else None) for e in seen]
        ids: dict[tuple[Any, ...], int] = {}
        segments = [ids.setdefault(label, len(ids)) for label in labels]
        stats = period_stats([e.timestamp for e in seen], spec.period_s, segments=segments)
        expected = f"{spec.name} every {spec.period_s * 1000:g} ms (mean within ±{tol:.0%})"
        name = f"period.{spec.name}"
        if stats is None or stats.count < MIN_PERIOD_FRAMES:
            n = 0 if stats is None else stats.count
            results.append(
                CheckResult(
                    name,
                    Verdict.NOT_APPLICABLE,
                    _expected_saw(
                        f"at least {MIN_PERIOD_FRAMES} {spec.name} frames in one phase "
                        "to measure the period",
                        f"{len(seen)}, {max(n - 1, 0)} gaps within one phase and state",
                    ),
                )
            )
            continue
        ok = stats.mean_within(tol)
        results.append(
            CheckResult(
                name,
                Verdict.PASSED if ok else Verdict.FAILED,
                _expected_saw(
                    expected,
                    f"mean {stats.mean_ms:.1f} ms (min {stats.min_ms:.1f}, max "
                    f"{stats.max_ms:.1f}, {stats.count} frames)",
                ),
                stats.as_dict(),
            )
        )
    return results


# ---------------------------------------------------------------------- order


@dataclass(frozen=True)
class OrderRule:
    """``subject`` only after every one of ``after`` in the same session."""

    name: str
    subject: Match
    after: tuple[Match, ...]


ORDER_RULES: tuple[OrderRule, ...] = (
    OrderRule(
        "crm_aa_after_brm",
        Match("CRM", {"recognition": 0xAA}),
        (Match("BRM", label="a complete BRM"),),
    ),
    OrderRule("ccs_after_bcl_bcs", Match("CCS", any_content=True), (Match("BCL"), Match("BCS"))),
    OrderRule("cml_after_bcp", Match("CML", any_content=True), (Match("BCP"),)),
    OrderRule(
        "cro_aa_after_bro_aa",
        Match("CRO", {"charger_ready": 0xAA}),
        (Match("BRO", {"bms_ready": 0xAA}),),
    ),
    OrderRule("csd_after_bsd", Match("CSD", any_content=True), (Match("BSD"),)),
)


def _check_order_rule(rule: OrderRule, ctx: CheckContext) -> CheckResult:
    needs = " and ".join(str(m) for m in rule.after)
    expected = f"{rule.subject} only after {needs}"
    leads: list[float] = []  # subject after the last requirement, per session
    for session in ctx.sessions:
        subject = next(session.found(rule.subject), None)
        if subject is None:
            continue
        position, e = subject
        firsts = [next(session.found(req), None) for req in rule.after]
        missing = [
            str(req)
            for req, f in zip(rule.after, firsts, strict=True)
            if f is None or f[0] > position
        ]
        if missing:
            return CheckResult(
                f"order.{rule.name}",
                Verdict.FAILED,
                _expected_saw(
                    expected,
                    f"{rule.subject} at +{e.time:.6f} s with no {' and '.join(missing)} "
                    f"before it (session {session.number})",
                ),
                {"at_s": round(e.time, 6), "session": session.number},
            )
        leads.append(e.timestamp - max(f[1].timestamp for f in firsts if f is not None))
    if not leads:
        return CheckResult(
            f"order.{rule.name}",
            Verdict.NOT_APPLICABLE,
            _expected_saw(expected, f"no {rule.subject}"),
        )
    return CheckResult(
        f"order.{rule.name}",
        Verdict.PASSED,
        _expected_saw(
            expected,
            f"{rule.subject} {min(leads) * 1000:.1f} ms after {needs}"
            + (f" (the closest of {len(leads)} sessions)" if len(leads) > 1 else ""),
        ),
        {"sessions": len(leads), "min_after_ms": round(min(leads) * 1000, 3)},
    )


def _check_order(ctx: CheckContext) -> list[CheckResult]:
    return [_check_order_rule(rule, ctx) for rule in ORDER_RULES]


#: A charger stops CCS at once when it stops charging; the bench allows 100 ms (the
#: reference's "current ≤ 5 A within 100 ms of CST") for frames already queued.
CCS_AFTER_CST_S = 0.1


def _check_ccs_after_cst(ctx: CheckContext) -> list[CheckResult]:
    name = "order.no_ccs_after_cst"
    expected = f"no CCS later than {CCS_AFTER_CST_S * 1000:g} ms after the first CST"
    any_cst = False
    for session in ctx.sessions:
        cst = session.first(Match("CST", any_content=True))
        if cst is None:
            continue
        late = [
            e
            for e in session.where(Match("CCS", any_content=True), after=cst.timestamp)
            if e.timestamp - cst.timestamp > CCS_AFTER_CST_S
        ]
        if late:
            lead = late[-1].timestamp - cst.timestamp
            return [
                CheckResult(
                    name,
                    Verdict.FAILED,
                    _expected_saw(
                        expected,
                        f"{len(late)} CCS up to {lead:.3f} s after CST at +{cst.time:.6f} s "
                        f"(session {session.number})",
                    ),
                    {"late_ccs": len(late), "last_after_ms": round(lead * 1000, 3)},
                )
            ]
        any_cst = True
    if not any_cst:
        return [CheckResult(name, Verdict.NOT_APPLICABLE, _expected_saw(expected, "no CST"))]
    return [CheckResult(name, Verdict.PASSED, _expected_saw(expected, "none"))]


# ---------------------------------------------------------------------- values


def _check_decoding(ctx: CheckContext) -> list[CheckResult]:
    """Every GB/T message decodes; foreign PGNs are counted, not judged."""
    known = [e for e in ctx.entries if e.known and not e.tp]
    bad = [e for e in known if not e.ok]
    foreign = sorted({e.pgn for e in ctx.entries if not e.known and not e.tp})
    measurement = {
        "messages": len(known),
        "undecodable": len(bad),
        "foreign_pgns": [f"0x{p:04X}" for p in foreign],
    }
    expected = "every GB/T 27930 message well-formed"
    if not known:
        return [
            CheckResult(
                "values.decode",
                Verdict.NOT_APPLICABLE,
                _expected_saw(expected, "no GB/T 27930 message"),
                measurement,
            )
        ]
    if bad:
        first = bad[0]
        saw = f"{first.error} at +{first.time:.6f} s ({len(bad)} such of {len(known)})"
        return [
            CheckResult("values.decode", Verdict.FAILED, _expected_saw(expected, saw), measurement)
        ]
    saw = f"{len(known)} messages, all decoded"
    return [CheckResult("values.decode", Verdict.PASSED, _expected_saw(expected, saw), measurement)]


def _check_error_messages(ctx: CheckContext) -> list[CheckResult]:
    """CEM/BEM: which timeouts they report; one with no timeout set explains nothing."""
    results = []
    for name in ("CEM", "BEM"):
        expected = f"every {name} to name the timeout it reports"
        frames = [e for s in ctx.sessions for e in s.where(Match(name, any_content=True))]
        if not frames:
            results.append(
                CheckResult(
                    f"values.{name.lower()}",
                    Verdict.NOT_APPLICABLE,
                    _expected_saw(expected, f"no {name}"),
                )
            )
            continue
        reported: dict[str, str] = {}
        empty = [e for e in frames if e.ok and not any(v for v in e.values.values())]
        for e in frames:
            for signal, value in e.values.items():
                if value:
                    reported.setdefault(signal, ctx.table[name].signal(signal).label(value) or "?")
        shown = ", ".join(f"{s}={v}" for s, v in reported.items()) or "no timeout"
        first = frames[0]
        saw = f"{len(frames)} {name} from +{first.time:.6f} s reporting {shown}"
        measurement = {"count": len(frames), "first_at_s": round(first.time, 6), **reported}
        if empty:
            saw += f"; {len(empty)} with no timeout set (first at +{empty[0].time:.6f} s)"
        results.append(
            CheckResult(
                f"values.{name.lower()}",
                Verdict.FAILED if empty else Verdict.PASSED,
                _expected_saw(expected, saw),
                measurement,
            )
        )
    return results


# ---------------------------------------------------------------------- timeouts


@dataclass(frozen=True)
class Start:
    """When a timer started; ``earliest < latest`` where the standard leaves it open."""

    earliest: float
    latest: float
    awaited: float | None  # when what the watcher waits for came (None: never)


#: Finds one timer in one session: (session, timeout, its report) -> start or None.
Finder = Callable[[_Session, Timeout, Match], Start | None]


def _start_at(start: Match, awaited: Match, *, awaited_anywhere: bool = False) -> Finder:
    """A timer from the first ``start`` to the next ``awaited`` (with ``awaited_anywhere``
    an ``awaited`` already sent before the start counts: an answer is not needed twice)."""

    def find(s: _Session, t: Timeout, report: Match) -> Start | None:
        first = s.first(start)
        if first is None:
            return None
        came = s.first(awaited, None if awaited_anywhere else first.timestamp)
        return Start(first.timestamp, first.timestamp, came.timestamp if came else None)

    return find


def _start_bcp(s: _Session, t: Timeout, report: Match) -> Start | None:
    """BCP timer: from the complete BRM or from the first CRM(0xAA), the standard leaves
    which open (README, limits); not started while the charger has not recognised."""
    brm = s.first(Match("BRM"))
    crm = s.first(Match("CRM", {"recognition": 0xAA}))
    if crm is None:
        return None
    earliest = min(crm.timestamp, brm.timestamp) if brm else crm.timestamp
    came = s.first(Match("BCP"), earliest)
    return Start(earliest, crm.timestamp, came.timestamp if came else None)


#: Messages after which nobody watches the charging-phase streams any more.
_CHARGING_ENDS = frozenset({"BST", "CST", "BEM", "CEM"})


def _first_after(s: _Session, names: Iterable[str], t: float) -> TraceEntry | None:
    """The first of ``names`` (from its owner) strictly after ``t``."""
    firsts = (
        next((e for e in s.where(Match(n, any_content=True), t) if e.timestamp > t), None)
        for n in names
    )
    return min((e for e in firsts if e is not None), key=lambda e: e.timestamp, default=None)


def _lapse(name: str, watched_from: Match) -> Finder:
    """A stream watched from ``watched_from`` until charging ends (BST/CST/BEM/CEM): the
    timer starts at the last frame before the first gap longer than the limit, or
    before the report naming this timeout if that came first (too early)."""

    def find(s: _Session, t: Timeout, report: Match) -> Start | None:
        begin = s.first(watched_from)
        if begin is None:
            return None
        end = _first_after(s, _CHARGING_ENDS, begin.timestamp)
        end_t = s.end if end is None else end.timestamp
        stream = Match(name, any_content=True)
        prev = begin.timestamp
        for e in s.where(stream, after=begin.timestamp):
            if e.timestamp > end_t:
                break
            if e.timestamp - prev > t.limit_s:
                return Start(prev, prev, e.timestamp)
            prev = e.timestamp
        if end_t - prev > t.limit_s or (end is not None and report.matches(end, s.senders)):
            came = next((e for e in s.where(stream, after=prev) if e.timestamp > prev), None)
            return Start(prev, prev, came.timestamp if came else None)
        return None

    return find


_CRO_AA = Match("CRO", {"charger_ready": 0xAA})
_BRO_AA = Match("BRO", {"bms_ready": 0xAA})

#: How each timer of the timeouts table shows in a trace (both sides); a timer of the
#: table without an entry here is not judged.
TIMER_WATCHES: Mapping[str, Finder] = MappingProxyType(
    {
        # the charger's
        "brm": _start_at(Match("CRM", {"recognition": 0x00}), Match("BRM")),
        "bcp": _start_bcp,
        "bro": _start_at(Match("CML", any_content=True), Match("BRO")),
        "bro_aa": _start_at(Match("BRO", {"bms_ready": 0x00}), _BRO_AA),
        "bcl": _lapse("BCL", _CRO_AA),
        "bcs": _lapse("BCS", _CRO_AA),
        "bst": _start_at(Match("CST", any_content=True), Match("BST"), awaited_anywhere=True),
        "bsd": _start_at(Match("CST", any_content=True), Match("BSD")),
        # the BMS's
        "crm_aa": _start_at(Match("BRM"), Match("CRM", {"recognition": 0xAA})),
        "cml": _start_at(Match("BCP"), Match("CML")),
        "cro": _start_at(_BRO_AA, Match("CRO")),
        "cro_aa": _start_at(_BRO_AA, _CRO_AA),
        "ccs": _lapse("CCS", Match("CCS", any_content=True)),
        "cst": _start_at(Match("BST", any_content=True), Match("CST"), awaited_anywhere=True),
        "csd": _start_at(Match("BST", any_content=True), Match("CSD")),
    }
)


def _after(seconds: float) -> str:
    return "before it" if seconds < 0 else f"after {seconds:.3f} s"


def _timer_in_session(s: _Session, t: Timeout, ctx: CheckContext) -> CheckResult | None:
    """One timer in one session; ``None`` where it never started.

    Passed: the report came inside the window. Failed: it came too early or too late,
    or never although the awaited message was overdue and the session went on past the
    window. Not applicable: the awaited message came in time, or the trace ends first.
    """
    tol = ctx.timing.tolerance
    report = Match(t.report, {t.signal: 1})
    start = TIMER_WATCHES[t.name](s, t, report)
    if start is None:
        return None
    name = f"timeout.{t.name}"
    expected = (
        f"{t.report} with {t.signal} (SPN{t.spn}) = 01 {t.limit_s:g} s after {t.after} "
        f"(window {t.limit_s - tol.early_s:g}...{t.limit_s + tol.late_s:g} s)"
    )
    lower = start.earliest + t.limit_s - tol.early_s
    upper = start.latest + t.limit_s + tol.late_s
    sent = s.first(report, start.earliest)
    came = start.awaited
    measurement: dict[str, Any] = {"session": s.number}
    if sent is None or (came is not None and came < sent.timestamp):
        if came is not None and came <= upper:
            measurement["awaited_after_ms"] = round((came - start.earliest) * 1e3, 3)
            saw = f"{t.waits_for} {_after(came - start.earliest)}: the timer did not run out"
            return CheckResult(
                name, Verdict.NOT_APPLICABLE, _expected_saw(expected, saw), measurement
            )
        if sent is None:
            if s.end < upper:
                saw = (
                    f"no {t.waits_for}, but the session ends {s.end - start.earliest:.3f} s "
                    "after the start, before the window closes"
                )
                return CheckResult(
                    name, Verdict.NOT_APPLICABLE, _expected_saw(expected, saw), measurement
                )
            what = (
                "no"
                if came is None
                else f"{t.waits_for} only after {came - start.earliest:.3f} s and no"
            )
            saw = (
                f"{what} {t.report}; the {t.watcher} sent "
                f"{s.counts(SENDER_ADDRESS[t.watcher])} (session {s.number})"
            )
            return CheckResult(name, Verdict.FAILED, _expected_saw(expected, saw), measurement)
    assert sent is not None
    measurement.update(Latency.between(start.earliest, sent.timestamp, t.limit_s).as_dict())
    after = sent.timestamp - start.earliest
    if lower <= sent.timestamp <= upper:
        saw = f"{t.report} after {after:.3f} s"
        return CheckResult(name, Verdict.PASSED, _expected_saw(expected, saw), measurement)
    saw = f"{t.report} after {'only ' if sent.timestamp < lower else ''}{after:.3f} s "
    saw += "(too early)" if sent.timestamp < lower else "(too late)"
    if came is not None and came < sent.timestamp:
        saw += f", {t.waits_for} had come {_after(came - start.earliest)}"
    return CheckResult(name, Verdict.FAILED, _expected_saw(expected, saw), measurement)


def _check_timeouts(ctx: CheckContext) -> list[CheckResult]:
    """Each timer of the timeouts table, judged in every session where it ran: failed if
    any session failed, passed if one passed, else not applicable."""
    results = []
    for timeout in ctx.timing.timeouts.values():
        if timeout.name not in TIMER_WATCHES:
            continue
        found = [r for s in ctx.sessions if (r := _timer_in_session(s, timeout, ctx))]
        for verdict in Verdict:
            pick = next((r for r in found if r.verdict is verdict), None)
            if pick is not None:
                results.append(pick)
                break
        else:
            expected = (
                f"{timeout.report} with {timeout.signal} if {timeout.waits_for} does not come "
                f"within {timeout.limit_s:g} s after {timeout.after}"
            )
            results.append(
                CheckResult(
                    f"timeout.{timeout.name}",
                    Verdict.NOT_APPLICABLE,
                    _expected_saw(expected, "no such wait in the trace"),
                )
            )
    return results


#: Passive checks in report order; add a :class:`Check` to extend.
CHECKS: tuple[Check, ...] = (
    Check("period", "mean period of each message within ±period_rel", _check_periods),
    Check("order", "messages only after what the standard says they follow", _check_order),
    Check("order", "no CCS after the charger stopped (CST + 100 ms)", _check_ccs_after_cst),
    Check("values", "every message decodes", _check_decoding),
    Check("values", "CEM/BEM name the timeout they report", _check_error_messages),
    Check(
        "timeout", "the timeouts seen in the trace reported within their window", _check_timeouts
    ),
)


def run_checks(
    entries: Sequence[TraceEntry],
    table: MessageTable | None = None,
    timing: TimingTable | None = None,
    checks: Sequence[Check] = CHECKS,
) -> list[CheckResult]:
    """Every passive check over a decoded trace, in :data:`CHECKS` order."""
    ctx = CheckContext.build(
        entries, table or MessageTable.gbt27930_2015(), timing or timing_2015()
    )
    return [result for check in checks for result in check.run(ctx)]


def overall(results: Sequence[CheckResult]) -> dict[str, int]:
    """Counts per verdict, for the summary line."""
    counts = dict.fromkeys((v.value for v in Verdict), 0)
    for r in results:
        counts[r.verdict.value] += 1
    return counts
