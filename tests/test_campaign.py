"""Campaigns: the file, resuming a run, progress/ETA, repeatability, one real campaign."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vgi_bench.campaign import CampaignError, Progress, load_campaign
from vgi_bench.cli import main
from vgi_bench.reports.repeatability import repeatability
from vgi_bench.reports.signing import verify_run

FAKE_SUITE = """
from vgi_bench.cases import case

@case("X.1", "GB/T 34658-2017 §7.5.1", "first")
def test_first(measurements):
    measurements.record("t_ms", 1.0)

@case("X.2", "GB/T 34658-2017 §7.5.2", "second")
def test_second():
    pass
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}


def sh(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the file


def test_campaign_file(tmp_path: Path) -> None:
    write(tmp_path / "dut.toml", '[dut]\nvendor="a"\nmodel="b"\nserial="s"\nfirmware="f"\n')
    path = write(
        tmp_path / "c.toml",
        "[campaign]\nrepetitions = 3\n"
        '[[run]]\nsuites = ["gbt27930.charger"]\nprofile = "dut.toml"\nk = "not slow"\n'
        '[[run]]\nname = "bms"\nsuites = ["gbt27930.bms"]\nrepetitions = 1\n',
    )
    campaign = load_campaign(path)
    assert campaign.name == "c" and campaign.out == tmp_path / "out" / "campaign-c"
    first, second = campaign.runs
    assert first.name == "gbt27930.charger" and first.repetitions == 3
    assert first.profile == str(tmp_path / "dut.toml") and first.keyword == "not slow"
    assert second.name == "bms" and second.repetitions == 1 and second.profile is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[campaign]\nname = "x"\n', "needs at least one [[run]]"),
        ('[[run]]\nsuites = ["nope"]\n', "unknown suite 'nope'"),
        ('[[run]]\nsuites = ["gbt27930.bms"]\nprofile = "no.toml"\n', "'run[0].profile': no file"),
        ('[[run]]\nsuites = ["gbt27930.bms"]\nrepetitions = 0\n', "at least 1, got 0"),
        ('[[run]]\nsuites = ["gbt27930.bms"]\nrepeats = 2\n', "unknown key 'run[0].repeats'"),
        ('[campaign]\nrepetitions = "2"\n[[run]]\nsuites = ["gbt27930.bms"]\n', "must be int"),
        ("[[run]]\nsuites = []\n", "at least one suite"),
        ("not toml", "invalid TOML"),
    ],
)
def test_bad_campaign_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    path = write(tmp_path / "c.toml", text)
    with pytest.raises(CampaignError, match=r"^campaign .*c\.toml: "):
        load_campaign(path)
    assert main(["campaign", str(path)]) == 2
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- resume


