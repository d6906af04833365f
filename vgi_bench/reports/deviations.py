"""Deviations from the methods (ISO/IEC 17025 §7.8.2.1, §7.8.3.1 a): the lab's and the bench's.

The lab states its own in ``[report] deviations = [...]``. The bench adds what it knows
from the run itself, so no reader has to find it in the case pages:

* ``simulated`` -- the item tested is the bench's own reference DUT (with its faults);
* ``not_run`` -- cases skipped, by reason; ``error`` -- cases the bench could not carry
  out; ``unknown`` -- cases without a verdict; ``unfinished`` -- the run did not finish;
* ``interpretation`` -- cases whose clause text says the method is the bench's reading
  (``bench interpretation``, content ``not public``);
* ``draft`` -- cases against a draft, not a standard (``DRAFT``, ``not a standard``);
* ``unverified`` -- cases judged against a limit marked UNVERIFIED (figure not checked
  against the standard's text), with the note the case recorded;
* ``calibration`` -- an instrument whose calibration had expired;
* ``ambient`` -- the power stage ran but the profile states no ambient conditions.

Each deviation is ``{"kind", "text", "cases"}``; the report words ``kind`` in its language
and shows ``text`` (data: a reason, a note) as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from vgi_bench.reports.verdict import Overall

__all__ = ["deviations"]

_INTERPRETATION = re.compile(r"bench interpretation|not public", re.IGNORECASE)
_DRAFT = re.compile(r"\bDRAFT\b|not a standard", re.IGNORECASE)
_UNVERIFIED = re.compile(r"^\s*UNVERIFIED\b")
_POWER_SUITES = ("power.",)


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 6:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item, depth + 1)


def _first_line(message: str) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= 200 else line[:199] + "…"


def deviations(
    cases: list[dict[str, Any]],
    raw_cases: list[Any],
    *,
    settings: Mapping[str, Any],
    dut: Mapping[str, Any],
    verdict: Overall,
    instruments: list[dict[str, str]],
    ambient_stated: bool,
) -> list[dict[str, Any]]:
    """Every deviation of the run, the lab's first."""
    out: list[dict[str, Any]] = []
    stated = settings.get("deviations")
    for item in stated if isinstance(stated, list) else []:
        if str(item).strip():
            out.append({"kind": "lab", "text": str(item).strip(), "cases": []})
    if dut.get("simulated") is True:
        faults = dut.get("faults")
        shown = ", ".join(str(f) for f in faults) if isinstance(faults, list) else ""
        out.append({"kind": "simulated", "text": shown, "cases": []})
    if "unfinished" in verdict.why:
        out.append({"kind": "unfinished", "text": "", "cases": []})
    for group in verdict.not_run:
        out.append({"kind": "not_run", "text": group.reason, "cases": list(group.cases)})
    for verdict_name in ("error", "unknown"):
        if verdict_name == "error":
            members = [c for c in cases if c["verdict"] == "error"]
        else:
            known = ("passed", "failed", "error", "skipped")
            members = [c for c in cases if c["verdict"] not in known]
        for case in members:
            out.append({"kind": verdict_name, "text": _first_line(case["message"]),
                        "cases": [case]})  # fmt: skip
    interpretation = [c for c in cases if _INTERPRETATION.search(c["clause"])]
    if interpretation:
        out.append({"kind": "interpretation", "text": "", "cases": interpretation})
    draft = [c for c in cases if _DRAFT.search(c["clause"]) or _DRAFT.search(c["title"])]
    if draft:
        out.append({"kind": "draft", "text": "", "cases": draft})
    notes: dict[str, list[dict[str, Any]]] = {}
    for case, raw in zip(cases, raw_cases, strict=False):
        measured = raw.get("measurements") if isinstance(raw, Mapping) else None
        for found in _strings(measured):
            if _UNVERIFIED.match(found):
                members = notes.setdefault(found.strip(), [])
                if case not in members:
                    members.append(case)
    for note, members in notes.items():
        out.append({"kind": "unverified", "text": note, "cases": members})
    for inst in instruments:
        if inst.get("status") == "expired":
            what = " ".join(v for v in (inst.get("instrument"), inst.get("serial")) if v)
            out.append({"kind": "calibration", "text": what, "cases": []})
    power_ran = any(c["suite"].startswith(_POWER_SUITES) for c in cases)
    if power_ran and not ambient_stated:
        out.append({"kind": "ambient", "text": "", "cases": []})
    return out
