"""Case results on disk (vgi_bench/results.py): results.jsonl survives a run that dies."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from vgi_bench.results import (
    SUMMARY_CASE_KEYS,
    VERDICTS,
    CaseResult,
    ResultLog,
    bench_identity,
    build_summary,
    read_results,
    totals,
    write_summary,
)
from vgi_bench.timing import Latency, period_stats


def result(case_id: str, verdict: str = "passed", **kw: object) -> CaseResult:
    return CaseResult(
        id=case_id,
        suite="gbt27930.charger",
        clause="§7.5.1",
        title=f"case {case_id}",
        verdict=verdict,
        **kw,  # type: ignore[arg-type]
    )


def test_result_log_appends_one_line_per_case(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "results.jsonl"
    log = ResultLog(path)  # creates the directory
    assert path.parent.is_dir()
    for n, verdict in enumerate(VERDICTS):
        log.append(result(f"DP.{n}", verdict, duration_s=0.5 * n))
        # on disk at once, readable line by line, before the run ends
        lines = path.read_text(encoding="utf-8").splitlines()
        assert len(lines) == n + 1
        assert json.loads(lines[-1])["id"] == f"DP.{n}"
        assert json.loads(lines[-1])["verdict"] == verdict
    assert [r.id for r in log.results] == ["DP.0", "DP.1", "DP.2", "DP.3"]
    assert [c["id"] for c in read_results(path)] == ["DP.0", "DP.1", "DP.2", "DP.3"]


def test_result_log_appends_to_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    ResultLog(path).append(result("A"))
    ResultLog(path).append(result("B"))
    assert [c["id"] for c in read_results(path)] == ["A", "B"]


def test_result_log_is_thread_safe(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    log = ResultLog(path)
    big = {"samples": list(range(2000))}  # long lines: interleaving would tear them

    def worker(t: int) -> None:
        for i in range(20):
            log.append(result(f"T{t}.{i}", measurements=big))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 80
    cases = [json.loads(line) for line in lines]  # every line is whole JSON
    assert {c["id"] for c in cases} == {f"T{t}.{i}" for t in range(4) for i in range(20)}


def test_read_results_skips_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    log = ResultLog(path)
    log.append(result("DP.1001"))
    log.append(result("DP.1002", "failed", message="expected x; saw y"))
    whole = json.dumps(result("DP.1003").to_json())
    with path.open("a", encoding="utf-8") as fh:
        fh.write(whole[: len(whole) // 2])  # killed mid-write: no newline, half an object
    cases = read_results(path)
    assert [c["id"] for c in cases] == ["DP.1001", "DP.1002"]
    assert cases[1]["message"] == "expected x; saw y"


def test_read_results_missing_or_empty(tmp_path: Path) -> None:
    assert read_results(tmp_path / "none.jsonl") == []
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert read_results(empty) == []
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    assert read_results(blank) == []


def test_totals_counts_verdicts() -> None:
    cases = [
        {"verdict": "passed"},
        {"verdict": "passed"},
        {"verdict": "failed"},
        {"verdict": "skipped"},
        {"id": "no verdict"},  # an unknown outcome is not a pass
    ]
    assert totals(cases) == {"passed": 2, "failed": 1, "error": 1, "skipped": 1}
    assert totals([]) == {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    assert list(totals([])) == list(VERDICTS)


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from vgi_bench.results import CaseResult, ResultLog

    log = ResultLog(Path(sys.argv[1]))
    for n in range(3):
        log.append(CaseResult(f"DP.{n}", "s", "c", "t", "passed", measurements={"n": n}))
    with open(sys.argv[1], "a", encoding="utf-8") as fh:  # the 4th case, half written
        fh.write('{"id": "DP.3", "verd')
        fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_run_killed_midway_keeps_finished_cases(tmp_path: Path) -> None:
    path = tmp_path / "out" / "results.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    cases = read_results(path)
    assert [c["id"] for c in cases] == ["DP.0", "DP.1", "DP.2"]
    assert [c["measurements"]["n"] for c in cases] == [0, 1, 2]
    # the report can still be built from what survived
    summary = build_summary(cases, profile={}, dut={}, started="", finished="")
    assert summary["totals"]["passed"] == 3


class HasAsDict:
    def as_dict(self) -> dict[str, int]:
        return {"a": 1}


class Opaque:
    def __str__(self) -> str:
        return "opaque-thing"


def test_to_json_copes_with_awkward_values() -> None:
    stats = period_stats([0.0, 0.25, 0.5, 0.75], 0.25)
    r = result(
        "DP.1",
        measurements={
            "raw": b"\x01\xab\xff",
            "set": {7},
            "frozen": frozenset({"x"}),
            "tuple": (1, 2),
            "obj": HasAsDict(),
            "stats": stats,
            "latency": Latency.between(1.0, 1.5, 5.0),
            "opaque": Opaque(),
            "nested": {"deeper": [b"\x00", {3}]},
        },
    )
    out = r.to_json()
    json.dumps(out)  # plain JSON all the way down
    m = out["measurements"]
    assert m["raw"] == "01 AB FF"
    assert m["set"] == [7]
    assert m["frozen"] == ["x"]
    assert m["tuple"] == [1, 2]
    assert m["obj"] == {"a": 1}
    assert m["stats"]["count"] == 4
    assert m["stats"]["mean_ms"] == 250.0
    assert m["latency"] == {"value_ms": 500.0, "limit_ms": 5000.0}
    assert m["opaque"] == "opaque-thing"
    assert m["nested"] == {"deeper": ["00", [3]]}
    assert out["id"] == "DP.1"
    assert out["verdict"] == "passed"


def test_result_log_writes_awkward_values(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    ResultLog(path).append(result("DP.1", measurements={"frame": b"\x12\x34", "ids": {1}}))
    (case,) = read_results(path)
    assert case["measurements"] == {"frame": "12 34", "ids": [1]}


def test_build_and_write_summary(tmp_path: Path) -> None:
    cases = [
        {**result("A").to_json(), "nodeid": "x::a"},
        result("B", "failed", message="expected 1; saw 2").to_json(),
    ]
    summary = build_summary(
        cases,
        profile={"dut": {"vendor": "v"}},
        dut={"vendor": "v"},
        started="2024-01-01T00:00:00.000+00:00",
        finished="2024-01-01T00:01:00.000+00:00",
    )
    assert set(summary["bench"]) == {"version", "git"}
    assert summary["bench"] == bench_identity()
    assert summary["totals"] == {"passed": 1, "failed": 1, "error": 0, "skipped": 0}
    assert all(set(c) == set(SUMMARY_CASE_KEYS) for c in summary["cases"])
    assert summary["cases"][1]["message"] == "expected 1; saw 2"
    path = write_summary(tmp_path, summary)
    assert path == tmp_path / "summary.json"
    assert json.loads(path.read_text(encoding="utf-8")) == summary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]  # no temp file left
