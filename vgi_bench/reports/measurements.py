"""A case's measurements as the report's tables, not as a nested dump.

Why: a reviewer reads "figure, value, unit, limit, uncertainty, decision" rows, not JSON.
The shapes the suites record, each to its table:

* a **judged figure** -- a dict with ``value``, ``unit``, ``limit`` (or ``low``/``high``),
  ``uncertainty`` (expanded, k=2), ``coverage_factor``, ``decision_rule``, ``decision``
  (``pass``/``fail``/``not proven``) and ``guard_band`` (inside the guard band): one row
  of *figures*. Older shapes of one figure -- ``{"value_ms", "limit_ms"}``, or
  ``{"error", "limit", "uncertainty_k2", "decision"}`` -- are rows there too, with the
  unit taken from the key's suffix.
* **period statistics** -- a dict with ``count`` and ``mean_ms``/``min_ms``/... : one row
  of *statistics*, one column per figure.
* a **list of records** (dicts) -- a table of its own, one column per key; a list of
  numbers -- its count, range and mean, then the first values.
* anything else -- a *values* row, nested dicts flattened to dotted names
  (``response_ms.BootNotification``), what is nested too deep as compact JSON.

Rendering never fails on an odd shape: every value ends up somewhere as text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_ROWS", "measurement_tables", "text"]

MAX_ROWS = 50  # rows of one list-of-records table, values of one list shown
_MAX_DEPTH = 4
_UNITS = {
    "ms": "ms", "us": "µs", "ns": "ns", "s": "s", "v": "V", "a": "A", "w": "W", "kw": "kW",
    "wh": "Wh", "kwh": "kWh", "hz": "Hz", "ohm": "Ω", "pct": "%", "a_per_s": "A/s",
    "v_per_s": "V/s", "ohm_per_v": "Ω/V",
}  # fmt: skip
_UNIT_WORDS = "|".join(sorted(_UNITS, key=len, reverse=True))
_SUFFIX = re.compile(rf"^(?P<base>.+?)_(?P<unit>{_UNIT_WORDS})$")
_FIGURE_KEYS = {
    "value", "error", "limit", "low", "high", "uncertainty", "uncertainty_k2",
    "coverage_factor", "decision_rule", "decision", "guard_band", "unit",
}  # fmt: skip
_STATS = ("count", "nominal", "mean", "min", "max", "p50", "p99", "jitter", "stdev", "std")


def text(value: Any) -> str:
    """One scalar as short readable text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.6g}"
    return str(value)


