"""GB/T 27930 messages as data, and the one codec that reads and writes them all.

The layouts live in ``data/gbt27930_2015.toml`` (transcribed from the reference with its
sources and doubts noted there), so a disputed byte is fixed in one place and a bench run
can show exactly which table it used. This module only knows how to pack fields.

Editions (:data:`EDITIONS`, chosen by a profile's ``[gbt27930] edition``) are further data
files that ``extends`` another one and list only what differs: ``[[overrides]]`` of
existing messages (message keys, and ``change`` / ``add`` / ``remove`` of signals, or a
whole new ``signals`` list) and new ``[[messages]]``. A signal renamed by an edition keeps
its old name in ``aliases``, which encode accepts and decoded values answer to, so code
written against one edition runs against the next. ``gbt27930_v2g_draft.toml`` shows how
a proposed extension is prototyped without code.

Why a hand-written codec and not cantools: a cantools/DBC signal is at most 64 bits, so
the 17-byte VIN (136 bits) cannot be one field; cantools' decode neither range-checks
values nor rejects undefined choice values, and it has no per-signal "all ones = not
available"; its encode wants every signal, and filling the rest with 1 needs
``padding=True`` plus an ``unused_bit_pattern`` that DBC files do not carry. A
conformance bench needs all of these. cantools is still used to *export* a DBC
(``vgi_bench.gbt27930.dbc``).

Layout: little-endian, ``byte`` and ``bit`` 1-based as in the reference table, fields may
span bytes. Every bit that no signal covers is sent as 1 (the standard's padding rule).
"""

from __future__ import annotations

import copy
import functools
import math
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, J1939Id
from vgi_bench.gbt27930.editions import EDITIONS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

Kind = Literal["uint", "ascii", "bcd", "bytes"]
Sender = Literal["charger", "bms"]
#: A decoded (physical) value: numbers for uint fields, str for ASCII, bytes for BCD/bytes,
#: None for an optional field sent as all ones.
Value = int | float | str | bytes | None

_KINDS = ("uint", "ascii", "bcd", "bytes")
_SIGNAL_KEYS = {
    "name", "spn", "byte", "bit", "bits", "kind", "scale", "offset", "min", "max", "unit",
    "choices", "optional", "default", "doc", "repeat", "stride", "aliases",
}  # fmt: skip
_MESSAGE_KEYS = {
    "name", "pgn", "priority", "length", "min_length", "max_length", "period_ms", "sender",
    "title", "optional", "signals",
}  # fmt: skip
#: Top level of a table file.
_DOCUMENT_KEYS = {"source", "extends", "messages", "overrides"}
#: One ``[[overrides]]`` entry: which message, its keys to replace, and signal edits.
_OVERRIDE_KEYS = {"message", "change", "add", "remove"} | (_MESSAGE_KEYS - {"name"})


def _fmt(x: float) -> str:
    """Numbers in messages as people write them: -400, 6153.5."""
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class SignalSpec:
    """One field of a message: where its bits are and what they mean."""

    name: str
    spn: int | None
    byte: int
    bit: int
    bits: int
    kind: Kind = "uint"
    scale: float = 1
    offset: float = 0
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    choices: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    optional: bool = False
    default: Value = None
    doc: str = ""
    #: Other names the signal answers to (its names in other editions), for encode,
    #: decoded values and :meth:`MessageSpec.signal`.
    aliases: tuple[str, ...] = ()

    @property
    def start(self) -> int:
        """Absolute bit position of the LSB (0-based, little-endian), as DBC counts it."""
        return (self.byte - 1) * 8 + self.bit - 1

    @property
    def end_byte(self) -> int:
        """Bytes a frame needs to hold this field completely."""
        return (self.start + self.bits + 7) // 8

    @property
    def all_ones(self) -> int:
        return (1 << self.bits) - 1

    def to_physical(self, raw: int) -> int | float:
        """raw * scale + offset; stays int when scale and offset are ints."""
        value = raw * self.scale + self.offset
        return value if isinstance(value, int) else round(value, 6)

    def label(self, value: Value) -> str | None:
        """The choice label of a decoded value, if the field has choices."""
        return self.choices.get(value) if isinstance(value, int) else None

    def range_problem(self, raw: int) -> str | None:
        """Why a raw uint value is not acceptable, or None; shared by encode and decode."""
        if self.choices and raw not in self.choices:
            allowed = ", ".join(f"0x{k:X} {v}" for k, v in self.choices.items())
            return f"raw 0x{raw:0{self._hex_width}X} not one of {{{allowed}}}"
        value = self.to_physical(raw)
        lo, hi = self.minimum, self.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            unit = f" {self.unit}" if self.unit else ""
            return (
                f"raw 0x{raw:0{self._hex_width}X} -> {_fmt(value)}{unit} "
                f"out of range [{_fmt(lo if lo is not None else -math.inf)}, "
                f"{_fmt(hi if hi is not None else math.inf)}]"
            )
        return None

    @property
    def _hex_width(self) -> int:
        return (self.bits + 3) // 4


