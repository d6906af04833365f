"""The last messages a case's rig saw, as structured entries for ``results.jsonl``.

Why structured: the report prints each message decoded (name and fields) beside its
bytes, and a tool reading ``results.jsonl`` should not have to parse a display string.
One entry per message, time relative to the last one shown::

    {"t": -0.25, "from": "bms", "to": "charger", "src": "0xF4", "dst": "0x56",
     "name": "BRM", "pgn": "0x0200", "len": 49, "tp": true, "fields": {...}, "hex": "01 01 ..."}

GB/T 27930 captures (:class:`vgi_bench.can.capture.Capture` records, read by attribute only)
and OCPP message logs (:class:`vgi_bench.ocpp.log.MessageLog` entries) are understood; an OCPP
entry has ``kind`` (``call``, ``result``, ``error``, ``garbage``, ``event``; an answer is
named by its call's action) and ``raw`` (the JSON text as sent, shortened) for ``hex``. Results
written before this module stored plain strings; the report still reads those.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS

__all__ = ["can_entries", "entries_of", "ocpp_entries"]

#: J1939 source addresses of GB/T 27930 nodes -> the role the report names.
NODES = {CHARGER_ADDRESS: "charger", BMS_ADDRESS: "bms"}
_MAX_RAW = 600  # characters of an OCPP message kept (certificates, firmware URLs...)
_MAX_TEXT = 200  # characters of one field value


def _field(value: Any) -> Any:
    """A decoded value as JSON: bytes as hex, NaN/inf and odd types as text."""
    if isinstance(value, (bytes, bytearray)):
        return value.hex(" ").upper()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (Mapping, list, tuple)):  # an OCPP payload's nested objects
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    else:
        text = str(getattr(value, "value", value))
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _node(address: int) -> str:
    return NODES.get(address, f"0x{address:02X}")


def can_entries(records: Sequence[Any]) -> list[dict[str, Any]]:
    """Capture records (``name``, ``frame``, ``decoded``, ``via_tp``) as report entries."""
    if not records:
        return []
    last = records[-1].frame.timestamp
    out = []
    for rec in records:
        frame = rec.frame
        decoded = rec.decoded
        entry: dict[str, Any] = {
            "t": round(frame.timestamp - last, 6),
            "from": _node(frame.src),
            "to": "all" if frame.dst == 0xFF else _node(frame.dst),
            "src": f"0x{frame.src:02X}",
            "dst": f"0x{frame.dst:02X}",
            "name": rec.name or f"0x{frame.pgn:04X}",
            "pgn": f"0x{frame.pgn:04X}",
            "len": len(frame.data),
            "hex": bytes(frame.data).hex(" ").upper(),
        }
        if getattr(rec, "via_tp", False):
            entry["tp"] = True
        values = getattr(decoded, "values", None)
        if isinstance(values, Mapping):
            entry["fields"] = {str(k): _field(v) for k, v in values.items()}
        reason = getattr(decoded, "reason", None)
        if reason:
            entry["error"] = str(reason)
        out.append(entry)
    return out


def _short(text: str) -> str:
    return text if len(text) <= _MAX_RAW else text[: _MAX_RAW - 1] + "…"


def ocpp_entries(entries: Sequence[Any]) -> list[dict[str, Any]]:
    """Message-log entries (``time``, ``direction``, ``frame``, ``action``) as report entries.

    ``rx`` is from the DUT to the bench, ``tx`` the other way; bench notes (connect,
    close) have neither.
    """
    if not entries:
        return []
    last = entries[-1].time
    out = []
    for item in entries:
        frame = item.frame
        kind = str(getattr(frame.kind, "value", frame.kind))
        direction = {"rx": ("dut", "bench"), "tx": ("bench", "dut")}.get(item.direction)
        entry: dict[str, Any] = {"t": round(item.time - last, 6), "kind": kind}
        if direction:
            entry["from"], entry["to"] = direction
        action = getattr(item, "action", None) or frame.action
        if kind in ("call", "result"):  # an answer is named by the call it answers
            entry["name"] = str(action or "")
        elif kind == "error":
            entry["name"] = f"CALLERROR {frame.error_code or ''}".strip()
        else:
            entry["name"] = ""
        payload = frame.payload
        if isinstance(payload, Mapping):
            entry["fields"] = {str(k): _field(v) for k, v in payload.items()}
        if frame.raw:
            entry["raw"] = _short(str(frame.raw))
        elif getattr(item, "note", "") or frame.reason:
            entry["raw"] = _short(str(item.note or frame.reason))
        out.append(entry)
    return out


def entries_of(rigs: Iterable[Any], count: int) -> list[dict[str, Any]]:
    """The last ``count`` messages of the first rig with a CAN capture or an OCPP log.

    A rig is any fixture value: its ``capture.records`` (a GB/T rig), ``can.capture``
    (the power rig) or ``log.entries`` (an OCPP rig) are looked for, in that order.
    """
    for rig in rigs:
        for holder in (rig, getattr(rig, "can", None)):
            records = getattr(getattr(holder, "capture", None), "records", None)
            if isinstance(records, list) and records:
                return can_entries(list(records[-count:]))
        logged = getattr(getattr(rig, "log", None), "entries", None)
        if isinstance(logged, list) and logged:
            return ocpp_entries(list(logged[-count:]))
    return []