def _compact(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def _split(key: str) -> tuple[str, str]:
    """``"mean_ms"`` -> ``("mean", "ms")``; a key without a unit suffix -> ``(key, "")``."""
    found = _SUFFIX.match(key)
    return (found["base"], _UNITS[found["unit"]]) if found else (key, "")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _figure_parts(value: Mapping[str, Any]) -> dict[str, Any] | None:
    """The figure's parts keyed by their base name, or None if ``value`` is no figure."""
    parts: dict[str, Any] = {}
    units = set()
    for key, item in value.items():
        if not isinstance(key, str):
            return None
        base, unit = _split(key)
        if key in _FIGURE_KEYS:
            base = "uncertainty" if key == "uncertainty_k2" else key
        elif base not in _FIGURE_KEYS:
            return None
        if unit:
            units.add(unit)
        if base in parts or isinstance(item, (Mapping, list, tuple)):
            return None
        parts[base] = item
    if not ({"value", "error"} & set(parts)) or len(units) > 1:
        return None
    if "unit" not in parts and units:
        parts["unit"] = units.pop()
    return parts


def _figure_row(name: str, parts: Mapping[str, Any]) -> dict[str, Any]:
    unit = text(parts["unit"]) if parts.get("unit") not in (None, "") else ""
    shown = parts["value"] if "value" in parts else parts.get("error")
    low, high, limit = parts.get("low"), parts.get("high"), parts.get("limit")
    if low is not None or high is not None:
        bounds = (
            f"{text(low) if low is not None else '−∞'} … {text(high) if high is not None else '∞'}"
        )
    else:
        bounds = text(limit) if "limit" in parts else ""
    uncertainty = parts.get("uncertainty")
    k = parts.get("coverage_factor")
    decision = parts.get("decision")
    return {
        "name": name,
        "quantity": "error" if "value" not in parts else "value",
        "value": text(shown),
        "unit": unit,
        "limit": bounds if bounds != "—" else "",
        "uncertainty": text(uncertainty) if _number(uncertainty) else "",
        "k": text(k) if _number(k) else ("2" if _number(uncertainty) else ""),
        "rule": str(parts.get("decision_rule") or ""),
        "decision": str(decision).lower() if decision is not None else "",
        "guard_band": parts.get("guard_band") is True,
    }


def _is_stats(value: Mapping[str, Any]) -> bool:
    if "count" not in value or not all(isinstance(k, str) for k in value):
        return False
    bases = {_split(k)[0] for k in value}
    return bool(bases & set(_STATS[1:])) and all(v is None or _number(v) for v in value.values())


def _list_row(name: str, items: list[Any]) -> dict[str, str]:
    """A list of scalars: its first values; for a long list of numbers also n, range, mean."""
    shown = ", ".join(text(v) for v in items[:MAX_ROWS])
    row = {"name": name, "text": f"[{shown}{', …' if len(items) > MAX_ROWS else ''}]"}
    numbers = [v for v in items if _number(v) and not (isinstance(v, float) and math.isnan(v))]
    if len(items) > 8 and len(numbers) == len(items):
        row.update(
            n=str(len(items)),
            min=text(min(numbers)),
            max=text(max(numbers)),
            mean=text(sum(numbers) / len(numbers)),
        )
    return row


class _Tables:
    def __init__(self) -> None:
        self.figures: list[dict[str, Any]] = []
        self.stats: list[tuple[str, Mapping[str, Any]]] = []
        self.values: list[dict[str, str]] = []
        self.records: list[dict[str, Any]] = []

    def add(self, name: str, value: Any, depth: int = 0) -> None:
        if isinstance(value, Mapping):
            self._mapping(name, value, depth)
        elif isinstance(value, (list, tuple, set, frozenset)):
            self._sequence(name, list(value), depth)
        else:
            self.values.append({"name": name, "text": text(value)})

    def _mapping(self, name: str, value: Mapping[str, Any], depth: int) -> None:
        parts = _figure_parts(value) if value else None
        if parts is not None:
            self.figures.append(_figure_row(name, parts))
        elif value and _is_stats(value):
            self.stats.append((name, value))
        elif not value:
            self.values.append({"name": name, "text": "{}"})
        elif depth >= _MAX_DEPTH:
            self.values.append({"name": name, "text": _compact(value)})
        else:
            for key, item in value.items():
                self.add(f"{name}.{key}" if name else str(key), item, depth + 1)

    def _sequence(self, name: str, items: list[Any], depth: int) -> None:
        if not items:
            self.values.append({"name": name, "text": "[]"})
        elif all(isinstance(v, Mapping) for v in items) and depth < _MAX_DEPTH:
            records = [{str(k): v for k, v in item.items()} for item in items[:MAX_ROWS]]
            columns: list[str] = []
            for item in records:
                columns += [k for k in item if k not in columns]
            rows = [[_cell(item[c]) if c in item else "" for c in columns] for item in records]
            self.records.append({
                "name": name, "columns": columns, "rows": rows,
                "more": max(0, len(items) - MAX_ROWS),
            })  # fmt: skip
        elif all(not isinstance(v, (Mapping, list, tuple, set, frozenset)) for v in items):
            self.values.append(_list_row(name, items))
        else:
            self.values.append({"name": name, "text": _compact(items[:MAX_ROWS])})

    def stats_table(self) -> dict[str, Any] | None:
        if not self.stats:
            return None
        keys: list[str] = []
        for _, value in self.stats:
            keys += [k for k in value if k not in keys]
        order = {base: i for i, base in enumerate(_STATS)}
        keys.sort(key=lambda k: order.get(_split(k)[0], len(order)))
        columns = [{"key": k, "base": _split(k)[0], "unit": _split(k)[1]} for k in keys]
        rows = [(name, [text(value.get(k)) if k in value else "" for k in keys])
                for name, value in self.stats]  # fmt: skip
        return {"columns": columns, "rows": rows}


def _cell(value: Any) -> str:
    if isinstance(value, (Mapping, list, tuple)):
        return _compact(value)
    return text(value)


def measurement_tables(measurements: Any) -> dict[str, Any]:
    """``{"figures": [...], "stats": {...} | None, "values": [...], "records": [...]}``.

    ``figures`` rows: name, value, unit, limit, uncertainty, k, rule, decision,
    guard_band (``figure_columns``: which optional columns any row fills); ``stats``:
    columns (key, base, unit) and rows (name, cells); ``values``: name, text (and n, min,
    max, mean for a long list of numbers); ``records``: name, columns, rows, more.
    """
    tables = _Tables()
    if isinstance(measurements, Mapping):
        for key, value in measurements.items():
            tables.add(str(key), value, 1)
    elif measurements not in (None, {}, []):
        tables.add("value", measurements, 1)
    figures = tables.figures
    return {
        "figures": figures,
        "figure_columns": {
            "uncertainty": any(f["uncertainty"] for f in figures),
            "rule": any(f["rule"] for f in figures),
            "decision": any(f["decision"] or f["guard_band"] for f in figures),
        },
        "stats": tables.stats_table(),
        "values": tables.values,
        "records": tables.records,
        "empty": not (tables.figures or tables.stats or tables.values or tables.records),
    }


def judged_figures(measurements: Any) -> list[dict[str, Any]]:
    """The judged figure rows of one case (for the run's decision-rule summary)."""
    return measurement_tables(measurements)["figures"]
