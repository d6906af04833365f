"""What an ISO/IEC 17025 report states on its cover (§7.8.2.1), from the run's summary.

The report number, the parties (laboratory with address and accreditation, customer),
the title naming the DUT and the standards, the standards and methods applied, the test
conditions (location, ambient, the clocks that stamped the bus), and who tested, reviewed
and approved. Values come from the profile's ``[report]`` and ``[dut]`` sections as
recorded in ``summary.json``; what is missing is shown as missing, never invented.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from vgi_bench.reports.measurements import text
from vgi_bench.reports.traceability import StandardMatrix

__all__ = [
    "applied_standards",
    "clocks",
    "conditions",
    "report_number",
    "signatories",
    "suites_run",
]


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _word(value: Any) -> str:
    return "" if value is None else str(value).strip()


def report_number(summary: Mapping[str, Any]) -> str:
    """``[report] number``, else ``PREFIX-YYYYMMDD-HHMMSS-XXXXXX``: the run's start (UTC)
    and the first hex digits of the SHA-256 of its start, profile and DUT -- the same
    number each time the report of one run is rebuilt, another for any other run."""
    profile = _mapping(summary.get("profile"))
    settings = _mapping(profile.get("report"))
    given = _word(settings.get("number"))
    if given:
        return given
    prefix = _word(settings.get("number_prefix")) or "VGI"
    started = summary.get("started")
    try:
        stamp = datetime.fromisoformat(str(started)).astimezone(timezone.utc)
        when = stamp.strftime("%Y%m%d-%H%M%S")
    except (TypeError, ValueError):
        when = "UNDATED"
    identity = {"started": started, "profile": profile, "dut": summary.get("dut")}
    if when == "UNDATED":  # nothing dates the run: its cases tell it apart
        cases = summary.get("cases")
        identity["cases"] = [
            _mapping(c).get("id") for c in (cases if isinstance(cases, list) else [])
        ]
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:6].upper()
    return f"{prefix}-{when}-{digest}"


def suites_run(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The suites of the run, in order of first case, with their titles (vgi_bench.suites)."""
    try:
        from vgi_bench.suites import all_suites

        known = all_suites()
    except Exception:  # a report rebuilt without the bench's suites still renders
        known = {}
    order: dict[str, int] = {}
    for case in cases:
        order[case["suite"]] = order.get(case["suite"], 0) + 1
    out = []
    for name, count in order.items():
        suite = known.get(name)
        out.append({
            "name": name, "title": suite.title if suite else "", "cases": count,
            "dut_role": suite.dut_role if suite else "",
        })  # fmt: skip
    return out


def applied_standards(tables: list[StandardMatrix], suites: set[str]) -> list[dict[str, str]]:
    """The standards whose suites ran: the methods applied and what the DUT was tested to."""
    return [
        {"name": t.standard.name, "title": t.standard.title, "kind": t.standard.kind}
        for t in tables
        if set(t.standard.suites) & suites
    ]


def title_parts(standards: list[dict[str, str]]) -> tuple[str, str]:
    """(specifications, methods) of the title, each a comma-separated list of names."""
    specs = ", ".join(s["name"] for s in standards if s["kind"] != "method")
    methods = ", ".join(s["name"] for s in standards if s["kind"] == "method")
    return specs, methods


def dut_name(dut: Mapping[str, Any]) -> str:
    return " ".join(_word(dut.get(k)) for k in ("vendor", "model") if _word(dut.get(k)))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def conditions(settings: Mapping[str, Any]) -> dict[str, str]:
    """Location and ambient conditions as the lab stated them in ``[report]``."""
    temperature = _number(settings.get("ambient_temperature_c"))
    humidity = _number(settings.get("relative_humidity_pct"))
    return {
        "location": _word(settings.get("location")),
        "temperature": f"{temperature:g} °C" if temperature is not None else "",
        "humidity": f"{humidity:g} %" if humidity is not None else "",
    }


def _seconds(value: Any) -> str:
    number = _number(value)
    if number is None:
        return text(value) if value not in (None, "") else ""
    if number == 0:
        return "0 s"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(number) >= scale:
            return f"{number / scale:.3g} {unit}"
    return f"{number:.3g} s"


def clocks(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    """``summary["clocks"]``: which clock stamped each bus, its resolution and uncertainty."""
    listed = summary.get("clocks")
    out = []
    for entry in listed if isinstance(listed, list) else []:
        item = _mapping(entry)
        if not item:
            continue
        out.append({
            "bus": _word(item.get("bus")),
            "interface": _word(item.get("interface")),
            "channel": _word(item.get("channel")),
            "kind": _word(item.get("kind")),
            "stamped_by": _word(item.get("stamped_by")),
            "resolution": _seconds(item.get("resolution_s")),
            "uncertainty": _seconds(item.get("uncertainty_s")),
        })  # fmt: skip
    return out


def signatories(settings: Mapping[str, Any]) -> list[dict[str, str]]:
    """Tested by (default: the operator), reviewed by, approved by -- names from [report]."""
    tested = _word(settings.get("tested_by")) or _word(settings.get("operator"))
    return [
        {"role": "tested_by", "name": tested},
        {"role": "reviewed_by", "name": _word(settings.get("reviewed_by"))},
        {"role": "approved_by", "name": _word(settings.get("approved_by"))},
    ]


def accuracy_sources(profile: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each instrument's stated accuracy (profile ``accuracy``): the electrical budget."""
    out = []
    for name, config in _mapping(profile.get("instruments")).items():
        inst = _mapping(config)
        for quantity, pair in _mapping(inst.get("accuracy")).items():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                out.append({
                    "instrument": str(name), "driver": _word(inst.get("driver")),
                    "serial": _word(inst.get("serial")), "quantity": str(quantity),
                    "reading": text(pair[0]), "absolute": text(pair[1]),
                })  # fmt: skip
    return out
