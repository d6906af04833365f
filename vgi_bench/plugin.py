"""The pytest plugin: profile, results files and the report for conformance runs.

Loaded through the ``pytest11`` entry point, so ``pytest vgi_bench/testcases/...`` and
``vgi-bench run`` are the same run. It stays inert in sessions that collect no case
marked with :func:`vgi_bench.cases.case` (the bench's own unit tests, for instance).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from vgi_bench.allure_results import AllureCases
from vgi_bench.allure_results import write_run_files as write_allure_run_files
from vgi_bench.can.node import tune_for_realtime
from vgi_bench.cases import MARKER, CaseFailure, Measurements, case_info
from vgi_bench.evidence import entries_of
from vgi_bench.junit import case_properties
from vgi_bench.junit import relabel as relabel_junit
from vgi_bench.profile import Profile, ProfileError, load_profile
from vgi_bench.results import (
    CaseResult,
    ResultLog,
    build_summary,
    iso_from_epoch,
    now_iso,
    read_results,
    write_summary,
)
from vgi_bench.suites import suite_for_path

log = logging.getLogger(__name__)

MEASUREMENTS_KEY = pytest.StashKey[Measurements]()
PHASES_KEY = pytest.StashKey[dict]()
PROFILE_KEY = pytest.StashKey[Profile]()
SUMMARY_KEY = pytest.StashKey[dict]()
REPORT_PROBLEMS_KEY = pytest.StashKey[list]()
FRAMES_KEY = pytest.StashKey[list]()
FRAMES_SHOWN = 12  # messages before the verdict shown on the report


@dataclass
class RunContext:
    """One conformance run: where results go and what the DUT is."""

    profile: Profile
    out_dir: Path
    started: str = field(default_factory=now_iso)
    log: ResultLog | None = None
    resume: bool = False

    def __post_init__(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / "results.jsonl"
        if self.resume:  # carry on: keep the lines, file the rest of the last attempt away
            earlier = [c.get("started") for c in read_results(path) if c.get("started")]
            self.started = min(earlier, default=self.started)
            _file_attempt(self.out_dir)
        elif path.exists():  # a re-run into the same directory keeps the old lines aside
            path.replace(path.with_name(f"results.{int(path.stat().st_mtime)}.jsonl"))
        self.log = ResultLog(path)


#: What a resumed run keeps in place; everything else of the interrupted attempt (its
#: captures, logs, junit.xml, a partial report) moves to ``attempts/N/`` so nothing is
#: overwritten by the new attempt and report.sig still covers it.
_KEPT_ON_RESUME = frozenset({"results.jsonl", "allure-results", "attempts"})


def _file_attempt(out_dir: Path) -> None:
    entries = [p for p in out_dir.iterdir() if p.name not in _KEPT_ON_RESUME]
    if not entries:
        return
    attempts = out_dir / "attempts"
    number = 1 + sum(1 for p in attempts.iterdir() if p.is_dir()) if attempts.exists() else 1
    target = attempts / str(number)
    target.mkdir(parents=True)
    for entry in entries:
        entry.replace(target / entry.name)


def finished_nodeids(out_dir: Path) -> set[str]:
    """Cases of ``out_dir/results.jsonl`` that have a verdict (``--vgi-resume`` skips them)."""
    return {str(c["nodeid"]) for c in read_results(out_dir / "results.jsonl") if c.get("nodeid")}


RUN_KEY = pytest.StashKey[RunContext]()


def default_out_dir() -> Path:
    return Path("out") / datetime.now().strftime("%Y%m%d-%H%M%S")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vgi-bench", "vgi-bench conformance runs")
    group.addoption("--vgi-profile", default=None, help="profile TOML (default: embedded)")
    group.addoption("--vgi-out", default=None, help="results directory (default out/<time>)")
    group.addoption(
        "--vgi-resume",
        action="store_true",
        help="carry on an interrupted run in --vgi-out: skip cases already in results.jsonl",
    )
    group.addoption(
        "--vgi-no-pdf",
        action="store_true",
        help="no report.pdf (the bench's own tests: saves about 3 s of CPU per run)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(id, clause, title): a conformance case and the clause it checks"
    )
    config.addinivalue_line(  # here, not in pyproject.toml: an installed bench has none
        "markers", "slow: real-time cases with long protocol timeouts (60 s class)"
    )
    try:
        profile = load_profile(config.getoption("--vgi-profile"))
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[PROFILE_KEY] = profile
    if getattr(config.option, "allure_report_dir", None):  # allure-pytest writes results
        config.pluginmanager.register(AllureCases(config, MEASUREMENTS_KEY), "vgi-allure")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # `-k DP.1003` selects by case id
        info = case_info(item)
        if info is not None:
            item.extra_keyword_matches.add(info.id)
            item.user_properties.extend(case_properties(info, suite_for_path(Path(item.path))))
    if config.getoption("--vgi-resume"):
        out = config.getoption("--vgi-out")
        if not out:
            raise pytest.UsageError("--vgi-resume needs --vgi-out (the run to carry on)")
        done = finished_nodeids(Path(out))
        skipped = [item for item in items if item.nodeid in done]
        if skipped:
            config.hook.pytest_deselected(items=skipped)
            items[:] = [item for item in items if item.nodeid not in done]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Open the run's results directory once the selected cases are known."""
    config = session.config
    if config.option.collectonly or RUN_KEY in config.stash:
        return
    if any(item.get_closest_marker(MARKER) for item in session.items):
        tune_for_realtime()
        out = config.getoption("--vgi-out")
        out_dir = Path(out) if out else default_out_dir()
        config.stash[RUN_KEY] = RunContext(
            config.stash[PROFILE_KEY], out_dir, resume=config.getoption("--vgi-resume")
        )


