"""Campaigns: suites x profiles x repetitions from one TOML file, resumable, with progress.

Why: a certification campaign is many runs (each suite against each DUT profile, several
times for repeatability) that take hours; a crash or a power cut must not cost the
cases already done. A campaign file::

    [campaign]
    name = "DC-120 fw 2.3"
    out = "out/dc120-fw23"        # relative to the campaign file; stable, so it resumes
    repetitions = 3               # default for every run

    [[run]]
    name = "charger"              # its directory under out/
    suites = ["gbt27930.charger"]
    profile = "dc120.toml"        # relative to the campaign file; default: embedded
    k = "not slow"                # optional pytest -k
    repetitions = 2               # optional, overrides the campaign's
    pytest_args = []              # optional, after `--`

Each repetition is an ordinary run directory, ``OUT/NAME/rep-N/``, made by the same
command as ``vgi-bench run`` (in a child process, so a crash of one run does not end the
campaign and the child's pytest is the plain plugin path). Resuming is ``vgi-bench run
--resume`` on the same directory: cases already in its results.jsonl are not run again,
and a repetition whose report.sig exists and whose cases are all done is skipped. The
child's console output goes to ``OUT/logs/`` (not into the signed run directory).

Hand-written here: the plan, the polling progress line and the ETA; running is pytest's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from vgi_bench.results import read_results
from vgi_bench.suites import all_suites

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "Campaign",
    "CampaignError",
    "CampaignRun",
    "Job",
    "Progress",
    "load_campaign",
    "plan",
    "run_campaign",
]

_CAMPAIGN_KEYS = {"name", "out", "repetitions"}
_RUN_KEYS = {"name", "suites", "profile", "k", "repetitions", "pytest_args"}


class CampaignError(ValueError):
    """A campaign file that cannot be used; ``str(err)`` is one line naming the key."""


@dataclass(frozen=True)
class CampaignRun:
    """One ``[[run]]``: suites against one profile, ``repetitions`` times."""

    name: str
    suites: tuple[str, ...]
    profile: str | None = None
    keyword: str | None = None
    repetitions: int = 1
    pytest_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Campaign:
    name: str
    out: Path
    runs: tuple[CampaignRun, ...]


@dataclass
class Job:
    """One repetition of one run: its directory and the cases it has to finish."""

    run: CampaignRun
    repetition: int
    out_dir: Path
    nodeids: list[str] = field(default_factory=list)

    def done(self) -> set[str]:
        return {c["nodeid"] for c in read_results(self.out_dir / "results.jsonl") if "nodeid" in c}

    @property
    def complete(self) -> bool:
        return (self.out_dir / "report.sig").exists() and set(self.nodeids) <= self.done()


# --------------------------------------------------------------------------- loading


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise CampaignError(
                f"unknown key '{where}.{key}' (known: {', '.join(sorted(allowed))})"
            )


def _typed(table: dict[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise CampaignError(f"'{where}.{key}' must be {kind.__name__}, got {type(value).__name__}")
    return value


def load_campaign(path: str | Path) -> Campaign:
    """Read and check a campaign file (suites known, profiles exist, repetitions >= 1)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CampaignError(f"campaign {path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CampaignError(f"campaign {path}: invalid TOML: {exc}") from None
    try:
        return _campaign(data, path)
    except CampaignError as exc:
        raise CampaignError(f"campaign {path}: {exc}") from None


def _campaign(data: dict[str, Any], path: Path) -> Campaign:
    _check_keys(data, {"campaign", "run"}, "")
    head = data.get("campaign", {})
    _check_keys(head, _CAMPAIGN_KEYS, "campaign")
    base = path.resolve().parent
    name = _typed(head, "name", str, "campaign", path.stem)
    out = base / _typed(head, "out", str, "campaign", f"out/campaign-{path.stem}")
    default_reps = _typed(head, "repetitions", int, "campaign", 1)
    tables = data.get("run")
    if not isinstance(tables, list) or not tables:
        raise CampaignError("needs at least one [[run]]")
    known = all_suites()
    runs: list[CampaignRun] = []
    for i, table in enumerate(tables):
        where = f"run[{i}]"
        _check_keys(table, _RUN_KEYS, where)
        suites = _typed(table, "suites", list, where, [])
        if not suites:
            raise CampaignError(f"'{where}.suites' must list at least one suite")
        for suite in suites:
            if suite not in known:
                raise CampaignError(f"'{where}.suites': unknown suite {suite!r}")
        profile = _typed(table, "profile", str, where)
        if profile is not None:
            profile = str(base / profile)
            if not Path(profile).is_file():
                raise CampaignError(f"'{where}.profile': no file {profile}")
        reps = _typed(table, "repetitions", int, where, default_reps)
        if reps < 1:
            raise CampaignError(f"'{where}.repetitions' must be at least 1, got {reps}")
        run_name = _typed(table, "name", str, where, "-".join(suites))
        if any(r.name == run_name for r in runs):
            raise CampaignError(f"'{where}.name' {run_name!r} is used twice")
        runs.append(
            CampaignRun(
                name=run_name,
                suites=tuple(suites),
                profile=profile,
                keyword=_typed(table, "k", str, where),
                repetitions=reps,
                pytest_args=tuple(str(a) for a in _typed(table, "pytest_args", list, where, [])),
            )
        )
    return Campaign(name=name, out=out, runs=tuple(runs))


# --------------------------------------------------------------------------- plan


def collect_nodeids(run: CampaignRun) -> list[str]:
    """The cases ``run`` selects, in run order (pytest --collect-only in a child process)."""
    suites = all_suites()
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        *(str(suites[s].path()) for s in run.suites),
    ]
    if run.profile:
        cmd += ["--vgi-profile", run.profile]
    if run.keyword:
        cmd += ["-k", run.keyword]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 5):  # 5: nothing selected
        last = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["?"]
        raise CampaignError(f"run {run.name!r}: collection failed: {last[0]}")
    return [line.strip() for line in proc.stdout.splitlines() if "::" in line]


