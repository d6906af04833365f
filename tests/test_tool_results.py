"""allure results and junit.xml of a conformance run, read as allure and CI servers read them.

One pytest run in a subprocess (as a lab runs ``pytest`` with the bench's plugin) of small
cases that pass, fail, error in setup, in teardown and in the body, and skip. Its allure
result files are checked for the title a verdict table uses, the status the bench's
verdict has, the category ``categories.json`` files it under, where the measurements sit,
and ``environment.properties`` (vgi_bench/allure_results.py); its junit.xml for case names,
properties and failure/error/skipped elements, and a junit.xml of several suites for one
testsuite per suite (vgi_bench/junit.py), parsed with ``xml.etree`` and, where installed,
``junitparser``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from vgi_bench.allure_results import environment, profile_sha256, properties_text
from vgi_bench.junit import relabel

CASES = """
import pytest
from vgi_bench.cases import case, fail

@pytest.fixture
def unready_rig():
    assert False, "rig not ready"

@pytest.fixture
def leaky_rig():
    yield
    assert False, "rig left the contactor closed"

@case("XP.1001", "STD-1 §1; STD-2 MSG", "answers in time")
def test_pass(measurements):
    measurements.record("answer", {"value_ms": 1.5, "limit_ms": 5.0})

@case("XN.1001", "STD-1 §2", "late answer")
def test_fail(measurements):
    measurements.record("answer", {"value_ms": 7.0, "limit_ms": 5.0})
    fail("an answer within 5 ms", "7 ms")

@case("XE.1001", "STD-1 §3", "rig fails in setup")
def test_setup_error(unready_rig):
    pass

@case("XE.1002", "STD-1 §3", "rig fails in teardown")
def test_teardown_error(leaky_rig, measurements):
    measurements.record("answer", {"value_ms": 1.0})

@case("XE.1003", "STD-1 §3", "bench exception in the body")
def test_body_error():
    raise RuntimeError("link down")

@case("XE.1004", "STD-1 §3", "pytest.fail in the body")
def test_pytest_fail():
    pytest.fail("bench gave up")

@case("XS.1001", "STD-1 §4", "not applicable here")
def test_skip():
    pytest.skip("no power analyzer")
