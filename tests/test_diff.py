"""``vgi-bench diff RUN_A RUN_B``: changed verdicts (exit 1) and figures that moved enough.

Unit tests on small run directories for each rule of vgi_bench/reports/data/diff.toml, and real
runs: two back-to-back runs of the reference charger show no change, a run with a fault
that moves a period and a verdict shows both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vgi_bench.cli import main
from vgi_bench.reports.diff import Rules, diff_runs, figures


def case(case_id: str, verdict: str = "passed", **measurements: Any) -> dict[str, Any]:
    return {
        "id": case_id,
        "suite": "gbt27930.charger",
        "clause": "GB/T 34658-2017 §7.5.1",
        "title": case_id,
        "verdict": verdict,
        "message": "expected CEM; saw none" if verdict == "failed" else "",
        "duration_s": 1.0,
        "measurements": measurements,
    }


def run_dir(path: Path, *cases: dict[str, Any], summary_only: bool = False) -> Path:
    path.mkdir(parents=True)
    if summary_only:
        (path / "summary.json").write_text(json.dumps({"cases": list(cases)}))
    else:
        lines = "".join(json.dumps(c) + "\n" for c in cases)
        (path / "results.jsonl").write_text(lines)
    return path


def test_same_verdicts_exit_0_and_small_moves_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = run_dir(tmp_path / "a", case("DP.1001", period={"mean_ms": 250.0, "count": 11}))
    b = run_dir(tmp_path / "b", case("DP.1001", period={"mean_ms": 251.0, "count": 11}))
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "1 cases in both, 0 verdict change(s), 0 figure change(s)" in out


def test_changed_verdict_and_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = run_dir(
        tmp_path / "a",
        case("DP.1001", period={"mean_ms": 250.0}),
        case("DN.1001", timeout={"value_ms": 5010.0, "limit_ms": 5000}),
    )
    b = run_dir(
        tmp_path / "b",
        case("DP.1001", period={"mean_ms": 300.0}),
        case("DN.1001", "failed", timeout={"value_ms": 5010.0, "limit_ms": 5000}),
        summary_only=True,  # an old run without results.jsonl
    )
    assert main(["diff", str(a), str(b)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "verdict  gbt27930.charger DN.1001: passed -> failed  (expected CEM; saw none)" in lines
    assert (
        "figure   gbt27930.charger DP.1001: period.mean_ms 250 -> 300 "
        "(+20.0%; > floor 25 ms)" in lines
    )


def test_case_in_one_run_only_is_a_change(tmp_path: Path) -> None:
    a = run_dir(tmp_path / "a", case("DP.1001"), case("DP.1002"))
    b = run_dir(tmp_path / "b", case("DP.1001"), case("DP.1003", "skipped"))
    result = diff_runs(a, b)
    assert [(v.id, v.before, v.after) for v in result.verdicts] == [
        ("DP.1002", "passed", None),
        ("DP.1003", None, "skipped"),
    ]


def test_json_and_tolerance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = run_dir(tmp_path / "a", case("DP.1001", gaps=[10.0, 20.0], flag=True))
    b = run_dir(tmp_path / "b", case("DP.1001", gaps=[10.5, 20.0], flag=False))
    assert main(["diff", str(a), str(b), "--rel", "0.01", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [f["path"] for f in doc["figures"]] == ["gaps[0]"]
    assert doc["verdicts"] == []


def test_a_resumed_run_counts_each_case_by_its_last_result(tmp_path: Path) -> None:
    a = run_dir(tmp_path / "a", case("DP.1001", "error"), case("DP.1001", "passed"))
    b = run_dir(tmp_path / "b", case("DP.1001"))
    assert not diff_runs(a, b).verdict_changed


def test_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = run_dir(tmp_path / "a", case("DP.1001"))
    assert main(["diff", str(a), str(tmp_path / "nope")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["diff", str(a), str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "not a directory" in err and "holds no results.jsonl" in err


def test_figures_flattens_nested_numbers() -> None:
    tree = {"a": {"b": 1, "c": [2, {"d": 3.5}]}, "s": "text", "n": None, "t": True}
    assert dict(figures(tree)) == {"a.b": 1.0, "a.c[0]": 2.0, "a.c[1].d": 3.5}


def changed_paths(a: dict[str, Any], b: dict[str, Any], tmp_path: Path, **options: Any) -> list:
    """The figure paths diff reports between one case measured ``a`` and then ``b``."""
    run_a = run_dir(tmp_path / "a", case("DP.1001", **a))
    run_b = run_dir(tmp_path / "b", case("DP.1001", **b))
    return [f.path for f in diff_runs(run_a, run_b, **options).figures]


def period(mean: float, **spread: float) -> dict[str, Any]:
    figures = {"min_ms": mean - 1, "max_ms": mean + 1, "p99_ms": mean + 1, "jitter_ms": 0.05}
    return {"count": 11, "nominal_ms": 250.0, "mean_ms": mean, "p50_ms": mean, **figures, **spread}


def test_sub_ms_latencies_moving_by_a_quarter_are_no_change(tmp_path: Path) -> None:
    a = {
        "cts_after_rts": {"value_ms": 0.4, "limit_ms": 200.0},
        "crm_after_bhm": {"value_ms": 2.5, "limit_ms": None},
        "response_ms": {"Reset": 0.8, "GetLog": 1.2},
    }
    b = {
        "cts_after_rts": {"value_ms": 0.5, "limit_ms": 200.0},
        "crm_after_bhm": {"value_ms": 0.6, "limit_ms": None},
        "response_ms": {"Reset": 1.0, "GetLog": 9.9},
    }
    assert changed_paths(a, b, tmp_path) == []  # fmt: skip


def test_a_latency_matters_by_its_limit_or_else_by_the_time_floor(tmp_path: Path) -> None:
    a = {
        "cts": {"value_ms": 0.4, "limit_ms": 200.0},
        "crm": {"value_ms": 2.5, "limit_ms": None},
        "response_ms": {"Reset": 0.8},
        "session_s": 1.0,
    }
    b = {
        "cts": {"value_ms": 30.5, "limit_ms": 200.0},
        "crm": {"value_ms": 40.0, "limit_ms": None},
        "response_ms": {"Reset": 30.0},
        "session_s": 1.2,
    }
    assert changed_paths(a, b, tmp_path / "1") == [
        "crm.value_ms", "cts.value_ms", "response_ms.Reset", "session_s"]  # fmt: skip
    # 5 % of a 200 ms limit is 10 ms, but nothing below the floor of software timestamps.
    c = {"cts": {"value_ms": 20.0, "limit_ms": 200.0}}
    assert changed_paths({"cts": a["cts"]}, c, tmp_path / "2") == []


def test_a_table_resolution_raises_the_floor(tmp_path: Path) -> None:
    a = {"stop": {"fall_start_s": 0.012, "reached_5a_s": 0.4, "resolution_s": 0.05}}
    b = {"stop": {"fall_start_s": 0.062, "reached_5a_s": 0.55, "resolution_s": 0.05}}
    assert changed_paths(a, b, tmp_path / "1") == ["stop.reached_5a_s"]
    coarse = {"stop": {**a["stop"], "resolution_s": 0.2}}
    coarse_b = {"stop": {**b["stop"], "resolution_s": 0.2}}
    assert changed_paths(coarse, coarse_b, tmp_path / "2") == []


def test_a_timeout_near_its_limit_moves_by_a_fraction_of_it(tmp_path: Path) -> None:
    a = {"brm_timeout": {"value_ms": 5000.7, "limit_ms": 5000.0}}
    same = {"brm_timeout": {"value_ms": 5040.0, "limit_ms": 5000.0}}
    later = {"brm_timeout": {"value_ms": 5300.0, "limit_ms": 5000.0}}
    assert changed_paths(a, same, tmp_path / "1") == []
    assert changed_paths(a, later, tmp_path / "2") == ["brm_timeout.value_ms"]
    tighter = changed_paths(a, same, tmp_path / "3", margin=0.005)
    assert tighter == ["brm_timeout.value_ms"]


def test_periods_compare_the_mean_with_the_nominal_never_counts_or_spread(
    tmp_path: Path,
) -> None:
    a = {"CHM.period": period(250.0)}
    noisy = {"CHM.period": period(251.5, count=12, min_ms=225.0, max_ms=275.0, jitter_ms=6.7)}
    assert changed_paths(a, noisy, tmp_path / "1") == []
    doubled = {"CHM.period": period(500.0)}
    assert changed_paths(a, doubled, tmp_path / "2") == ["CHM.period.mean_ms", "CHM.period.p50_ms"]


def test_settings_and_codes_show_any_change(tmp_path: Path) -> None:
    a = {"t": {"value_ms": 10.0, "limit_ms": 5000.0}, "answer": {"http_status": 200, "ret": 0}}
    b = {"t": {"value_ms": 10.0, "limit_ms": 10000.0}, "answer": {"http_status": 200, "ret": 4}}
    assert changed_paths(a, b, tmp_path) == ["answer.ret", "t.limit_ms"]


def test_figures_without_a_unit_compare_relatively(tmp_path: Path) -> None:
    a = {"load_50%": {"efficiency": 0.954, "pf": 0.988, "p_dc_w": 45689.7}}
    b = {"load_50%": {"efficiency": 0.951, "pf": 0.90, "p_dc_w": 45700.0}}
    assert changed_paths(a, b, tmp_path) == ["load_50%.pf"]


def test_power_accuracy_is_judged_against_its_limit(tmp_path: Path) -> None:
    a = {"cv_382V": {"error": -0.0155, "limit": 1.91, "uncertainty_k2": 0.336}}
    b = {"cv_382V": {"error": 0.05, "limit": 1.91, "uncertainty_k2": 0.337}}
    c = {"cv_382V": {"error": 0.5, "limit": 1.91, "uncertainty_k2": 0.336}}
    assert changed_paths(a, b, tmp_path / "1") == []
    assert changed_paths(a, c, tmp_path / "2") == ["cv_382V.error"]


def test_rel_compares_every_figure_but_the_counts(tmp_path: Path) -> None:
    a = {"CHM.period": period(250.0), "response_ms": {"Reset": 0.8}, "report_parts": 4}
    b = {"CHM.period": period(250.0, jitter_ms=0.5), "response_ms": {"Reset": 1.0},
         "report_parts": 5}  # fmt: skip
    assert changed_paths(a, b, tmp_path, rel=0.05) == ["CHM.period.jitter_ms", "response_ms.Reset"]


def test_odd_measurements_never_crash(tmp_path: Path) -> None:
    a = {"t": {"value_ms": 1.0, "limit_ms": "soon"}, "x": [1, {"y_ms": float("nan")}], "s": "a"}
    b = {"t": {"value_ms": 50.0, "limit_ms": None}, "x": [1, {"y_ms": 3.0}], "s": 1.0}
    assert changed_paths(a, b, tmp_path / "1") == ["t.value_ms"]
    run_a = run_dir(tmp_path / "2a", {**case("DP.1001"), "measurements": ["not", "a", "table"]})
    run_b = run_dir(tmp_path / "2b", {**case("DP.1001"), "measurements": "nothing"})
    assert diff_runs(run_a, run_b).figures == []


def test_rules_name_units_by_key_suffix() -> None:
    rules = Rules.load()
    assert rules.unit(("response_ms", "GetLog")) == "ms"
    assert rules.unit(("stop", "reached_5a_after_bst_s")) == "s"
    assert rules.unit(("stop", "rate_a_per_s")) is None
    assert rules.unit(("efficiency",)) is None


# --------------------------------------------------------------------------- real runs

SELECTION = "DP.1001 or DP.1002 or DP.1003"  # periods, latencies with and without limits


def conformance_run(out: Path, *faults: str) -> Path:
    """Three cases of the charger suite against the reference charger (with ``faults``)."""
    args = ["run", "--suite", "gbt27930.charger", "-k", SELECTION, "--out", str(out)]
    if faults:
        default = Path(__file__).resolve().parent.parent / "vgi_bench/data/default_profile.toml"
        profile = out.parent / f"{out.name}.toml"
        text = default.read_text(encoding="utf-8")
        profile.write_text(text.replace("faults = []", f"faults = {list(faults)!r}"), "utf-8")
        args += ["--profile", str(profile)]
    subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", *args, "--", "--vgi-no-pdf", "-q"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert (out / "results.jsonl").exists()
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("diff-runs")
    return {
        "a": conformance_run(base / "a"),
        "b": conformance_run(base / "b"),
        "fault": conformance_run(base / "fault", "chm_wrong_period"),
    }


def test_two_runs_of_a_conformant_dut_show_no_change(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(runs["a"]), str(runs["b"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{runs['a']} -> {runs['b']}: 3 cases in both, 0 verdict change(s), 0 figure change(s)"
    ]


def test_a_fault_that_moves_a_period_shows_it_and_the_verdict(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(runs["a"]), str(runs["fault"]), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(v["id"], v["before"], v["after"]) for v in doc["verdicts"]] == [
        ("DP.1001", "passed", "failed")
    ]
    moved = {(f["id"], f["path"]): f for f in doc["figures"]}
    mean = moved[("DP.1001", "CHM.period.mean_ms")]
    assert mean["after"] == pytest.approx(500, abs=25)
    assert mean["basis"] == "> 5% of nominal_ms 250"
    assert {case_id for case_id, _ in moved} == {"DP.1001"}
