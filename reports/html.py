"""The self-contained HTML report, built from a run's ``summary.json`` dict.

The page has inline CSS only: no external assets, no JavaScript. Everything from the
summary is escaped (autoescape on). The summary may be incomplete or oddly shaped (an old
or partial run, a suite that records unusual measurements): rendering never fails on
missing keys or unexpected value types.

The same page, with its print styles, is ``report.pdf`` (``reports.pdf``): a cover page
(lab, DUT, bench and profile identity, dates, operator, verdict), the summary by suite,
the clause traceability matrix (``reports.traceability``) and one page per case. Labels
come from ``reports/data/labels.toml`` in the profile's ``[report] language``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import re
import sys
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from reports.traceability import matrix, status_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["LANGUAGES", "VERDICTS", "labels", "render_report", "write_report"]

VERDICTS = ("passed", "failed", "error", "skipped")
REPORT_NAME = "report.html"
_MAX_DEPTH = 4  # nesting shown for measurements; deeper values are shown as JSON
_MAX_ITEMS = 50  # list items shown for one measurement
_MAX_PLOT_BYTES = 2_000_000  # a plot embedded in the report
_SHORT_MESSAGE = 500  # characters of a passed/skipped case's message
LANGUAGES = ("en", "zh-CN")
_EXPECTED_SEEN = re.compile(r"expected (?P<expected>.*?); saw (?P<seen>.*)", re.DOTALL)


@cache
def _all_labels() -> dict[str, Any]:
    text = resources.files("reports").joinpath("data/labels.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def labels(language: str) -> dict[str, Any]:
    """The template's words in ``language`` (English for an unknown one)."""
    table = _all_labels()
    return table.get(language) or table["en"]


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


def _plots(measurements: Any, base_dir: Path | None) -> list[str]:
    """The case's plot (``evidence.plot``, a PNG in the run directory) as a data: URI, so
    the report stays self-contained; anything missing, outside the run or too big is left
    out (the file itself is still signed with the run)."""
    evidence = _mapping(_mapping(measurements).get("evidence"))
    name = evidence.get("plot")
    if base_dir is None or not isinstance(name, str):
        return []
    path = (base_dir / name).resolve()
    try:
        path.relative_to(base_dir.resolve())
        data = path.read_bytes() if path.stat().st_size <= _MAX_PLOT_BYTES else b""
    except (ValueError, OSError):
        return []
    if not data.startswith(b"\x89PNG"):
        return []
    return ["data:image/png;base64," + base64.b64encode(data).decode("ascii")]


def _instruments(raw_cases: Any) -> list[dict[str, str]]:
    """Every instrument named in any case's ``instruments`` measurement, once."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for raw in raw_cases:
        listed = _mapping(_mapping(raw).get("measurements")).get("instruments")
        for entry in listed if isinstance(listed, list) else []:
            item = {str(k): _text(v) for k, v in _mapping(entry).items()}
            seen.setdefault((item.get("instrument", ""), item.get("serial", "")), item)
    return list(seen.values())


def _case(raw: Any, index: int, base_dir: Path | None = None) -> dict[str, Any]:
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
    split = _EXPECTED_SEEN.fullmatch(message) if full else None
    return {
        "expected": split["expected"] if split else "",
        "seen": split["seen"] if split else "",
        "description": str(case["description"]) if case.get("description") else "",
        "frames": [str(f) for f in case["frames"]] if isinstance(case.get("frames"), list) else [],
        "nodeid": str(case.get("nodeid") or ""),
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
        "plots": _plots(measurements, base_dir),
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
        suites.append(
            {
                "name": name,
                "cases": members,
                "totals": counts,
                "total": len(members),
                "status": status_of(members),
            }
        )
    return suites


def _traceability(cases: list[dict[str, Any]]) -> dict[str, Any]:
    tables, others = matrix(cases)
    standards = [
        {
            "name": table.standard.name,
            "title": table.standard.title,
            "covered": table.covered,
            "total": len(table.clauses),
            "clauses": [
                {"id": row.id, "title": row.title, "cases": found, "status": status_of(found)}
                for row, found in table.clauses
            ],
            "cases": [
                {"id": row.id, "title": row.title, "cases": found, "status": status_of(found)}
                for row, found in table.cases
            ],
        }
        for table in tables
    ]
    other = [
        {"clause": clause, "cases": members, "status": status_of(members)}
        for clause, members in sorted(others.items(), key=lambda kv: _natural_key(kv[0]))
    ]
    return {"standards": standards, "others": other}


def _profile_hash(profile: Any) -> str:
    """SHA-256 of the profile as recorded in the summary (secrets masked), canonical JSON."""
    if profile is None:
        return "—"
    text = json.dumps(profile, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _identity(value: Any, first: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    data = _mapping(value)
    keys = [k for k in first if k in data] + [k for k in data if k not in first]
    return [(str(k), _node(data[k], 1)) for k in keys]


def _context(
    summary: Mapping[str, Any], signature: Mapping[str, Any] | None, base_dir: Path | None = None
) -> dict[str, Any]:
    summary = _mapping(summary)
    raw_cases = summary.get("cases")
    if not isinstance(raw_cases, (list, tuple)):
        raw_cases = []
    cases = [_case(c, i, base_dir) for i, c in enumerate(raw_cases)]
    totals = _totals(summary, cases)
    bench = _mapping(summary.get("bench"))
    profile = summary.get("profile")
    profile_map = _mapping(profile)
    dut = summary.get("dut") or profile_map.get("dut")
    started, finished = summary.get("started"), summary.get("finished")
    settings = _mapping(profile_map.get("report"))
    language = str(settings.get("language") or "en")
    language = language if language in LANGUAGES else "en"
    words = labels(language)
    dut_map = _mapping(dut)
    return {
        "t": words,
        "lang": language,
        "lab": _text(settings.get("lab")) if settings.get("lab") else "",
        "operator": _text(settings.get("operator")) if settings.get("operator") else "",
        "profile_hash": _profile_hash(profile),
        "running_title": " · ".join(
            str(dut_map[k]) for k in ("vendor", "model", "serial") if dut_map.get(k)
        ),
        "traceability": _traceability(cases),
        "title": words["title"],
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
        "signature": _mapping(signature),
        "instruments": _instruments(raw_cases),
    }


# --------------------------------------------------------------------------- API


def render_report(
    summary: dict[str, Any],
    *,
    signature: Mapping[str, Any] | None = None,
    base_dir: Path | None = None,
) -> str:
    """The report page for one run's summary (the ``summary.json`` dict).

    ``signature`` is :meth:`reports.signing.Signer.describe` of the key that will sign
    the run, printed on the report (the signature itself is made after the report).
    """
    template = _environment().get_template("report.html.j2")
    return template.render(**_context(summary, signature, base_dir))


def write_report(
    summary: dict[str, Any], out_dir: Path, *, signature: Mapping[str, Any] | None = None
) -> Path:
    """Write ``out_dir/report.html`` (creating ``out_dir``) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_NAME
    partial = path.with_name(f".{REPORT_NAME}.tmp")
    page = render_report(summary, signature=signature, base_dir=out_dir)
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)  # a reader never sees half a report
    return path