"""

#: Case id -> (bench verdict, allure status, allure category).
EXPECTED = {
    "XP.1001": ("passed", "passed", None),
    "XN.1001": ("failed", "failed", "Conformance failures"),
    "XE.1001": ("error", "broken", "Bench errors"),
    "XE.1002": ("error", "broken", "Bench errors"),
    "XE.1003": ("error", "broken", "Bench errors"),
    "XE.1004": ("error", "broken", "Bench errors"),
    "XS.1001": ("skipped", "skipped", "Skipped / not run"),
}


class Run:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.allure = out / "allure-results"
        self.results = [json.loads(p.read_text()) for p in self.allure.glob("*-result.json")]
        self.containers = [json.loads(p.read_text()) for p in self.allure.glob("*-container.json")]
        self.verdicts = {
            c["id"]: c["verdict"]
            for c in map(json.loads, (out / "results.jsonl").read_text().splitlines())
        }

    def result(self, case_id: str) -> dict[str, Any]:
        (found,) = [r for r in self.results if {"name": "as_id", "value": case_id} in r["labels"]]
        return found


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("allure-run")
    (base / "test_cases.py").write_text(CASES, encoding="utf-8")
    out = base / "out"
    subprocess.run(
        [
            sys.executable, "-m", "pytest", "test_cases.py", "-p", "no:cacheprovider",
            "--vgi-out", str(out), "--vgi-no-pdf", "--alluredir", str(out / "allure-results"),
            f"--junitxml={out / 'junit.xml'}",
        ],
        cwd=base, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return Run(out)


def test_every_case_is_titled_by_id_and_title(run: Run) -> None:
    names = sorted(r["name"] for r in run.results)
    assert names == [
        "XE.1001 rig fails in setup",
        "XE.1002 rig fails in teardown",
        "XE.1003 bench exception in the body",
        "XE.1004 pytest.fail in the body",
        "XN.1001 late answer",
        "XP.1001 answers in time",
        "XS.1001 not applicable here",
    ]


def test_labels_of_a_case(run: Run) -> None:
    result = run.result("XP.1001")
    labels = {(label["name"], label["value"]) for label in result["labels"]}
    assert {
        ("clause", "STD-1 §1; STD-2 MSG"),
        ("clause_ref", "STD-1 §1"),
        ("clause_ref", "STD-2 MSG"),
        ("feature", "STD-1 §1"),
        ("story", "XP.1001 answers in time"),
    } <= labels
    assert {"type": "tms", "url": "XP.1001", "name": "XP.1001"} in result["links"]


def _category(result: dict[str, Any], categories: list[dict[str, Any]]) -> str | None:
    """The category allure files a result under: the first that matches it."""
    details = result.get("statusDetails") or {}
    for category in categories:
        if result.get("status") not in category.get("matchedStatuses", []):
            continue
        if "messageRegex" in category and not re.fullmatch(
            category["messageRegex"], details.get("message") or "", re.S
        ):
            continue
        if "traceRegex" in category and not re.fullmatch(
            category["traceRegex"], details.get("trace") or "", re.S
        ):
            continue
        return category["name"]
    return None


def test_status_and_category_follow_the_bench_verdict(run: Run) -> None:
    categories = json.loads((run.allure / "categories.json").read_text(encoding="utf-8"))
    seen = {}
    for case_id in EXPECTED:
        result = run.result(case_id)
        seen[case_id] = (run.verdicts[case_id], result["status"], _category(result, categories))
    assert seen == EXPECTED


def test_failure_message_is_kept(run: Run) -> None:
    details = run.result("XN.1001")["statusDetails"]
    assert "expected an answer within 5 ms; saw 7 ms" in details["message"]


def test_measurements_are_attached_in_the_test_body(run: Run) -> None:
    for case_id in ("XP.1001", "XN.1001", "XE.1002"):
        (attachment,) = run.result(case_id)["attachments"]
        assert attachment["name"] == f"{case_id} measurements"
        assert "answer" in json.loads((run.allure / attachment["source"]).read_text())
    fixture_attachments = [
        a["name"]
        for container in run.containers
        for step in container.get("befores", []) + container.get("afters", [])
        for a in step.get("attachments", [])
    ]
    assert not [name for name in fixture_attachments if "measurements" in name]


def read_properties(text: str) -> dict[str, str]:
    """A Java .properties file as ``Properties.load`` reads it (one ``key=value`` a line)."""

    def unescape(raw: str) -> str:
        raw = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), raw)
        controls = {"n": "\n", "r": "\r", "t": "\t", "f": "\f"}
        text = re.sub(r"\\(.)", lambda m: controls.get(m[1], m[1]), raw)
        return text.encode("utf-16", "surrogatepass").decode("utf-16")

    pairs = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "!")):
            continue
        key, value = re.split(r"(?<!\\)=", line, maxsplit=1)
        pairs[unescape(key)] = unescape(value)
    return pairs


def test_environment_names_the_dut_bench_and_profile(run: Run) -> None:
    text = (run.allure / "environment.properties").read_text(encoding="ascii")
    env = read_properties(text)
    summary = json.loads((run.out / "summary.json").read_text(encoding="utf-8"))
    assert env["DUT.vendor"] == summary["dut"]["vendor"]
    assert env["DUT.serial"] == summary["dut"]["serial"]
    assert env["Bench.version"] == summary["bench"]["version"]
    assert env["Bench.git"] == summary["bench"]["git"]
    assert env["Profile.source"] == summary["profile"]["source"]
    assert re.fullmatch(r"[0-9a-f]{64}", env["Profile.sha256"])
    # The same hash the report prints on its cover.
    assert env["Profile.sha256"] in (run.out / "report.html").read_text(encoding="utf-8")


def test_run_files_are_signed(run: Run) -> None:
    signed = json.loads((run.out / "report.sig").read_text(encoding="utf-8"))
    names = set(json.dumps(signed).split('"'))
    assert "allure-results/environment.properties" in names
    assert "allure-results/categories.json" in names


def test_properties_escape_what_java_would_misread() -> None:
    facts = {
        "DUT.model": "快充 DC-120: 120 kW \U0001f50c",
        "Profile.source": "C:\\lab\\p.toml",
        "k y": " x\ny",
    }
    text = properties_text(facts)
    assert text.isascii()
    assert read_properties(text) == facts
    assert "k\\ y=\\ x\\ny\n" in text


def test_environment_of_a_bare_summary() -> None:
    env = environment({"dut": {"vendor": "ACME", "model": None}, "profile": {"source": ""}})
    assert env == {
        "DUT.vendor": "ACME",
        "Profile.source": "embedded default",
        "Profile.sha256": profile_sha256({"source": ""}),
    }
    assert environment({}) == {"Profile.source": "embedded default"}


# --------------------------------------------------------------------------- junit.xml


def props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def test_junit_cases_are_named_by_id_and_title(run: Run) -> None:
    root = ET.parse(run.out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    cases = {props(c)["case_id"]: c for c in root.iter("testcase")}
    assert cases["XN.1001"].get("name") == "XN.1001 late answer"
    assert props(cases["XN.1001"]) == {
        "case_id": "XN.1001",
        "suite": "",  # a case outside the bench's suites keeps pytest's classname and suite
        "title": "late answer",
        "clause": "STD-1 §2",
        "verdict": "failed",
    }
    assert cases["XN.1001"].get("classname") == "test_cases"
    kinds = {
        case_id: [child.tag for child in case if child.tag != "properties"]
        for case_id, case in cases.items()
    }
    assert kinds == {
        "XP.1001": [],
        "XN.1001": ["failure"],
        "XE.1001": ["error"],
        "XE.1002": ["error"],
        "XE.1003": ["error"],  # pytest writes <failure>; the bench's verdict is error
        "XE.1004": ["error"],
        "XS.1001": ["skipped"],
    }
    failure = cases["XN.1001"].find("failure")
    assert failure is not None
    assert "expected an answer within 5 ms; saw 7 ms" in failure.get("message", "")
    assert "no power analyzer" in cases["XS.1001"].find("skipped").get("message", "")  # type: ignore[union-attr]
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "1", "4")
    assert suite.get("skipped") == "1"


#: junit.xml as pytest's junitxml writes it for two bench suites and one plain test.
PYTEST_JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">\
<testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="9.5" \
timestamp="2026-01-01T00:00:00+00:00" hostname="bench-1">\
<testcase classname="vgi_bench.testcases.gbt27930.charger.test_1_handshake" \
name="test_dn1001_brm_timeout" \
time="5.5"><properties><property name="case_id" value="DN.1001" />\
<property name="suite" value="gbt27930.charger" /><property name="title" value="BRM timeout" />\
<property name="clause" value="GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CEM SPN3921" />\
<property name="verdict" value="failed" /></properties>\
<failure message="expected CEM; saw none">trace</failure></testcase>\
<testcase classname="vgi_bench.testcases.gbt27930.bms.test_1_handshake" \
name="test_bp1001_bhm" time="3">\
<properties><property name="case_id" value="BP.1001" />\
<property name="suite" value="gbt27930.bms" />\
<property name="title" value="BHM" /><property name="clause" value="GB/T 34658-2017 §7.4.1" />\
<property name="verdict" value="error" /></properties>\
<failure message="RuntimeError: bus down">trace</failure></testcase>\
<testcase classname="vgi_bench.testcases.gbt27930.charger.test_2" name="test_dp2001" time="1">\
<properties><property name="case_id" value="DP.2001" />\
<property name="suite" value="gbt27930.charger" />\
<property name="title" value="BCP" /><property name="clause" value="§7.5.2" />\
<property name="verdict" value="skipped" /></properties>\
<skipped type="pytest.skip" message="no BCP">skip</skipped></testcase>\
<testcase classname="tests.test_x" name="test_helper" time="0"><error message="oops">e</error>\
</testcase></testsuite></testsuites>"""