def plan(campaign: Campaign) -> list[Job]:
    """Every repetition of every run, with the cases each must finish."""
    jobs = []
    for run in campaign.runs:
        nodeids = collect_nodeids(run)
        for rep in range(1, run.repetitions + 1):
            out_dir = campaign.out / run.name / f"rep-{rep}"
            jobs.append(Job(run, rep, out_dir, list(nodeids)))
    return jobs


# --------------------------------------------------------------------------- progress


@dataclass
class Progress:
    """Cases done/total, the current case, elapsed time and ETA for the terminal."""

    total: int
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    durations: dict[str, float] = field(default_factory=dict)  # nodeid -> seconds (last rep)
    run_time: float = 0.0  # seconds spent in cases that ran in this invocation
    ran: int = 0

    def eta(self, remaining: list[str]) -> float | None:
        """Seconds left: a case's time in an earlier repetition, else the mean so far."""
        if not remaining:
            return 0.0
        if not self.ran and not self.durations:
            return None
        mean = (
            self.run_time / self.ran
            if self.ran
            else sum(self.durations.values()) / len(self.durations)
        )
        return sum(self.durations.get(n, mean) for n in remaining)

    def line(self, current: str, remaining: list[str]) -> str:
        elapsed = time.monotonic() - self.started
        eta = self.eta(remaining)
        eta_text = "?" if eta is None else _hms(eta)
        return f"[{self.done}/{self.total}] {current}  elapsed {_hms(elapsed)}  ETA {eta_text}"


