"""``vgi-bench`` command line (vgi_bench/cli.py) against the outside contract (CONTRACT.md).

Commands run as the contract's users run them, in a subprocess (``python -m vgi_bench.cli``),
except where an in-process call of :func:`vgi_bench.cli.main` is simpler and starts no pytest.
The one real ``run`` is shared by the module (it takes a few seconds).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cantools
import pytest

from vgi_bench.cli import main
from vgi_bench.reference.gbt27930.charger import CHARGER_FAULTS

REPO = Path(__file__).resolve().parent.parent
SUITE = "gbt27930.charger"
CASE = "test_dp1001_chm"


def vgi(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def one_line_reason(proc: subprocess.CompletedProcess) -> str:
    """The usage error on stderr: one line, no traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, "no reason on stderr"
    assert len(lines) == 1, proc.stderr
    return lines[0]


def valid_dut() -> str:
    return '[dut]\nvendor = "v"\nmodel = "m"\nserial = "s"\nfirmware = "f"\n'


# --------------------------------------------------------------------------- list


def test_list_prints_every_case_tab_separated(tmp_path: Path) -> None:
    proc = vgi("list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines() if line.strip()]
    assert rows, "list printed nothing"
    assert all(len(row) == 4 for row in rows), [r for r in rows if len(r) != 4]
    by_id = {(suite, case_id): (clause, title) for suite, case_id, clause, title in rows}
    assert (SUITE, "DP.1001") in by_id
    assert (SUITE, "DN.4002") in by_id
    clause, title = by_id[(SUITE, "DP.1001")]
    assert "GB/T" in clause
    assert title
    assert not (tmp_path / "out").exists(), "list must not create a results directory"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- run: usage errors


def test_run_unknown_suite_is_usage_error() -> None:
    proc = vgi("run", "--suite", "no.such.suite")
    assert proc.returncode == 2
    reason = one_line_reason(proc)
    assert "no.such.suite" in reason
    assert SUITE in reason  # says what is known


def test_run_profile_with_unknown_key_names_the_key(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(valid_dut() + "[can]\nbitrat = 5\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = vgi("run", "--suite", SUITE, "--profile", str(profile), "--out", str(out))
    assert proc.returncode == 2
    assert "bitrat" in one_line_reason(proc)
    assert not out.exists(), "a bad profile is refused before anything runs"


def test_run_profile_with_wrong_type_names_the_key(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        valid_dut() + '[can]\ninterface = "virtual"\nchannel = "x"\nbitrate = "fast"\n',
        encoding="utf-8",
    )
    proc = vgi("run", "--suite", SUITE, "--profile", str(profile))
    assert proc.returncode == 2
    assert "bitrate" in one_line_reason(proc)


def test_run_missing_profile_file_is_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    proc = vgi("run", "--suite", SUITE, "--profile", str(missing))
    assert proc.returncode == 2
    assert "nope.toml" in one_line_reason(proc)


def test_run_selection_matching_nothing_is_usage_error(tmp_path: Path) -> None:
    proc = vgi(
        "run", "--suite", SUITE, "-k", "no_case_is_called_this", "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr
    assert "no case selected" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_in_process_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    switch = sys.getswitchinterval()  # `run` tunes the process for real time
    try:
        _in_process_usage_errors(capsys, tmp_path)
    finally:
        sys.setswitchinterval(switch)


def _in_process_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", "--suite", "bogus"]) == 2
    assert "bogus" in capsys.readouterr().err
    assert main(["run", "--suite", SUITE, "--profile", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml" in capsys.readouterr().err


def test_run_args_after_double_dash_reach_pytest(tmp_path: Path) -> None:
    # An option only pytest knows: refused by pytest itself, so it got there.
    proc = vgi(
        "run", "--suite", SUITE, "-k", CASE, "--out", str(tmp_path / "o"), "--",
        "--no-such-pytest-option",
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--no-such-pytest-option" in proc.stderr
    # --collect-only is honoured: the case is listed, not run.
    proc = vgi(
        "run", "--suite", SUITE, "-k", CASE, "--out", str(tmp_path / "o2"), "--",
        "--collect-only", "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert CASE in proc.stdout
    assert not (tmp_path / "o2" / "results.jsonl").exists()


def test_run_selects_by_case_id(tmp_path: Path) -> None:
    proc = vgi(
        "run", "--suite", SUITE, "-k", "DP.1001", "--out", str(tmp_path / "o"), "--",
        "--collect-only",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    assert "1 selected" in proc.stdout, proc.stdout[-2000:]
    assert f"<Function {CASE}>" in proc.stdout


# --------------------------------------------------------------------------- run: a real case


@dataclass(frozen=True)
class Run:
    proc: subprocess.CompletedProcess
    out: Path


@pytest.fixture(scope="module")
def passed_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One passing case through the default profile (built-in reference charger).

    ``-- -x --maxfail=1`` also checks that pytest arguments after ``--`` are accepted.
    """
    base = tmp_path_factory.mktemp("cli-run")
    out = base / "results"
    proc = vgi(
        "run", "--suite", SUITE, "-k", CASE, "--out", str(out), "--", "-x", "--maxfail=1",
        cwd=base, timeout=120,
    )  # fmt: skip
    return Run(proc, out)


def test_run_default_profile_passes(passed_run: Run) -> None:
    proc = passed_run.proc
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "1 passed" in proc.stdout
    assert not (passed_run.out.parent / "out").exists(), "--out is where results go"


def test_run_writes_results_jsonl(passed_run: Run) -> None:
    lines = (passed_run.out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    case = json.loads(lines[0])
    assert case["id"] == "DP.1001"
    assert case["suite"] == SUITE
    assert case["verdict"] == "passed"
    assert "CHM" in case["clause"]
    assert case["title"]
    period = case["measurements"]["CHM.period"]
    assert period["count"] >= 5
    assert abs(period["mean_ms"] - 250.0) < 25.0


def test_run_writes_summary_per_contract(passed_run: Run) -> None:
    summary = json.loads((passed_run.out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary) >= {"bench", "profile", "dut", "started", "finished", "cases", "totals"}
    assert set(summary["bench"]) >= {"version", "git"}
    assert summary["bench"]["version"]
    assert summary["dut"]["vendor"] == "vgi-bench"
    assert summary["dut"]["simulated"] is True
    assert summary["profile"]["can"]["interface"] == "virtual"
    assert summary["started"] and summary["finished"]
    assert summary["started"] <= summary["finished"]
    assert summary["totals"] == {"passed": 1, "failed": 0, "error": 0, "skipped": 0}
    (case,) = summary["cases"]
    assert set(case) == {
        "id",
        "suite",
        "clause",
        "title",
        "verdict",
        "message",
        "duration_s",
        "measurements",
        "description",
        "frames",
    }
    assert case["id"] == "DP.1001"
    assert case["description"].startswith("Purpose: ")
    assert 1 <= len(case["frames"]) <= 12
    last = case["frames"][-1]  # structured: decoded beside the bytes (vgi_bench.evidence)
    assert last["t"] == 0.0 and last["name"] == "CHM" and last["hex"] == "01 01 00"
    assert last["from"] == "charger" and last["src"] == "0x56" and last["pgn"] == "0x2600"
    assert last["fields"] and all(isinstance(k, str) for k in last["fields"])
    assert case["verdict"] == "passed"
    assert isinstance(case["duration_s"], float)
    assert "CHM.period" in case["measurements"]


def test_run_writes_junit_allure_report_and_capture(passed_run: Run) -> None:
    out = passed_run.out
    (suite,) = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert suite.get("name") == SUITE
    (case,) = suite.findall("testcase")
    assert (case.get("classname"), case.get("name")) == (SUITE, "DP.1001 CHM transmission")
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties["clause"] == "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CHM (PGN 0x2600)"
    assert properties["case_id"] == "DP.1001"
    allure = out / "allure-results"
    assert allure.is_dir()
    assert any(allure.iterdir())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "DP.1001" in html
    asc = out / "can.asc"
    assert asc.stat().st_size > 0
    # The reference charger's CHM (0x1826F456) is in the raw capture.
    assert "1826F456" in asc.read_text(encoding="utf-8").upper()


# --------------------------------------------------------------------------- report


def test_report_rebuilds_html_and_summary(passed_run: Run, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(passed_run.out, out)
    original = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (out / "report.html").unlink()
    stale = dict(original, cases=[], totals={"passed": 0, "failed": 0, "error": 0, "skipped": 0})
    (out / "summary.json").write_text(json.dumps(stale), encoding="utf-8")

    proc = vgi("report", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "DP.1001" in (out / "report.html").read_text(encoding="utf-8")
    rebuilt = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert rebuilt["totals"] == original["totals"]
    assert [c["id"] for c in rebuilt["cases"]] == ["DP.1001"]
    # What only the old summary knew (profile, DUT, times) is kept.
    assert rebuilt["dut"] == original["dut"]
    assert rebuilt["profile"] == original["profile"]
    assert rebuilt["started"] == original["started"]


def test_report_from_results_jsonl_alone(passed_run: Run, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(passed_run.out / "results.jsonl", out / "results.jsonl")
    assert main(["report", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["totals"]["passed"] == 1
    assert (out / "report.html").exists()


def test_report_on_empty_dir_is_usage_error(tmp_path: Path) -> None:
    proc = vgi("report", str(tmp_path))
    assert proc.returncode == 2
    assert str(tmp_path) in one_line_reason(proc)
    assert not (tmp_path / "report.html").exists()


# --------------------------------------------------------------------------- sim


def test_sim_list_faults() -> None:
    proc = vgi("sim", "--list-faults", "gbt-charger")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert "no_crm_aa" in listed
    assert listed == set(CHARGER_FAULTS)


def test_sim_list_faults_unknown_role() -> None:
    proc = vgi("sim", "--list-faults", "nope")
    assert proc.returncode == 2
    assert "nope" in one_line_reason(proc)


def test_sim_unknown_fault_is_refused() -> None:
    proc = vgi("sim", "gbt-charger", "--fault", "nope", timeout=20)
    assert proc.returncode == 2
    reason = one_line_reason(proc)
    assert "nope" in reason
    assert "running on" not in proc.stdout


def test_sim_without_role_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim"]) == 2
    assert "ROLE" in capsys.readouterr().err


# --------------------------------------------------------------------------- dbc, verify


def test_dbc_export_loads_in_cantools(tmp_path: Path) -> None:
    path = tmp_path / "gbt.dbc"
    proc = vgi("dbc", str(path))
    assert proc.returncode == 0, proc.stderr
    db = cantools.database.load_file(str(path))
    chm = db.get_message_by_frame_id(0x1826F456)
    assert chm.name == "CHM"
    assert chm.is_extended_frame


def test_allure_has_clause_labels_and_measurements(passed_run: Run) -> None:
    results = passed_run.out / "allure-results"
    (result,) = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert result["name"] == "DP.1001 CHM transmission"
    labels = {(label["name"], label["value"]) for label in result["labels"]}
    assert ("clause_ref", "GB/T 34658-2017 §7.5.1") in labels
    assert ("feature", "GB/T 34658-2017 §7.5.1") in labels
    assert {"type": "tms", "url": "DP.1001", "name": "DP.1001"} in result["links"]
    # In the test body, not under a fixture's tear down.
    (measured,) = [a for a in result["attachments"] if a["name"] == "DP.1001 measurements"]
    assert "CHM.period" in json.loads((results / measured["source"]).read_text())


def test_verify_without_signature_is_usage_error(tmp_path: Path) -> None:
    proc = vgi("verify", str(tmp_path / "report.pdf"))
    assert proc.returncode == 2  # no report.sig beside it
    one_line_reason(proc)


def test_run_is_signed_and_verifies(passed_run: Run) -> None:
    out = passed_run.out
    for name in ("report.html", "report.sig", "junit.xml", "can.asc"):
        assert (out / name).exists(), name
    proc = vgi("verify", str(out / "report.sig"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ": OK: " in proc.stdout


def test_unknown_command_is_usage_error() -> None:
    proc = vgi("frobnicate")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_installed_script_matches_module() -> None:
    script = REPO / ".venv" / "bin" / "vgi-bench"
    if not script.exists():
        pytest.skip("vgi-bench is not installed in .venv")
    proc = subprocess.run(
        [str(script), "sim", "--list-faults", "gbt-charger"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no_crm_aa" in proc.stdout