def test_junit_of_several_suites_has_one_testsuite_each(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(PYTEST_JUNIT, encoding="utf-8")
    assert relabel(path)
    root = ET.parse(path).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["gbt27930.charger", "gbt27930.bms", "pytest"]
    charger = suites["gbt27930.charger"]
    assert [(c.get("classname"), c.get("name")) for c in charger.findall("testcase")] == [
        ("gbt27930.charger", "DN.1001 BRM timeout"),
        ("gbt27930.charger", "DP.2001 BCP"),
    ]
    attrs = ("tests", "failures", "errors", "skipped", "time", "hostname")
    assert [charger.get(a) for a in attrs] == ["2", "1", "0", "1", "6.500", "bench-1"]
    (bms_case,) = suites["gbt27930.bms"].findall("testcase")
    assert bms_case.find("failure") is None
    assert bms_case.find("error").get("message") == "RuntimeError: bus down"  # type: ignore[union-attr]
    (plain,) = suites["pytest"].findall("testcase")
    assert (plain.get("classname"), plain.get("name")) == ("tests.test_x", "test_helper")
    assert [root.get(a) for a in ("tests", "failures", "errors", "skipped")] == ["4", "1", "2", "1"]
    first = path.read_bytes()
    assert relabel(path)  # `vgi-bench report` may run it again: nothing changes
    assert path.read_bytes() == first


def test_junit_reads_in_junitparser(tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "junit.xml"
    path.write_text(PYTEST_JUNIT, encoding="utf-8")
    relabel(path)
    xml = junitparser.JUnitXml.fromfile(str(path))
    seen = {
        suite.name: [(case.classname, case.name, [type(r).__name__ for r in case.result])
                     for case in suite]
        for suite in xml
    }  # fmt: skip
    assert seen == {
        "gbt27930.charger": [
            ("gbt27930.charger", "DN.1001 BRM timeout", ["Failure"]),
            ("gbt27930.charger", "DP.2001 BCP", ["Skipped"]),
        ],
        "gbt27930.bms": [("gbt27930.bms", "BP.1001 BHM", ["Error"])],
        "pytest": [("tests.test_x", "test_helper", ["Error"])],
    }
    charger = next(iter(xml))
    assert (charger.tests, charger.failures, charger.errors, charger.skipped) == (2, 1, 0, 1)


@pytest.mark.parametrize("text", ["", "<testsuites><testsuite", "<html/>"])
def test_junit_that_cannot_be_read_is_left_alone(tmp_path: Path, text: str) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(text, encoding="utf-8")
    assert not relabel(path)
    assert path.read_text(encoding="utf-8") == text
