"""The self-contained HTML report, built from a run's ``summary.json`` dict.

The page has inline CSS only: no external assets, no JavaScript. Everything from the
summary is escaped (autoescape on). The summary may be incomplete or oddly shaped (an old
or partial run, a suite that records unusual measurements): rendering never fails on
missing keys or unexpected value types.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["VERDICTS", "render_report", "write_report"]

VERDICTS = ("passed", "failed", "error", "skipped")
REPORT_NAME = "report.html"
_MAX_DEPTH = 4  # nesting shown for measurements; deeper values are shown as JSON
_MAX_ITEMS = 50  # list items shown for one measurement
_SHORT_MESSAGE = 500  # characters of a passed/skipped case's message


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


# --------------------------------------------------------------------------- values


def _text(value: Any) -> str:
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


def _node(value: Any, depth: int = 0) -> dict[str, Any]:
    """A measurement value as a small tree the template renders recursively.

    ``{"kind": "scalar", "text"}``, ``{"kind": "table", "rows": [(key, node)]}`` or
    ``{"kind": "list", "items": [node]}``.
    """
    if isinstance(value, Mapping):
        if depth >= _MAX_DEPTH:
            return {"kind": "scalar", "text": _compact_json(value)}
        if not value:
            return {"kind": "scalar", "text": "{}"}
        rows = [(str(k), _node(v, depth + 1)) for k, v in value.items()]
        return {"kind": "table", "rows": rows}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        if depth >= _MAX_DEPTH:
            return {"kind": "scalar", "text": _compact_json(items)}
        if not items:
            return {"kind": "scalar", "text": "[]"}
        if all(not isinstance(v, (Mapping, list, tuple, set, frozenset)) for v in items):
            shown = ", ".join(_text(v) for v in items[:_MAX_ITEMS])
            if len(items) > _MAX_ITEMS:
                shown += f", … ({len(items)} values)"
            return {"kind": "scalar", "text": f"[{shown}]"}
        nodes = [_node(v, depth + 1) for v in items[:_MAX_ITEMS]]
        if len(items) > _MAX_ITEMS:
            nodes.append({"kind": "scalar", "text": f"… ({len(items)} items)"})
        return {"kind": "list", "items": nodes}
    return {"kind": "scalar", "text": _text(value)}


def _compact_json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _natural_key(text: str) -> list[Any]:
    """Sort clause numbers as numbers: 9.2 before 10.1."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text)
        if part
    ]


def _duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—" if value is None else _text(value)
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.2f} s"
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)} min {seconds:.0f} s"


def _elapsed(started: Any, finished: Any) -> str | None:
    try:
        delta = datetime.fromisoformat(str(finished)) - datetime.fromisoformat(str(started))
    except (TypeError, ValueError):
        return None
    return _duration(delta.total_seconds())


# --------------------------------------------------------------------------- model


def _case(raw: Any, index: int) -> dict[str, Any]:
    case = _mapping(raw)
    verdict = str(case.get("verdict") or "unknown").lower()
    message = case.get("message")
    message = "" if message is None else str(message)
    full = verdict in ("failed", "error")
    if not full and len(message) > _SHORT_MESSAGE:
        message = message[:_SHORT_MESSAGE] + " …"
    measurements = case.get("measurements")
    if measurements is None or measurements == {}:
        rows: list[tuple[str, dict[str, Any]]] = []
    elif isinstance(measurements, Mapping):
        rows = [(str(k), _node(v, 1)) for k, v in measurements.items()]
    else:
        rows = [("value", _node(measurements, 1))]
    return {
        "id": str(case.get("id") or f"case-{index + 1}"),
        "anchor": f"case-{index + 1}",
        "suite": str(case.get("suite") or "(no suite)"),
        "clause": "" if case.get("clause") is None else str(case.get("clause")),
        "title": "" if case.get("title") is None else str(case.get("title")),
        "verdict": verdict,
        "badge": verdict if verdict in VERDICTS else "unknown",
        "message": message,
        "message_full": full,
        "duration": _duration(case.get("duration_s")),
        "measurements": rows,
    }


