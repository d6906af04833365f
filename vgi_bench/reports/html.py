"""The self-contained HTML report, built from a run's ``summary.json`` dict.

The page has inline CSS only: no external assets, no JavaScript. Everything from the
summary is escaped (autoescape on). The summary may be incomplete or oddly shaped (an old
or partial run, a suite that records unusual measurements): rendering never fails on
missing keys or unexpected value types.

The same page, with its print styles, is ``report.pdf`` (``vgi_bench.reports.pdf``), the
report number in every page header. Its parts, as ISO/IEC 17025 §7.8 asks: the cover
(``vgi_bench.reports.cover``: number, parties, DUT, standards and methods, conditions,
signatories; the verdict by ``vgi_bench.reports.verdict``), the deviations
(``vgi_bench.reports.deviations``), the decision rule and uncertainty, the summary by
suite, the clause traceability matrix (``vgi_bench.reports.traceability``), one page per
case (frames by ``vgi_bench.reports.frames``, measurement tables by
``vgi_bench.reports.measurements``), instruments, the profile. Every word comes from
``vgi_bench/reports/data/labels.toml`` in the profile's ``[report] language``.
"""

from __future__ import annotations

import base64
import hashlib
import json
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

from vgi_bench.reports.cover import (
    accuracy_sources,
    applied_standards,
    clocks,
    conditions,
    dut_name,
    report_number,
    signatories,
    suites_run,
    title_parts,
)
from vgi_bench.reports.deviations import deviations
from vgi_bench.reports.frames import frame_rows
from vgi_bench.reports.measurements import measurement_tables
from vgi_bench.reports.measurements import text as _text
from vgi_bench.reports.traceability import (
    NOT_APPLICABLE,
    NOT_COVERED,
    StandardMatrix,
    matrix,
    status_of,
)
from vgi_bench.reports.verdict import overall

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["LANGUAGES", "VERDICTS", "labels", "render_report", "write_report"]

VERDICTS = ("passed", "failed", "error", "skipped")
REPORT_NAME = "report.html"
_MAX_PLOT_BYTES = 2_000_000  # a plot embedded in the report
_SHORT_MESSAGE = 500  # characters of a passed/skipped case's message
LANGUAGES = ("en", "zh-CN")
_EXPECTED_SEEN = re.compile(r"expected (?P<expected>.*?); saw (?P<seen>.*)", re.DOTALL)
_INSTRUMENT_KEYS = ("instrument", "driver", "serial", "calibrated", "due", "status")
_DUT_FIRST = ("vendor", "model", "serial", "firmware", "hardware", "description", "rating",
              "connector")  # fmt: skip