@dataclass(frozen=True)
class MessageSpec:
    """One PGN: identity, timing, direction and its signals."""

    name: str
    pgn: int
    priority: int
    length: int
    min_length: int
    max_length: int
    period_s: float | None
    sender: Sender
    title: str
    optional: bool
    signals: tuple[SignalSpec, ...]

    @property
    def multi_packet(self) -> bool:
        """True when the message may need the J1939 transport protocol (> 8 bytes)."""
        return self.max_length > 8

    @property
    def receiver(self) -> Sender:
        return "bms" if self.sender == "charger" else "charger"

    @property
    def can_id(self) -> int:
        """29-bit id sender -> receiver (what a single frame, or TP's PGN, is sent as)."""
        src, dst = (
            (CHARGER_ADDRESS, BMS_ADDRESS)
            if self.sender == "charger"
            else (BMS_ADDRESS, CHARGER_ADDRESS)
        )
        return J1939Id(self.priority, self.pgn, src, dst).pack()

    @cached_property
    def _by_name(self) -> Mapping[str, SignalSpec]:
        by_name = {a: s for s in self.signals for a in s.aliases}
        by_name.update((s.name, s) for s in self.signals)
        return MappingProxyType(by_name)

    @cached_property
    def aliases(self) -> Mapping[str, str]:
        """Alias -> the signal's name, for the signals that have aliases."""
        return MappingProxyType({a: s.name for s in self.signals for a in s.aliases})

    def signal(self, name: str) -> SignalSpec:
        """The signal called ``name`` (or aliased so); KeyError if the message has none."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name} has no signal {name!r}") from None

    def _length_text(self) -> str:
        if self.min_length == self.max_length:
            return str(self.length)
        return f"{self.min_length}..{self.max_length}"


class SignalValues(dict[str, Value]):
    """Decoded values by signal name that also answer to the signals' aliases.

    Iterating, ``len``, ``items()`` and JSON show each signal once, under its name in the
    table; ``values["old_name"]``, ``.get`` and ``in`` accept an alias too.
    """

    def __init__(self, values: Mapping[str, Value], aliases: Mapping[str, str]) -> None:
        super().__init__(values)
        self.aliases = aliases

    def __missing__(self, key: str) -> Value:
        name = self.aliases.get(key)
        if name is None or not dict.__contains__(self, name):
            raise KeyError(key)
        return dict.__getitem__(self, name)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        name = self.aliases.get(key) if isinstance(key, str) else None
        return name is not None and dict.__contains__(self, name)


@dataclass(frozen=True)
class Decoded:
    """A frame that matched its layout; ``values`` are physical, None = not available."""

    name: str
    pgn: int
    values: dict[str, Value]
    raw: bytes

    @property
    def ok(self) -> bool:
        return True

    def __getitem__(self, signal: str) -> Value:
        return self.values[signal]


@dataclass(frozen=True)
class DecodeError:
    """A frame that did not match; returned, never raised, so a bench can report it."""

    pgn: int
    raw: bytes
    reason: str
    name: str | None = None

    @property
    def ok(self) -> bool:
        return False


class MessageTable:
    """The message set: look-ups by name/PGN, and encode/decode driven by the specs."""

    def __init__(self, messages: Iterable[MessageSpec], source: Mapping[str, Any] | None = None):
        self._by_name: dict[str, MessageSpec] = {}
        self._by_pgn: dict[int, MessageSpec] = {}
        for spec in messages:
            if spec.name in self._by_name or spec.pgn in self._by_pgn:
                raise ValueError(f"duplicate message {spec.name} / PGN 0x{spec.pgn:04X}")
            self._by_name[spec.name] = spec
            self._by_pgn[spec.pgn] = spec
        #: The data file's [source] table (standard, reference sections, doubts).
        self.source: Mapping[str, Any] = MappingProxyType(dict(source or {}))

    @property
    def title(self) -> str:
        """What the table is, from its ``[source] title`` (e.g. "GB/T 27930-2015")."""
        return str(self.source.get("title", "GB/T 27930"))

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MessageTable:
        """Read a message table from a TOML file (format described in the packaged ones).

        A file with ``extends = "NAME"`` is applied on top of the table NAME: a file
        ``NAME`` or ``NAME.toml`` next to it, else a packaged one (a file name such as
        ``gbt27930_2015`` or an edition name such as ``2015``).
        """
        path = Path(path)
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
        resolved = _resolve(doc, path.resolve().parent, (str(path.resolve()),))
        return cls((_message_from_toml(m) for m in resolved["messages"]), resolved["source"])

    @classmethod
    def edition(cls, name: str) -> MessageTable:
        """The packaged table of edition ``name`` (a key of :data:`EDITIONS`), parsed once."""
        if name not in EDITIONS:
            known = ", ".join(repr(k) for k in EDITIONS)
            raise ValueError(f"unknown GB/T 27930 edition {name!r}; known editions: {known}")
        return _packaged_edition(name)

    @classmethod
    def gbt27930_2015(cls) -> MessageTable:
        """The packaged GB/T 27930-2015 table (parsed once per process)."""
        return cls.edition("2015")

    @classmethod
    def from_document(
        cls, doc: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None
    ) -> MessageTable:
        """A table from a parsed TOML document; ``extends`` is looked up in ``base_dir``
        first (when given), then among the packaged tables."""
        resolved = _resolve(doc, None if base_dir is None else Path(base_dir), ())
        return cls((_message_from_toml(m) for m in resolved["messages"]), resolved["source"])

    # ------------------------------------------------------------------ look-ups

    def __getitem__(self, name: str) -> MessageSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown message {name!r}") from None

    def by_pgn(self, pgn: int) -> MessageSpec | None:
        return self._by_pgn.get(pgn)

    def __iter__(self) -> Iterator[MessageSpec]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    # ------------------------------------------------------------------ encode

    def encode(
        self,
        name: str,
        values: Mapping[str, Value] | None = None,
        *,
        strict: bool = True,
        length: int | None = None,
    ) -> bytes:
        """Physical values -> payload of ``length`` bytes (default: the message's length).

        Omitted signals take their default, else all ones. With ``strict`` an out-of-range
        value or a missing mandatory one raises ValueError; without it values are clamped
        to the field width only, so fault injection can send out-of-range data on purpose.
        Choice labels (e.g. ``"recognised"``) are accepted for uint fields.
        """
        spec = self[name]
        values = _by_signal_name(spec, values or {})
        raws = {
            sig.name: _to_raw(spec, sig, values.get(sig.name, sig.default), strict)
            for sig in spec.signals
            if sig.name in values or sig.default is not None
        }
        if strict:
            for sig in spec.signals:
                if sig.name not in raws and not sig.optional:
                    raise ValueError(f"{spec.name}.{sig.name}: no value and no default")
        return _pack(spec, raws, _frame_length(spec, length))

    def encode_raw(
        self, name: str, raw: Mapping[str, int | bytes], *, length: int | None = None
    ) -> bytes:
        """Raw field values -> payload, for fault injection; only the field width is checked.

        Omitted signals take their default, else all ones. Byte fields also take bytes.
        """
        spec = self[name]
        raw = _by_signal_name(spec, raw)
        raws: dict[str, int | None] = {}
        for sig in spec.signals:
            if sig.name in raw:
                raws[sig.name] = _check_raw(spec, sig, raw[sig.name])
            elif sig.default is not None:
                raws[sig.name] = _to_raw(spec, sig, sig.default, strict=True)
        return _pack(spec, raws, _frame_length(spec, length))

    # ------------------------------------------------------------------ decode

    def decode(self, pgn: int, data: bytes) -> Decoded | DecodeError:
        """Payload -> Decoded, or DecodeError saying what was expected and seen. Never raises."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            return DecodeError(pgn, b"", f"payload is {type(data).__name__}, expected bytes")
        data = bytes(data)
        spec = self._by_pgn.get(pgn) if isinstance(pgn, int) else None
        if spec is None:
            shown = f"0x{pgn:04X}" if isinstance(pgn, int) else repr(pgn)
            return DecodeError(pgn, data, f"unknown PGN {shown}")
        return _decode(spec, data)

    def decode_by_name(self, name: str, data: bytes) -> Decoded | DecodeError:
        """Like decode, for a known message name (KeyError if the name is unknown)."""
        return self.decode(self[name].pgn, data)


@functools.cache
def _packaged_edition(name: str) -> MessageTable:
    filename = EDITIONS[name]
    doc = tomllib.loads(_packaged_file(filename).read_text(encoding="utf-8"))
    resolved = _resolve(doc, None, (f"<packaged>/{filename}",))
    return MessageTable((_message_from_toml(m) for m in resolved["messages"]), resolved["source"])


def _packaged_file(filename: str) -> Traversable:
    return resources.files("vgi_bench.gbt27930").joinpath("data", filename)


# ---------------------------------------------------------------------- extends


def _tables(value: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError(f"{what} must be an array of tables")
    return value


def _names(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be an array of strings")
    return value


def _resolve(doc: Mapping[str, Any], base_dir: Path | None, chain: tuple[str, ...]) -> dict:
    """The document with its ``extends`` chain applied: plain ``source`` and ``messages``.

    Everything returned is a fresh copy, so applying overrides never touches a base.
    """
    if not isinstance(doc, Mapping):
        raise ValueError(f"a message table must be a table, got {type(doc).__name__}")
    unknown = sorted(set(doc) - _DOCUMENT_KEYS)
    if unknown:
        raise ValueError(f"unknown top-level key(s) {unknown}; expected {sorted(_DOCUMENT_KEYS)}")
    messages = _tables(doc.get("messages", []), "messages")
    overrides = _tables(doc.get("overrides", []), "overrides")
    source = doc.get("source", {})
    if not isinstance(source, Mapping):
        raise ValueError("source must be a table")
    extends = doc.get("extends")
    if extends is None:
        if overrides:
            raise ValueError("[[overrides]] needs 'extends' naming the table they change")
        return copy.deepcopy({"source": dict(source), "messages": [dict(m) for m in messages]})
    if not isinstance(extends, str) or not extends:
        raise ValueError(f"extends must be a table name, got {extends!r}")
    where, base_doc, base_base_dir = _find_base(extends, base_dir)
    if where in chain:
        raise ValueError(f"extends cycle: {' -> '.join((*chain, where))}")
    base = _resolve(base_doc, base_base_dir, (*chain, where))
    out = base["messages"]
    index = {m.get("name"): i for i, m in enumerate(out)}
    for ov in overrides:
        name = ov.get("message")
        if name not in index:
            raise ValueError(
                f"override of unknown message {name!r}: {extends} has {', '.join(map(str, index))}"
            )
        out[index[name]] = _override(out[index[name]], ov)
    for m in messages:
        name = m.get("name")
        if name in index:
            raise ValueError(
                f"message {name} is already in {extends}; change it with "
                f'[[overrides]] message = "{name}"'
            )
        index[name] = len(out)
        out.append(copy.deepcopy(dict(m)))
    merged = copy.deepcopy(dict(source))
    merged["extends"] = extends
    merged["base"] = base["source"]
    return {"source": merged, "messages": out}


def _find_base(name: str, base_dir: Path | None) -> tuple[str, Mapping[str, Any], Path | None]:
    """(identity, document, its directory) of the table an ``extends`` names."""
    filename = EDITIONS.get(name) or (name if name.endswith(".toml") else f"{name}.toml")
    if base_dir is not None:
        path = base_dir / filename
        if path.is_file():
            with open(path, "rb") as fh:
                return str(path.resolve()), tomllib.load(fh), path.resolve().parent
    packaged = _packaged_file(filename)
    if packaged.is_file():
        return f"<packaged>/{filename}", tomllib.loads(packaged.read_text("utf-8")), None
    looked = f"{base_dir} or " if base_dir is not None else ""
    known = ", ".join(f"{k!r} ({v.removesuffix('.toml')})" for k, v in EDITIONS.items())
    raise ValueError(
        f"extends = {name!r}: no table {filename} in {looked}the packaged tables: {known}"
    )


def _override(message: Mapping[str, Any], ov: Mapping[str, Any]) -> dict[str, Any]:
    """One message with an ``[[overrides]]`` entry applied: keys, then remove/change/add."""
    name = message.get("name")
    where = f"override of {name}"
    unknown = sorted(set(ov) - _OVERRIDE_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected {sorted(_OVERRIDE_KEYS)}")
    out = {**message, **{k: v for k, v in ov.items() if k in _MESSAGE_KEYS}}
    signals = [dict(s) for s in _tables(out.get("signals", []), f"{where}: signals")]

    def find(signal: Any, what: str) -> int:
        for i, s in enumerate(signals):
            if s.get("name") == signal:
                return i
        have = ", ".join(str(s.get("name")) for s in signals)
        raise ValueError(f"{where}: {what} of unknown signal {signal!r} ({name} has {have})")

    for signal in _names(ov.get("remove", []), f"{where}: remove"):
        del signals[find(signal, "remove")]
    for change in _tables(ov.get("change", []), f"{where}: change"):
        if "signal" not in change:
            raise ValueError(f"{where}: each change needs signal = the signal's current name")
        i = find(change["signal"], "change")
        signals[i] = {**signals[i], **{k: v for k, v in change.items() if k != "signal"}}
    signals += [dict(s) for s in _tables(ov.get("add", []), f"{where}: add")]
    out["signals"] = copy.deepcopy(signals)
    return out


# ---------------------------------------------------------------------- packing


def _frame_length(spec: MessageSpec, length: int | None) -> int:
    n = spec.length if length is None else length
    if not spec.min_length <= n <= spec.max_length:
        raise ValueError(f"{spec.name}: length {n}, expected {spec._length_text()}")
    return n


def _by_signal_name(spec: MessageSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` keyed by signal name (aliases resolved); unknown names raise ValueError."""
    unknown = sorted(set(values) - set(spec._by_name))
    if unknown:
        raise ValueError(f"{spec.name}: unknown signal(s) {', '.join(unknown)}")
    if not spec.aliases:
        return dict(values)
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = spec.aliases.get(key, key)
        if name in out:
            raise ValueError(f"{spec.name}.{name}: given twice (as {name} and an alias)")
        out[name] = value
    return out


def _pack(spec: MessageSpec, raws: Mapping[str, int | None], n: int) -> bytes:
    """Start from all ones and drop each given field in; fields past ``n`` must be absent."""
    word = (1 << (8 * n)) - 1
    for sig in spec.signals:
        raw = raws.get(sig.name)
        if raw is None:
            continue
        if sig.end_byte > n:
            raise ValueError(f"{spec.name}.{sig.name}: needs {sig.end_byte} bytes, frame has {n}")
        word &= ~(sig.all_ones << sig.start)
        word |= raw << sig.start
    return word.to_bytes(n, "little")


def _check_raw(spec: MessageSpec, sig: SignalSpec, raw: int | bytes) -> int:
    if isinstance(raw, (bytes, bytearray)) and sig.kind != "uint":
        raw = int.from_bytes(_fit_bytes(spec, sig, bytes(raw), strict=True), "little")
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= sig.all_ones:
        raise ValueError(f"{spec.name}.{sig.name}: raw {raw!r} does not fit {sig.bits} bits")
    return raw


def _fit_bytes(spec: MessageSpec, sig: SignalSpec, data: bytes, strict: bool) -> bytes:
    """Pad a byte field with 0xFF; too long is an error when strict, cut otherwise."""
    size = sig.bits // 8
    if len(data) > size:
        if strict:
            raise ValueError(f"{spec.name}.{sig.name}: {len(data)} bytes, field holds {size}")
        data = data[:size]
    return data + b"\xff" * (size - len(data))


def _to_raw(spec: MessageSpec, sig: SignalSpec, value: Value, strict: bool) -> int | None:
    """Physical value -> raw field value; None means 'leave all ones'."""
    where = f"{spec.name}.{sig.name}"
    if value is None:
        if strict and not sig.optional:
            raise ValueError(f"{where}: None for a mandatory signal")
        return None
    if sig.kind == "uint":
        return _uint_to_raw(where, sig, value, strict)
    if sig.kind == "ascii" and isinstance(value, str):
        try:
            data = value.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(f"{where}: {value!r} is not ASCII") from None
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, str):  # bcd / bytes given as hex text
        try:
            data = bytes.fromhex(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not hex") from None
    else:
        raise ValueError(f"{where}: {type(value).__name__} for a {sig.kind} field")
    data = _fit_bytes(spec, sig, data, strict)
    if strict and sig.kind == "bcd" and not _is_bcd(data) and data != b"\xff" * len(data):
        raise ValueError(f"{where}: {data.hex(' ')} is not packed BCD")
    return int.from_bytes(data, "little")


def _uint_to_raw(where: str, sig: SignalSpec, value: Value, strict: bool) -> int:
    if isinstance(value, str):
        codes = {label: code for code, label in sig.choices.items()}
        if value not in codes:
            raise ValueError(f"{where}: {value!r} is not one of {sorted(codes)}")
        return codes[value]
    if not isinstance(value, (int, float)) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise ValueError(f"{where}: {value!r} is not a finite number")
    try:
        raw = round((value - sig.offset) / sig.scale)
    except OverflowError:  # finite but past any float: an int like 10**400, or 1e308 / 0.1
        if strict:
            raise ValueError(f"{where}: value far beyond {sig.bits} bits") from None
        return sig.all_ones if value > 0 else 0
    if strict:
        problem = (
            f"raw {raw} does not fit {sig.bits} bits"
            if not 0 <= raw <= sig.all_ones
            else sig.range_problem(raw)
        )
        if problem:
            raise ValueError(f"{where}: {_fmt(value)} -> {problem}")
        return raw
    return min(max(raw, 0), sig.all_ones)


def _is_bcd(data: bytes) -> bool:
    return all((b >> 4) <= 9 and (b & 0x0F) <= 9 for b in data)


# ---------------------------------------------------------------------- decoding


def _decode(spec: MessageSpec, data: bytes) -> Decoded | DecodeError:
    if not spec.min_length <= len(data) <= spec.max_length:
        return DecodeError(
            spec.pgn,
            data,
            f"{spec.name}: length {len(data)}, expected {spec._length_text()}",
            spec.name,
        )
    word = int.from_bytes(data, "little")
    values: dict[str, Value] = {}
    for sig in spec.signals:
        if sig.end_byte > len(data):  # a shorter variable-length frame: field not sent
            values[sig.name] = None
            continue
        raw = (word >> sig.start) & sig.all_ones
        value, problem = _decode_field(sig, raw)
        if problem:
            return DecodeError(spec.pgn, data, f"{spec.name}.{sig.name}: {problem}", spec.name)
        values[sig.name] = value
    if spec.aliases:
        values = SignalValues(values, spec.aliases)
    return Decoded(spec.name, spec.pgn, values, data)


def _decode_field(sig: SignalSpec, raw: int) -> tuple[Value, str | None]:
    if sig.optional and raw == sig.all_ones:
        return None, None
    if sig.kind == "uint":
        return sig.to_physical(raw), sig.range_problem(raw)
    data = raw.to_bytes(sig.bits // 8, "little")
    if sig.kind == "ascii":
        text = data.rstrip(b"\xff\x00")
        if not text.isascii():
            return None, f"{data.hex(' ')} is not ASCII"
        return text.decode("ascii"), None
    if sig.kind == "bcd" and not _is_bcd(data):
        return None, f"{data.hex(' ')} is not packed BCD"
    return data, None


# ---------------------------------------------------------------------- TOML -> specs


def _message_from_toml(m: Mapping[str, Any]) -> MessageSpec:
    name = m.get("name", "?")
    unknown = sorted(set(m) - _MESSAGE_KEYS)
    if unknown:
        raise ValueError(f"{name}: unknown key(s) {unknown}")
    try:
        length = int(m["length"])
        period = m.get("period_ms")
        spec = MessageSpec(
            name=m["name"],
            pgn=int(m["pgn"]),
            priority=int(m["priority"]),
            length=length,
            min_length=int(m.get("min_length", length)),
            max_length=int(m.get("max_length", length)),
            period_s=None if period is None else period / 1000,
            sender=m["sender"],
            title=m.get("title", ""),
            optional=bool(m.get("optional", False)),
            signals=tuple(s for raw in m.get("signals", ()) for s in _signals_from_toml(raw)),
        )
    except KeyError as exc:
        raise ValueError(f"{name}: missing key {exc}") from None
    _validate(spec)
    return spec


def _signals_from_toml(s: Mapping[str, Any]) -> Iterator[SignalSpec]:
    """One TOML entry -> one signal, or ``repeat`` numbered copies ``stride`` bytes apart."""
    unknown = set(s) - _SIGNAL_KEYS
    if unknown:
        raise ValueError(f"signal {s.get('name')!r}: unknown key(s) {sorted(unknown)}")
    repeat, stride = int(s.get("repeat", 1)), int(s.get("stride", 0))
    aliases = _names(s.get("aliases", []), f"signal {s.get('name')!r}: aliases")
    for n in range(1, repeat + 1):
        spn = s.get("spn")
        yield _signal(
            s,
            name=s["name"].format(n=n) if repeat > 1 else s["name"],
            spn=None if spn is None else spn + n - 1,
            byte=s["byte"] + (n - 1) * stride,
            aliases=tuple(a.format(n=n) if repeat > 1 else a for a in aliases),
        )


def _signal(
    s: Mapping[str, Any], *, name: str, spn: int | None, byte: int, aliases: tuple[str, ...]
) -> SignalSpec:
    kind = s.get("kind", "uint")
    bits = int(s["bits"])
    scale, offset = s.get("scale", 1), s.get("offset", 0)
    numeric = kind == "uint"
    return SignalSpec(
        name=name,
        spn=spn,
        byte=byte,
        bit=int(s.get("bit", 1)),
        bits=bits,
        kind=kind,
        scale=scale,
        offset=offset,
        # Unstated ranges default to what the field can carry.
        minimum=s.get("min", offset) if numeric else None,
        maximum=s.get("max", round(((1 << bits) - 1) * scale + offset, 6)) if numeric else None,
        unit=s.get("unit", ""),
        choices=MappingProxyType({int(k, 0): v for k, v in s.get("choices", {}).items()}),
        optional=bool(s.get("optional", False)),
        default=s.get("default"),
        doc=s.get("doc", ""),
        aliases=aliases,
    )


def _validate(spec: MessageSpec) -> None:
    """Catch transcription slips at load time rather than on the bus."""

    def fail(msg: str) -> None:
        raise ValueError(f"{spec.name}: {msg}")

    if spec.sender not in ("charger", "bms"):
        fail(f"sender {spec.sender!r}, expected 'charger' or 'bms'")
    if not 1 <= spec.min_length <= spec.length <= spec.max_length:
        fail(f"lengths {spec.min_length} <= {spec.length} <= {spec.max_length} do not hold")
    used = 0
    for sig in spec.signals:
        where = f"signal {sig.name}"
        if sig.kind not in _KINDS:
            fail(f"{where}: kind {sig.kind!r}, expected one of {_KINDS}")
        if sig.byte < 1 or not 1 <= sig.bit <= 8 or sig.bits < 1:
            fail(f"{where}: bad position byte {sig.byte} bit {sig.bit} bits {sig.bits}")
        if sig.kind != "uint" and (sig.bit != 1 or sig.bits % 8):
            fail(f"{where}: {sig.kind} fields must be whole bytes")
        if sig.end_byte > spec.max_length:
            fail(f"{where}: ends in byte {sig.end_byte}, message has {spec.max_length}")
        if not sig.optional and sig.end_byte > spec.min_length:
            fail(f"{where}: mandatory but past the minimum length {spec.min_length}")
        if any(not 0 <= k <= sig.all_ones for k in sig.choices):
            fail(f"{where}: a choice does not fit {sig.bits} bits")
        mask = sig.all_ones << sig.start
        if used & mask:
            fail(f"{where}: overlaps another signal")
        used |= mask
        if sig.default is not None:
            _to_raw(spec, sig, sig.default, strict=True)
    names = [n for s in spec.signals for n in (s.name, *s.aliases)]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        fail(f"duplicate signal names or aliases {twice}")