def _totals(summary: Mapping[str, Any], cases: list[dict[str, Any]]) -> dict[str, int]:
    counted = dict.fromkeys(VERDICTS, 0)
    for case in cases:
        if case["verdict"] in counted:
            counted[case["verdict"]] += 1
    given = _mapping(summary.get("totals"))
    totals = {}
    for verdict in VERDICTS:
        value = given.get(verdict)
        ok = isinstance(value, int) and not isinstance(value, bool)
        totals[verdict] = value if ok else counted[verdict]
    return totals


def _overall(totals: Mapping[str, int], cases: list[dict[str, Any]]) -> str:
    if totals["failed"] or totals["error"] or any(c["badge"] == "unknown" for c in cases):
        return "FAIL"
    if not cases and not any(totals.values()):
        return "NO CASES"
    return "PASS"


def _suites(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        groups.setdefault(case["suite"], []).append(case)
    suites = []
    for name, members in groups.items():
        counts = dict.fromkeys(VERDICTS, 0)
        for case in members:
            if case["verdict"] in counts:
                counts[case["verdict"]] += 1
        suites.append({"name": name, "cases": members, "totals": counts})
    return suites


def _clauses(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    clauses: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        clauses.setdefault(case["clause"] or "(no clause)", []).append(case)
    out = []
    for clause in sorted(clauses, key=_natural_key):
        members = clauses[clause]
        verdicts = {c["verdict"] for c in members}
        if verdicts & {"failed", "error", "unknown"}:
            status = "failed"
        elif verdicts == {"skipped"}:
            status = "skipped"
        else:
            status = "passed"
        out.append({"clause": clause, "cases": members, "status": status})
    return out


def _identity(value: Any, first: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    data = _mapping(value)
    keys = [k for k in first if k in data] + [k for k in data if k not in first]
    return [(str(k), _node(data[k], 1)) for k in keys]


def _context(summary: Mapping[str, Any], signature: Mapping[str, Any] | None) -> dict[str, Any]:
    summary = _mapping(summary)
    raw_cases = summary.get("cases")
    if not isinstance(raw_cases, (list, tuple)):
        raw_cases = []
    cases = [_case(c, i) for i, c in enumerate(raw_cases)]
    totals = _totals(summary, cases)
    bench = _mapping(summary.get("bench"))
    profile = summary.get("profile")
    profile_map = _mapping(profile)
    dut = summary.get("dut") or profile_map.get("dut")
    started, finished = summary.get("started"), summary.get("finished")
    return {
        "title": "vgi-bench conformance report",
        "bench_version": _text(bench.get("version")),
        "bench_git": _text(bench.get("git")),
        "dut": _identity(dut, ("vendor", "model", "serial", "firmware")),
        "started": _text(started),
        "finished": _text(finished),
        "elapsed": _elapsed(started, finished),
        "profile_source": _text(profile_map.get("source")),
        "profile_json": json.dumps(profile, indent=2, default=str, ensure_ascii=False)
        if profile is not None
        else "",
        "overall": _overall(totals, cases),
        "totals": totals,
        "total": len(cases),
        "suites": _suites(cases),
        "clauses": _clauses(cases),
        "signature": _mapping(signature),
    }


# --------------------------------------------------------------------------- API


def render_report(summary: dict[str, Any], *, signature: Mapping[str, Any] | None = None) -> str:
    """The report page for one run's summary (the ``summary.json`` dict).

    ``signature`` is :meth:`reports.signing.Signer.describe` of the key that will sign
    the run, printed on the report (the signature itself is made after the report).
    """
    template = _environment().get_template("report.html.j2")
    return template.render(**_context(summary, signature))


def write_report(
    summary: dict[str, Any], out_dir: Path, *, signature: Mapping[str, Any] | None = None
) -> Path:
    """Write ``out_dir/report.html`` (creating ``out_dir``) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_NAME
    partial = path.with_name(f".{REPORT_NAME}.tmp")
    partial.write_text(render_report(summary, signature=signature), encoding="utf-8")
    os.replace(partial, path)  # a reader never sees half a report
    return path
