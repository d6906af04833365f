"""What allure shows of a conformance run: case titles and labels, measurements, run facts.

allure-pytest writes the result files; this plugin only tells it what the bench knows,
at the moments allure-pytest lets it stick:

* the title (``"DN.1001 BRM timeout"``) and the labels once allure-pytest has named the
  test from its function at the end of setup (a title set earlier, in a fixture, is
  overwritten there), so setup errors carry it too;
* the measurements during the call phase, so allure shows them in the test body, not
  under a fixture's tear down;
* the allure status the bench's verdict has: allure-pytest calls an ``AssertionError``
  in setup or teardown, or ``pytest.fail`` in the body, *failed*, the bench calls them an
  error (:func:`conformance_failure`), and ``categories.json`` sorts by status;
* ``environment.properties`` (DUT, bench, profile and its SHA-256) and ``categories.json``
  at the end of the run, before ``report.sig`` is made.

Reaching allure-pytest's current test result (for the status) uses its listener's
reporter, which has no public API for it; if that changes, statuses stay allure's own
and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Generator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from vgi_bench.cases import MARKER, CaseInfo, case_info
from vgi_bench.suites import suite_for_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

log = logging.getLogger(__name__)


def conformance_failure(when: str, excinfo: pytest.ExceptionInfo[BaseException] | None) -> bool:
    """Whether a failed phase is the DUT failing the case (else it is a bench error).

    The rule the report's verdicts use (``vgi_bench.plugin._verdict``): only an assertion
    failing in the test body is a conformance failure.
    """
    return when == "call" and excinfo is not None and excinfo.errisinstance(AssertionError)


def case_title(info: CaseInfo) -> str:
    """A case as verdict tables name it: ``"DN.1001 BRM timeout"``."""
    return f"{info.id} {info.title}".strip()


def clause_references(clause: str) -> list[str]:
    """The references of a ``clause`` text (``"A §1; B CHM"`` -> ``["A §1", "B CHM"]``)."""
    return [ref.strip() for ref in clause.split(";") if ref.strip()]


class AllureCases:
    """pytest plugin registered by vgi_bench.plugin when allure-pytest writes results."""

    def __init__(self, config: pytest.Config, measurements_key: pytest.StashKey[Any]) -> None:
        self.config = config
        self.measurements_key = measurements_key

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after allure-pytest's setup
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            info = case_info(item)
            if info is not None:
                _guarded(_label, item, info)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            measured = item.stash.get(self.measurements_key, None)
            info = case_info(item)
            if info is not None and measured:
                _guarded(_attach_measurements, info, measured)

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after allure-pytest's status
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if (
            report.failed
            and item.get_closest_marker(MARKER) is not None
            and not conformance_failure(report.when, call.excinfo)
        ):
            _guarded(self._mark_broken)
        return report

    def _mark_broken(self) -> None:
        from allure_commons.model2 import Status

        listener = self.config.pluginmanager.get_plugin("allure_listener")
        result = listener.allure_logger.get_test(None) if listener is not None else None
        if result is not None and result.status == Status.FAILED:
            result.status = Status.BROKEN


def _guarded(func: Any, *args: Any) -> None:
    """allure is evidence beside the verdict: a problem with it never fails a case."""
    try:
        func(*args)
    except Exception:
        log.warning("allure: %s failed", getattr(func, "__name__", func), exc_info=True)


def _label(item: pytest.Item, info: CaseInfo) -> None:
    """Title, id, ``tms`` link, clause labels, suite, and clause/case as feature/story.

    The ``tms`` link is named by the case id; ``--allure-link-pattern tms:URL/{}`` turns
    it into a link to the lab's own system. Feature = the first clause reference and
    story = the case, so allure's Behaviors tab reads by clause.
    """
    import allure

    references = clause_references(info.clause)
    allure.dynamic.title(case_title(info))
    allure.dynamic.id(info.id)
    allure.dynamic.testcase(info.id, name=info.id)
    allure.dynamic.label("clause", info.clause)
    for ref in references:
        allure.dynamic.label("clause_ref", ref)
    if references:
        allure.dynamic.feature(references[0])
    allure.dynamic.story(case_title(info))
    suite = suite_for_path(Path(str(item.path)))
    if suite:
        allure.dynamic.suite(suite)


def _attach_measurements(info: CaseInfo, measured: Mapping[str, Any]) -> None:
    import allure

    allure.attach(
        json.dumps(dict(measured), indent=2, ensure_ascii=False, default=str),
        name=f"{info.id} measurements",
        attachment_type=allure.attachment_type.JSON,
    )


# ---------------------------------------------------------------- run files


def profile_sha256(profile: Any) -> str:
    """SHA-256 of the profile as ``summary.json`` records it (secrets masked), canonical JSON.

    The same figure the report's cover prints (``vgi_bench/reports/html.py``), so a lab can match
    allure's environment to the signed report.
    """
    text = json.dumps(profile, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def environment(summary: Mapping[str, Any]) -> dict[str, str]:
    """The run facts allure's Environment widget shows, from the run's summary."""
    dut, bench = _mapping(summary.get("dut")), _mapping(summary.get("bench"))
    profile = summary.get("profile")
    source = _mapping(profile).get("source")
    facts = {f"DUT.{key}": dut.get(key) for key in ("vendor", "model", "serial", "firmware")}
    facts |= {
        "Bench.version": bench.get("version"),
        "Bench.git": bench.get("git"),
        "Profile.source": source or "embedded default",
        "Profile.sha256": profile_sha256(profile) if profile is not None else None,
        "Started": summary.get("started"),
        "Finished": summary.get("finished"),
    }
    return {key: str(value) for key, value in facts.items() if value not in (None, "")}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def properties_text(facts: Mapping[str, str]) -> str:
    r"""``facts`` as a Java ``.properties`` file (what allure reads), one ``key=value`` a line.

    Written by hand (a few lines; no library needed): ``\``, ``=``, ``:``, ``#``, ``!``
    and spaces are escaped in keys, line breaks and a leading space in values, and every
    other character outside printable ASCII as ``\uXXXX`` (ISO 8859-1 is what
    ``Properties.load`` assumes), so any Java reader gets the text right.
    """

    def escape(text: str, key: bool) -> str:
        out = []
        for i, char in enumerate(text):
            if char == "\\":
                out.append("\\\\")
            elif char in _CONTROL:
                out.append(_CONTROL[char])
            elif (key and char in "=: #!") or (not key and i == 0 and char == " "):
                out.append("\\" + char)
            elif not 0x20 <= ord(char) <= 0x7E:
                out.extend(f"\\u{unit:04x}" for unit in _utf16_units(char))
            else:
                out.append(char)
        return "".join(out)

    return "".join(f"{escape(k, True)}={escape(v, False)}\n" for k, v in facts.items())


_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}


def _utf16_units(char: str) -> list[int]:
    data = char.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def categories() -> list[dict[str, Any]]:
    """allure's categories for a conformance run (``vgi_bench/data/allure_categories.toml``)."""
    text = resources.files("vgi_bench").joinpath("data/allure_categories.toml").read_text("utf-8")
    return list(tomllib.loads(text)["category"])


def write_run_files(allure_dir: Path, summary: Mapping[str, Any]) -> None:
    """``environment.properties`` and ``categories.json`` into the allure results directory."""
    allure_dir.mkdir(parents=True, exist_ok=True)
    (allure_dir / "environment.properties").write_text(
        properties_text(environment(summary)), encoding="ascii"
    )
    (allure_dir / "categories.json").write_text(
        json.dumps(categories(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
