"""``junit.xml`` as CI servers should show a conformance run: by suite, case id and title.

pytest's junitxml names a test by its module and function (``test_dn1001_brm_timeout``
under ``vgi_bench.testcases.gbt27930.charger.test_1_handshake``, in one
``<testsuite name="pytest">``).
Jenkins and GitLab show those names. The bench gives every case the properties
``case_id``, ``suite``, ``title`` and ``clause`` (:func:`case_properties`) and, once it
ends, its ``verdict``; junitxml writes them into the case's ``<properties>``. :func:`relabel`
then rewrites the finished file: one ``<testsuite>`` per bench suite
(``gbt27930.charger``), each case's ``classname`` the suite and its ``name`` the case id and
title (``DN.1001 BRM timeout``). The failure/error/skipped elements and their messages stay
as junitxml wrote them, except that a ``<failure>`` of a case the bench calls an error (an
exception that is not an assertion, ``pytest.fail``) becomes an ``<error>``, so a CI
server counts failures and errors as the report does. A case outside any suite keeps its
junitxml classname and suite; tests that are not cases are left as they are.

Hand-written over ``xml.etree`` (the names are the bench's; no library writes them).
Rewriting is idempotent; a file it cannot read is left as it is.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from vgi_bench.cases import CaseInfo

log = logging.getLogger(__name__)

#: Properties a case carries in junit.xml, in this order (``verdict`` added at its end).
PROPERTY_NAMES = ("case_id", "suite", "title", "clause", "verdict")
_COUNTED = {"failure": "failures", "error": "errors", "skipped": "skipped"}


def case_properties(info: CaseInfo, suite: str) -> list[tuple[str, str]]:
    """What junitxml records of a case (pytest ``user_properties``), for :func:`relabel`."""
    return [("case_id", info.id), ("suite", suite), ("title", info.title), ("clause", info.clause)]


def relabel(path: Path) -> bool:
    """Rewrite ``path`` in place, one testsuite per bench suite; False if it was not read."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        log.warning("junit.xml not relabelled: %s", exc)
        return False
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        return False
    first = suites[0]
    grouped: dict[str, list[ET.Element]] = {}
    shared: list[ET.Element] = []  # suite-level <properties> (record_testsuite_property)
    for suite in suites:
        shared.extend(suite.findall("properties"))
        for case in suite.findall("testcase"):
            group = _rename(case) or suite.get("name") or "pytest"
            grouped.setdefault(group, []).append(case)
    out = ET.Element("testsuites", _totals([c for cases in grouped.values() for c in cases]))
    out.set("name", "vgi-bench")
    for name, cases in grouped.items():
        element = ET.SubElement(out, "testsuite", {"name": name, **_totals(cases)})
        for attr in ("timestamp", "hostname"):
            if first.get(attr) is not None:
                element.set(attr, first.get(attr, ""))
        element.extend(shared)
        element.extend(cases)
    ET.indent(out)
    tmp = path.with_name(path.name + ".tmp")
    ET.ElementTree(out).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, path)
    return True


def _rename(case: ET.Element) -> str | None:
    """Name a case's testcase element as the bench does; its suite, None if not in one."""
    props = {
        p.get("name"): p.get("value", "")
        for p in case.findall("properties/property")
        if p.get("name") in PROPERTY_NAMES
    }
    if not props.get("case_id"):
        return None  # not a conformance case
    case.set("name", f"{props['case_id']} {props.get('title', '')}".strip())
    if props.get("verdict") == "error":
        for element in case.findall("failure"):
            element.tag = "error"
    if not props.get("suite"):
        return None
    case.set("classname", props["suite"])
    return props["suite"]


def _totals(cases: list[ET.Element]) -> dict[str, str]:
    counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        for tag, key in _COUNTED.items():
            if case.find(tag) is not None:
                counts[key] += 1
    seconds = sum(_float(case.get("time")) for case in cases)
    return {**{k: str(v) for k, v in counts.items()}, "time": f"{seconds:.3f}"}


def _float(text: str | None) -> float:
    try:
        return float(text or 0)
    except ValueError:
        return 0.0
