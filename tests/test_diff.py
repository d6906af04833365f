"""``vgi-bench diff RUN_A RUN_B``: changed verdicts (exit 1) and moved figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from reports.diff import diff_runs, figures


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
    assert "figure   gbt27930.charger DP.1001: period.mean_ms 250 -> 300 (+20.0%)" in lines


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
