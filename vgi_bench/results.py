"""Case results and the files they go to (``results.jsonl`` as each case ends, ``summary.json``).

``results.jsonl`` is appended and flushed to disk the moment a case ends, so a run that
dies keeps everything measured so far; ``summary.json`` is written once at the end.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vgi_bench.version import UNKNOWN, checkout_commit, package_version

VERDICTS = ("passed", "failed", "error", "skipped")


@dataclass
class CaseResult:
    """The verdict of one conformance case, as the contract's ``summary.json`` lists it."""

    id: str
    suite: str
    clause: str
    title: str
    verdict: str
    message: str = ""
    duration_s: float = 0.0
    measurements: dict[str, Any] = field(default_factory=dict)
    nodeid: str = ""
    started: str = ""
    finished: str = ""
    description: str = ""  # the case's docstring: purpose, steps, expected results
    # the last messages before the verdict (vgi_bench.evidence entries; plain strings before)
    frames: list[dict[str, Any] | str] = field(default_factory=list)
    clocks: list[dict[str, Any]] = field(default_factory=list)  # what stamped its figures

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=_jsonable))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, bytes):
        return value.hex(" ").upper()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def iso_from_epoch(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds")


class ResultLog:
    """Appends one JSON line per finished case and fsyncs it (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.results: list[CaseResult] = []
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, result: CaseResult) -> None:
        line = json.dumps(result.to_json(), ensure_ascii=False)
        with self._lock:
            self.results.append(result)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())


def read_results(path: Path) -> list[dict[str, Any]]:
    """The cases of a ``results.jsonl``; a torn last line (run killed mid-write) is skipped."""
    cases = []
    if not path.exists():
        return cases
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            cases.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return cases


def totals(cases: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(VERDICTS, 0)
    for case in cases:
        counts[case.get("verdict", "error")] = counts.get(case.get("verdict", "error"), 0) + 1
    return counts


def bench_identity() -> dict[str, str]:
    """Version and git commit of the bench itself (as ``vgi-bench --version``), printed on
    every report; ``git`` is "unknown" for an installed package (no checkout)."""
    return {"version": package_version(), "git": checkout_commit() or UNKNOWN}


def build_summary(
    cases: list[dict[str, Any]],
    *,
    profile: dict[str, Any],
    dut: dict[str, Any],
    started: str,
    finished: str,
) -> dict[str, Any]:
    return {
        "bench": bench_identity(),
        "profile": profile,
        "dut": dut,
        "started": started,
        "finished": finished,
        "cases": [{k: c.get(k) for k in SUMMARY_CASE_KEYS} for c in cases],
        "totals": totals(cases),
        "clocks": run_clocks(cases),
    }


def run_clocks(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each clock that stamped the run's figures, once, in the order the cases met them:
    one entry per bus (``vgi_bench.clocks.Clock.to_dict``)."""
    seen: list[dict[str, Any]] = []
    for case in cases:
        for clock in case.get("clocks") or []:
            if isinstance(clock, dict) and clock not in seen:
                seen.append(clock)
    return seen


SUMMARY_CASE_KEYS = (
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
)


def write_summary(out_dir: Path, summary: dict[str, Any]) -> Path:
    path = out_dir / "summary.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path