def run_context(config: pytest.Config) -> RunContext | None:
    return config.stash.get(RUN_KEY, None)


@pytest.fixture(scope="session")
def vgi_profile(pytestconfig: pytest.Config) -> Profile:
    """The profile of this run (``--vgi-profile`` or the embedded default)."""
    return pytestconfig.stash[PROFILE_KEY]


@pytest.fixture(scope="session")
def vgi_out_dir(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this run's files go (raw captures, results)."""
    ctx = run_context(pytestconfig)
    return ctx.out_dir if ctx else tmp_path_factory.mktemp("vgi-out")


@pytest.fixture
def measurements(request: pytest.FixtureRequest) -> Measurements:
    """The case's measurement record; whatever is in it is saved with the verdict."""
    return request.node.stash.setdefault(MEASUREMENTS_KEY, Measurements())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    info = case_info(item)
    ctx = run_context(item.config)
    if info is None or ctx is None:
        return report
    phases = item.stash.setdefault(PHASES_KEY, {})
    phases[report.when] = (report, call)
    if report.when == "call":  # the frames just before the verdict, before teardown
        item.stash[FRAMES_KEY] = last_frames(item)
    if report.when == "teardown":
        _record(item, info, ctx, phases)
        report.user_properties.append(("verdict", _verdict(phases)[0]))  # for junit.xml
    return report


def last_frames(item: pytest.Item, count: int = FRAMES_SHOWN) -> list[dict[str, Any]]:
    """The last ``count`` messages the case's rig saw, for the report.

    Any fixture of the case with a CAN capture (``capture.records``, also as
    ``can.capture``) or an OCPP message log (``log.entries``) gives them, as structured
    entries (:mod:`vgi_bench.evidence`: time relative to the last, sender, receiver, name,
    decoded fields, bytes). A case without one shows none; this never fails a run.
    """
    try:
        return entries_of(getattr(item, "funcargs", {}).values(), count)
    except Exception:  # evidence for the report, not worth an error
        log.debug("no frames for %s", item.nodeid, exc_info=True)
    return []


def _verdict(phases: dict) -> tuple[str, str]:
    """Verdict and message from the setup/call/teardown reports of one case."""
    for when in ("setup", "call", "teardown"):
        entry = phases.get(when)
        if entry is None:
            continue
        report, call = entry
        if report.skipped:
            reason = (
                report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            )
            return "skipped", str(reason)
        if report.failed:
            excinfo = call.excinfo
            message = _message(excinfo)
            if when == "call" and excinfo is not None and excinfo.errisinstance(AssertionError):
                return "failed", message
            return "error", f"{when}: {message}"
    return "passed", ""


def _message(excinfo: Any) -> str:
    if excinfo is None:
        return ""
    exc = excinfo.value
    if isinstance(exc, CaseFailure):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _description(item: pytest.Item) -> str:
    """The case's docstring (purpose, steps, expected results), printed on the report."""
    func = getattr(item, "obj", None)
    return inspect.cleandoc(func.__doc__) if func is not None and func.__doc__ else ""


def _record(item: pytest.Item, info: Any, ctx: RunContext, phases: dict) -> None:
    verdict, message = _verdict(phases)
    duration = sum(rep.duration for rep, _ in phases.values())
    setup_report = phases.get("setup", (None, None))[0]
    started = getattr(setup_report, "start", None)
    result = CaseResult(
        id=info.id,
        suite=suite_for_path(Path(str(item.path))),
        clause=info.clause,
        title=info.title,
        verdict=verdict,
        message=message,
        duration_s=round(duration, 3),
        measurements=dict(item.stash.get(MEASUREMENTS_KEY, {})),
        nodeid=item.nodeid,
        started=iso_from_epoch(started) if started else "",
        finished=now_iso(),
        description=_description(item),
        frames=item.stash.get(FRAMES_KEY, []),
        clocks=list(getattr(item.stash.get(MEASUREMENTS_KEY, None), "clocks", [])),
    )
    assert ctx.log is not None
    ctx.log.append(result)


@pytest.hookimpl(trylast=True)  # after junitxml has written junit.xml: report.sig covers it
def pytest_sessionfinish(session: pytest.Session) -> None:
    ctx = run_context(session.config)
    if ctx is None:
        return
    cases = read_results(ctx.out_dir / "results.jsonl")
    summary = build_summary(
        cases,
        profile=ctx.profile.to_dict(),
        dut=ctx.profile.to_dict().get("dut", {}),
        started=ctx.started,
        finished=now_iso(),
    )
    write_summary(ctx.out_dir, summary)
    _finish_tool_files(session.config, summary)
    try:
        from vgi_bench.reports.build import build_reports

        built = build_reports(
            summary, ctx.out_dir, pdf=not session.config.getoption("--vgi-no-pdf")
        )
        session.config.stash[REPORT_PROBLEMS_KEY] = built.problems
    except Exception as exc:  # the report must not hide results already on disk
        log.exception("the report could not be built")
        session.config.stash[REPORT_PROBLEMS_KEY] = [f"report not built: {exc}"]
    session.config.stash[SUMMARY_KEY] = summary


def _finish_tool_files(config: pytest.Config, summary: dict) -> None:
    """junit.xml (junitxml wrote it just before) and allure's run files, before signing."""
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath and Path(xmlpath).is_file():
        relabel_junit(Path(xmlpath))
    allure_dir = getattr(config.option, "allure_report_dir", None)
    if allure_dir:
        try:
            write_allure_run_files(Path(allure_dir), summary)
        except OSError:
            log.exception("allure environment/categories not written")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    ctx = run_context(config)
    if ctx is None:
        return
    terminalreporter.write_sep("-", "vgi-bench")
    terminalreporter.write_line(f"results: {ctx.out_dir.resolve()}")
    summary = config.stash.get(SUMMARY_KEY, None)
    if summary:
        terminalreporter.write_line(f"totals: {summary['totals']}")
        for name in ("report.html", "report.pdf", "report.sig"):
            report = ctx.out_dir / name
            if report.exists():
                terminalreporter.write_line(f"report: {report.resolve()}")
    for problem in config.stash.get(REPORT_PROBLEMS_KEY, []):
        terminalreporter.write_line(f"vgi-bench: {problem}", red=True)
