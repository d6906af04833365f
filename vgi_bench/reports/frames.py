"""A case's last messages (``frames`` in results) as rows of the report's frame table.

Entries are :mod:`vgi_bench.evidence` dicts (time, sender, receiver, name, decoded fields,
bytes or the OCPP text); results written before that module hold display strings,
which are shown as they are. Anything else is left out: evidence, never a crash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from vgi_bench.reports.measurements import text

__all__ = ["frame_rows"]

_MAX_FIELDS_TEXT = 1200  # characters of decoded fields shown for one message
_MAX_RAW_SHOWN = 160  # characters of an OCPP message's text shown beside its fields


def _time(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return ""
    return f"{value:+.3f} s"


def _fields(value: Any) -> str:
    if not isinstance(value, Mapping):
        return ""
    shown = ", ".join(f"{k} = {text(v)}" for k, v in value.items())
    return shown if len(shown) <= _MAX_FIELDS_TEXT else shown[: _MAX_FIELDS_TEXT - 1] + "…"


def _short(raw: str) -> str:
    """An OCPP message's text, cut: its decoded fields are beside it, and ``ocpp.jsonl``
    (signed with the run) holds every message in full."""
    return raw if len(raw) <= _MAX_RAW_SHOWN else raw[: _MAX_RAW_SHOWN - 1] + "…"


def _row(entry: Mapping[str, Any]) -> dict[str, Any]:
    def word(key: str) -> str:
        value = entry.get(key)
        return "" if value is None else str(value)

    row = {
        "t": _time(entry.get("t")),
        "from": word("from"),
        "to": word("to"),
        "src": word("src"),
        "dst": word("dst"),
        "name": word("name"),
        "kind": word("kind"),
        "pgn": word("pgn"),
        "len": word("len"),
        "tp": entry.get("tp") is True,
        "fields": _fields(entry.get("fields")),
        "error": word("error"),
        "bytes": word("hex") or _short(word("raw")),
        "is_text": not entry.get("hex") and bool(entry.get("raw")),
    }
    if row["kind"] == "event":  # a bench note (connect, close): words, not a message
        row["fields"], row["bytes"] = word("raw"), ""
    return row


def frame_rows(frames: Any) -> dict[str, list[Any]]:
    """``{"rows": [row dicts], "lines": [old display strings]}`` of a case's ``frames``."""
    if not isinstance(frames, list):
        return {"rows": [], "lines": []}
    rows = [_row(f) for f in frames if isinstance(f, Mapping)]
    lines = [f for f in frames if isinstance(f, str)]
    return {"rows": rows, "lines": lines}