def _hms(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --------------------------------------------------------------------------- running


def _command(job: Job) -> list[str]:
    cmd = [sys.executable, "-m", "vgi_bench.cli", "run", "--resume", "--out", str(job.out_dir)]
    for suite in job.run.suites:
        cmd += ["--suite", suite]
    if job.run.profile:
        cmd += ["--profile", job.run.profile]
    if job.run.keyword:
        cmd += ["-k", job.run.keyword]
    if job.run.pytest_args:
        cmd += ["--", *job.run.pytest_args]
    return cmd


def _show(stream: TextIO, text: str, *, final: bool = False) -> None:
    if stream.isatty():
        stream.write("\r\033[K" + text + ("\n" if final else ""))
    else:
        stream.write(text + "\n")
    stream.flush()


def _run_job(
    job: Job, later: list[str], progress: Progress, log_dir: Path, stream: TextIO, poll_s: float
) -> int:
    """Run one repetition in a child process; ``later``: the cases of the jobs after it."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{job.run.name}-rep-{job.repetition}.log"
    before = job.done()
    with log_path.open("a", encoding="utf-8") as log:
        child = subprocess.Popen(_command(job), stdout=log, stderr=subprocess.STDOUT)
        try:
            return _follow(job, child, set(before), later, progress, stream, poll_s)
        except KeyboardInterrupt:  # the child got the SIGINT too: let it write its results
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.terminate()
                child.wait()
            raise


def _follow(
    job: Job,
    child: subprocess.Popen,
    seen: set[str],
    later: list[str],
    progress: Progress,
    stream: TextIO,
    poll_s: float,
) -> int:
    """Count the child's finished cases from its results.jsonl and show progress."""
    shown: tuple[int, str] | None = None
    while True:
        finished = child.poll() is not None
        results = read_results(job.out_dir / "results.jsonl")
        for case in results:
            nodeid = case.get("nodeid")
            if nodeid in seen or nodeid not in job.nodeids:
                continue
            seen.add(nodeid)
            progress.done += 1
            progress.ran += 1
            progress.run_time += float(case.get("duration_s") or 0.0)
            progress.durations[nodeid] = float(case.get("duration_s") or 0.0)
        remaining = [n for n in job.nodeids if n not in seen]
        current = f"{job.run.name} rep {job.repetition}: " + (
            remaining[0].rsplit("::", 1)[-1] if remaining else "report"
        )
        if stream.isatty() or shown != (progress.done, current):  # a file: a line per case
            _show(stream, progress.line(current, remaining + later))
            shown = (progress.done, current)
        if finished:
            return child.returncode
        time.sleep(poll_s)


@dataclass
class CampaignResult:
    """What each repetition ended with (exit status of its ``vgi-bench run``)."""

    jobs: list[tuple[Job, int | None]] = field(default_factory=list)  # None: was complete

    @property
    def ok(self) -> bool:
        """Every repetition complete with no failed or erred case."""
        for job, _ in self.jobs:
            totals = _totals(job)
            if totals is None or totals.get("failed") or totals.get("error"):
                return False
            if not job.complete:
                return False
        return True


def _totals(job: Job) -> dict[str, Any] | None:
    path = job.out_dir / "summary.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("totals", {})
    except (OSError, ValueError):
        return None


def run_campaign(
    campaign: Campaign,
    *,
    stream: TextIO = sys.stdout,
    poll_s: float = 0.5,
    jobs: list[Job] | None = None,
    on_job: Callable[[Job, int | None], None] | None = None,
) -> CampaignResult:
    """Run every unfinished repetition in order, showing progress on ``stream``."""
    jobs = plan(campaign) if jobs is None else jobs
    total = sum(len(j.nodeids) for j in jobs)
    progress = Progress(total=total)
    result = CampaignResult()
    for job in jobs:
        done = set(job.nodeids) & job.done()
        progress.done += len(done)
        for case in read_results(job.out_dir / "results.jsonl"):
            if case.get("nodeid") in done:
                progress.durations[case["nodeid"]] = float(case.get("duration_s") or 0.0)
    _show(stream, f"campaign {campaign.name}: {len(jobs)} run(s), {total} cases -> {campaign.out}")
    for index, job in enumerate(jobs):
        if job.complete:
            code: int | None = None
        else:
            later = [n for j in jobs[index + 1 :] for n in set(j.nodeids) - j.done()]
            code = _run_job(job, later, progress, campaign.out / "logs", stream, poll_s)
        result.jobs.append((job, code))
        if on_job is not None:
            on_job(job, code)
    _show(stream, progress.line("done", []), final=True)
    write_index(campaign, result)
    return result


def write_index(campaign: Campaign, result: CampaignResult) -> Path:
    """``OUT/campaign.json``: every repetition's directory, exit status and totals."""
    entries = []
    for job, code in result.jobs:
        entries.append(
            {
                "run": job.run.name,
                "repetition": job.repetition,
                "dir": str(job.out_dir),
                "suites": list(job.run.suites),
                "profile": job.run.profile,
                "exit": code,
                "complete": job.complete,
                "totals": _totals(job) or {},
            }
        )
    path = campaign.out / "campaign.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"name": campaign.name, "runs": entries}, indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    return path