@cache
def _all_labels() -> dict[str, Any]:
    text = (
        resources.files("vgi_bench.reports")
        .joinpath("data/labels.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        both = isinstance(value, Mapping) and isinstance(base.get(key), Mapping)
        out[key] = _merged(base[key], value) if both else value
    return out


def labels(language: str) -> dict[str, Any]:
    """The template's words in ``language`` (English for an unknown language, and for a
    word a language lacks -- tests/test_report_labels.py keeps that from happening)."""
    table = _all_labels()
    return _merged(table["en"], table.get(language) or {})


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vgi_bench.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


# --------------------------------------------------------------------------- values


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


def _compact_json(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def _value_text(value: Any, words: Mapping[str, Any]) -> str:
    """A profile or DUT value on one line: yes/no in the report's language, other scalars
    as text, tables and lists as JSON."""
    if isinstance(value, bool):
        return str(words["yes"] if value else words["no"])
    if isinstance(value, (Mapping, list, tuple)):
        return _compact_json(value) if value else "—"
    return _text(value)


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
            item = dict.fromkeys(_INSTRUMENT_KEYS, "")
            item.update({str(k): _text(v) for k, v in _mapping(entry).items()})
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
    split = _EXPECTED_SEEN.fullmatch(message) if full else None
    return {
        "expected": split["expected"] if split else "",
        "seen": split["seen"] if split else "",
        "description": str(case["description"]) if case.get("description") else "",
        "frames": frame_rows(case.get("frames")),
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
        "measured": measurement_tables(measurements),
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


def _rows(
    table: StandardMatrix, rows: list[tuple[Any, list[dict[str, Any]]]], *, compact: bool
) -> dict[str, list[Any]]:
    """A matrix's rows for the page: the applicable ones in full, the others by id only.

    ``compact`` (the standard's own test cases: 230 OCTT ids for one role) lists the
    applicable cases no bench case ran by id too, so a short run has a short matrix.
    """
    shown, uncovered, inapplicable = [], [], []
    for row, found in rows:
        status = table.status(row, found)
        if status == NOT_APPLICABLE:
            inapplicable.append(row.id)
        elif compact and status == NOT_COVERED:
            uncovered.append(row.id)
        else:
            shown.append({"id": row.id, "title": row.title, "cases": found, "status": status})
    return {"rows": shown, "uncovered": uncovered, "inapplicable": inapplicable}


def _traceability(tables: list[StandardMatrix], others: dict[str, list]) -> dict[str, Any]:
    standards = []
    for table in tables:
        clauses = _rows(table, table.clauses, compact=False)
        own = _rows(table, table.cases, compact=True)
        standards.append({
            "name": table.standard.name,
            "title": table.standard.title,
            "covered": table.covered,
            "applicable": table.applicable,
            "cases_covered": sum(1 for _, found in table.cases if found),
            "cases_applicable": len(own["rows"]) + len(own["uncovered"]),
            "clauses": clauses,
            "cases": own,
            "unmatched": [{"text": k, "cases": v} for k, v in table.unmatched.items()],
            "applied": bool(
                clauses["rows"] or own["rows"] or own["uncovered"] or table.unmatched
            ),
        })  # fmt: skip
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


def _identity(value: Any, words: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, value text) of the DUT, its usual keys first, empty optional ones left out."""
    data = _mapping(value)
    keys = [k for k in _DUT_FIRST if k in data] + [k for k in data if k not in _DUT_FIRST]
    empty = ("", None, [], {})
    return [(str(k), _value_text(data[k], words)) for k in keys if data[k] not in empty]


def _profile_sections(profile: Any, words: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recorded profile as sections of (key, value) rows, secrets already masked."""
    data = _mapping(profile)
    sections = []
    for name, value in data.items():
        if name == "source" or not isinstance(value, Mapping) or not value:
            continue
        if name == "instruments":
            for inst, config in value.items():
                rows = [(str(k), _value_text(v, words)) for k, v in _mapping(config).items()]
                sections.append({"name": "instruments", "item": str(inst), "rows": rows})
            continue
        rows = [(str(k), _value_text(v, words)) for k, v in value.items()]
        sections.append({"name": str(name), "item": "", "rows": rows})
    return sections


def _decision_summary(cases: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"judged": 0, "pass": 0, "fail": 0, "not proven": 0, "guard_band": 0}
    for case in cases:
        for figure in case["measured"]["figures"]:
            if not figure["decision"]:
                continue
            counts["judged"] += 1
            if figure["decision"] in counts:
                counts[figure["decision"]] += 1
            counts["guard_band"] += figure["guard_band"]
    return counts


def _context(
    summary: Mapping[str, Any], signature: Mapping[str, Any] | None, base_dir: Path | None = None
) -> dict[str, Any]:
    summary = _mapping(summary)
    raw_cases = summary.get("cases")
    if not isinstance(raw_cases, (list, tuple)):
        raw_cases = []
    raw_cases = list(raw_cases)
    cases = [_case(c, i, base_dir) for i, c in enumerate(raw_cases)]
    totals = _totals(summary, cases)
    bench = _mapping(summary.get("bench"))
    profile = summary.get("profile")
    profile_map = _mapping(profile)
    dut_map = _mapping(summary.get("dut") or profile_map.get("dut"))
    started, finished = summary.get("started"), summary.get("finished")
    settings = _mapping(profile_map.get("report"))
    language = str(settings.get("language") or "en")
    language = language if language in LANGUAGES else "en"
    words = labels(language)
    tables, others = matrix(cases)
    suites_ran = {case["suite"] for case in cases}
    standards = applied_standards(tables, suites_ran)
    specs, methods = title_parts(standards)
    name = dut_name(dut_map)
    if specs or methods:
        pattern = words["title_for_method"] if methods and specs else words["title_for"]
        title = pattern.format(dut=name or words["dut"], standards=specs or methods,
                               methods=methods)  # fmt: skip
    else:
        title = f"{words['title']} — {name}" if name else words["title"]
    verdict = overall(cases, totals, finished=bool(finished) or not summary)
    instruments = _instruments(raw_cases)
    ambient = conditions(settings)
    rule = str(settings.get("decision_rule") or "guarded")
    return {
        "t": words,
        "lang": language,
        "number": report_number(summary),
        "issued": str(finished or started or "")[:10] or "—",
        "lab": str(settings.get("lab") or ""),
        "lab_address": str(settings.get("lab_address") or ""),
        "accreditation": str(settings.get("accreditation") or ""),
        "accreditation_body": str(settings.get("accreditation_body") or ""),
        "customer": str(settings.get("customer") or ""),
        "customer_address": str(settings.get("customer_address") or ""),
        "operator": str(settings.get("operator") or ""),
        "signatories": signatories(settings),
        "profile_hash": _profile_hash(profile),
        "running_title": " · ".join(
            str(dut_map[k]) for k in ("vendor", "model", "serial") if dut_map.get(k)
        ),
        "traceability": _traceability(tables, others),
        "title": title,
        "standards": standards,
        "suites_run": suites_run(cases),
        "conditions": ambient,
        "clocks": clocks(summary),
        "bench_version": _text(bench.get("version")),
        "bench_git": _text(bench.get("git")),
        "dut": _identity(dut_map, words),
        "started": _text(started),
        "finished": _text(finished),
        "elapsed": _elapsed(started, finished),
        "profile_source": _text(profile_map.get("source")),
        "profile_sections": _profile_sections(profile, words),
        "overall": verdict,
        "totals": totals,
        "total": len(cases),
        "suites": _suites(cases),
        "signature": _mapping(signature),
        "instruments": instruments,
        "deviations": deviations(
            cases,
            raw_cases,
            settings=settings,
            dut=dut_map,
            verdict=verdict,
            instruments=instruments,
            ambient_stated=bool(ambient["temperature"]),
        ),
        "decision_rule": rule if rule in words["rules"] else "guarded",
        "decision_rule_given": rule,
        "decisions": _decision_summary(cases),
        "accuracy": accuracy_sources(profile_map),
    }


# --------------------------------------------------------------------------- API


def render_report(
    summary: dict[str, Any],
    *,
    signature: Mapping[str, Any] | None = None,
    base_dir: Path | None = None,
) -> str:
    """The report page for one run's summary (the ``summary.json`` dict).

    ``signature`` is :meth:`vgi_bench.reports.signing.Signer.describe` of the key that will sign
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
