"""What changed between two runs: verdicts, and measurement figures beyond a tolerance.

Why: a lab re-tests a DUT after a firmware update, or the same DUT on another station,
and needs the differences, not two reports side by side. Cases are matched by suite and
id; a case in only one of the runs counts as a verdict change (it was not tested in the
other). Figures are the numbers anywhere inside a case's measurements, by dotted path
(``CHM.period.mean_ms``); one is reported when it changed by more than ``rel`` of the
larger of the two values (timing figures always move a little).

Hand-written: flattening and comparing measurement trees (no library knows our results).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.results import read_results

__all__ = ["FigureChange", "RunDiff", "RunError", "VerdictChange", "diff_runs", "load_cases"]


class RunError(ValueError):
    """A directory that holds no run results; ``str(err)`` is one line."""


@dataclass(frozen=True)
class VerdictChange:
    suite: str
    id: str
    before: str | None  # None: the case is not in that run
    after: str | None
    message: str = ""  # the failure message of the later run, if any


@dataclass(frozen=True)
class FigureChange:
    suite: str
    id: str
    path: str
    before: float
    after: float

    @property
    def relative(self) -> float | None:
        return (self.after - self.before) / abs(self.before) if self.before else None


@dataclass
class RunDiff:
    verdicts: list[VerdictChange] = field(default_factory=list)
    figures: list[FigureChange] = field(default_factory=list)
    cases_compared: int = 0

    @property
    def verdict_changed(self) -> bool:
        return bool(self.verdicts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases_compared": self.cases_compared,
            "verdicts": [asdict(v) for v in self.verdicts],
            "figures": [{**asdict(f), "relative": f.relative} for f in self.figures],
        }


def load_cases(run_dir: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(suite, id) -> case of a run directory: results.jsonl, else summary.json.

    A case that ran more than once in the same directory (a resumed run) counts by its
    last result.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunError(f"{run_dir}: not a directory")
    cases = read_results(run_dir / "results.jsonl")
    if not cases and (run_dir / "summary.json").exists():
        try:
            cases = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["cases"]
        except (OSError, ValueError, KeyError, TypeError):
            cases = []
    if not cases:
        raise RunError(f"{run_dir}: holds no results.jsonl or summary.json")
    return {
        (str(c.get("suite") or ""), str(c.get("id") or "")): c
        for c in cases
        if isinstance(c, Mapping)
    }


def figures(value: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every number inside a measurement tree, by dotted path (list items by index)."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            yield prefix, float(value)
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield from figures(child, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, (list, tuple)):
        for i, child in enumerate(value):
            yield from figures(child, f"{prefix}[{i}]")


def _changed(before: float, after: float, rel: float) -> bool:
    if before == after:
        return False
    scale = max(abs(before), abs(after))
    return abs(after - before) > rel * scale


def diff_runs(run_a: Path, run_b: Path, *, rel: float = 0.05) -> RunDiff:
    """Verdict changes and figure changes (beyond ``rel``) from run A to run B."""
    a, b = load_cases(run_a), load_cases(run_b)
    result = RunDiff(cases_compared=len(a.keys() & b.keys()))
    for key in sorted(a.keys() | b.keys()):
        case_a, case_b = a.get(key), b.get(key)
        before = case_a.get("verdict") if case_a else None
        after = case_b.get("verdict") if case_b else None
        if before != after:
            message = str(case_b.get("message") or "") if case_b else ""
            result.verdicts.append(VerdictChange(*key, before, after, message))
        if case_a is None or case_b is None:
            continue
        figs_a = dict(figures(case_a.get("measurements") or {}))
        figs_b = dict(figures(case_b.get("measurements") or {}))
        for path in sorted(figs_a.keys() & figs_b.keys()):
            if _changed(figs_a[path], figs_b[path], rel):
                result.figures.append(FigureChange(*key, path, figs_a[path], figs_b[path]))
    return result


def format_diff(result: RunDiff, run_a: Path, run_b: Path) -> list[str]:
    """The diff as text lines, verdicts first."""
    lines = []
    for v in result.verdicts:
        line = f"verdict  {v.suite} {v.id}: {v.before or 'not run'} -> {v.after or 'not run'}"
        if v.message and v.after in ("failed", "error"):
            line += f"  ({v.message.splitlines()[0]})"
        lines.append(line)
    for f in result.figures:
        rel = f" ({f.relative:+.1%})" if f.relative is not None else ""
        lines.append(f"figure   {f.suite} {f.id}: {f.path} {f.before:g} -> {f.after:g}{rel}")
    lines.append(
        f"{run_a} -> {run_b}: {result.cases_compared} cases in both, "
        f"{len(result.verdicts)} verdict change(s), {len(result.figures)} figure change(s)"
    )
    return lines