def test_resume_runs_only_unfinished_cases(tmp_path: Path, env: dict[str, str]) -> None:
    write(tmp_path / "test_fake.py", FAKE_SUITE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "pytest", "test_fake.py", "-p", "no:cacheprovider", "-q"]
    cmd += ["--vgi-out", str(out)]
    first = sh([*cmd, "--vgi-no-pdf"], cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert not (out / "report.pdf").exists()
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 2
    # A crash after the first case: its line is there, nothing else was written.
    (out / "results.jsonl").write_text(lines[0] + "\n")
    for name in ("report.sig", "summary.json"):
        (out / name).unlink()
    write(out / "can.asc", "frames of the first attempt\n")

    again = sh([*cmd, "--vgi-resume", "--vgi-no-pdf"], cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 passed, 1 deselected" in again.stdout
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == ["X.1", "X.2"]
    assert json.dumps(results[0]) == json.dumps(json.loads(lines[0]))  # not run again
    assert (out / "attempts" / "1" / "can.asc").read_text() == "frames of the first attempt\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["passed"] == 2 and summary["started"] == results[0]["started"]
    assert verify_run(out / "report.sig").ok


def test_resume_needs_an_out_dir(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--suite", "gbt27930.charger", "--resume"]) == 2
    assert "--resume needs --out" in capsys.readouterr().err


# --------------------------------------------------------------------------- progress


def test_progress_eta_uses_earlier_repetitions() -> None:
    progress = Progress(total=4, done=1, durations={"a": 10.0, "b": 30.0})
    assert progress.eta(["a", "b", "c"]) == 10.0 + 30.0 + 20.0  # c: the mean so far
    assert progress.eta([]) == 0.0
    assert Progress(total=3).eta(["a"]) is None
    line = progress.line("charger rep 1: test_dp1001_chm", ["a"])
    assert line.startswith("[1/4] charger rep 1: test_dp1001_chm  elapsed 0:00:0")
    assert line.endswith("ETA 0:00:10")


# --------------------------------------------------------------------------- repeatability


def fake_rep(path: Path, verdict: str, mean: float) -> Path:
    case: dict[str, Any] = {
        "id": "DP.1001",
        "suite": "gbt27930.charger",
        "verdict": verdict,
        "measurements": {"CHM.period": {"mean_ms": mean, "count": 11}},
    }
    write(path / "results.jsonl", json.dumps(case) + "\n")
    return path


def test_repeatability(tmp_path: Path) -> None:
    dirs = [
        fake_rep(tmp_path / "1", "passed", 250.0),
        fake_rep(tmp_path / "2", "passed", 252.0),
        fake_rep(tmp_path / "3", "failed", 254.0),
        tmp_path / "never-ran",
    ]
    rep = repeatability(dirs)
    assert len(rep.runs) == 3
    (case,) = rep.cases
    assert case.verdicts == ["passed", "passed", "failed"] and not case.consistent
    assert rep.inconsistent == [case]
    spreads = {f.path: f for f in case.figures}
    mean = spreads["CHM.period.mean_ms"]
    assert (mean.mean, mean.stdev, mean.minimum, mean.maximum) == (252.0, 2.0, 250.0, 254.0)
    assert spreads["CHM.period.count"].cv == 0.0
    assert rep.widest(1)[0][1].path == "CHM.period.mean_ms"
    doc = json.loads(rep.write(tmp_path / "r.json").read_text())
    assert doc["inconsistent"] == ["gbt27930.charger DP.1001"]


# --------------------------------------------------------------------------- end to end


def test_campaign_runs_repeats_and_resumes(tmp_path: Path, env: dict[str, str]) -> None:
    """The one real campaign: DP.1001 twice (about 15 s), then a resume of a lost report."""
    path = write(
        tmp_path / "c.toml",
        '[campaign]\nname = "smoke"\nout = "out"\nrepetitions = 2\n'
        '[[run]]\nname = "charger"\nsuites = ["gbt27930.charger"]\nk = "DP.1001"\n'
        'pytest_args = ["--vgi-no-pdf"]\n',  # the PDF has its own tests
    )
    cmd = [sys.executable, "-m", "vgi_bench.cli", "campaign", str(path)]
    proc = sh(cmd, env=env, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "out"
    assert "[0/2] charger rep 1: test_dp1001_chm  elapsed" in proc.stdout
    assert "[2/2] done" in proc.stdout
    assert "charger: 2 repetitions, 1 cases, 0 with differing verdicts" in proc.stdout
    for rep in ("rep-1", "rep-2"):
        assert verify_run(out / "charger" / rep / "report.sig").ok
    index = json.loads((out / "campaign.json").read_text())
    assert [(r["repetition"], r["exit"], r["complete"]) for r in index["runs"]] == [
        (1, 0, True),
        (2, 0, True),
    ]
    assert (out / "charger" / "repeatability.json").exists()
    assert (out / "logs" / "charger-rep-1.log").exists()
    # The report of rep 2 was lost (crash at the very end): resuming rebuilds it and runs
    # nothing again; rep 1 is skipped outright.
    results = (out / "charger" / "rep-2" / "results.jsonl").read_text()
    (out / "charger" / "rep-2" / "report.sig").unlink()
    again = sh(cmd, env=env, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "[2/2] charger rep 2: report" in again.stdout
    assert (out / "charger" / "rep-2" / "results.jsonl").read_text() == results
    assert verify_run(out / "charger" / "rep-2" / "report.sig").ok
    index = json.loads((out / "campaign.json").read_text())
    assert [r["exit"] for r in index["runs"]] == [None, 0]
