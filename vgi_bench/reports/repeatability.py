"""Repeatability over the repetitions of one campaign run: verdicts that differ, figure spread.

Why: a verdict that changes between identical repetitions is a flaky DUT (or bench) and
must be investigated before a certificate; the spread of a timing figure over
repetitions (standard deviation, coefficient of variation) says how far a single run's
figure can be trusted. Statistics are Python's ``statistics``; the tables are ours.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vgi_bench.reports.diff import RunError, figures, load_cases

__all__ = ["CaseRepeatability", "FigureSpread", "Repeatability", "repeatability"]


@dataclass(frozen=True)
class FigureSpread:
    path: str
    values: tuple[float, ...]
    mean: float
    stdev: float
    minimum: float
    maximum: float

    @property
    def cv(self) -> float | None:
        """Coefficient of variation (stdev / |mean|), None for a zero mean."""
        return self.stdev / abs(self.mean) if self.mean else None


@dataclass
class CaseRepeatability:
    suite: str
    id: str
    verdicts: list[str | None]  # per repetition; None: not run in that one
    figures: list[FigureSpread] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return len(set(self.verdicts)) == 1


@dataclass
class Repeatability:
    runs: list[str]
    cases: list[CaseRepeatability]

    @property
    def inconsistent(self) -> list[CaseRepeatability]:
        return [c for c in self.cases if not c.consistent]

    def widest(self, n: int = 5) -> list[tuple[CaseRepeatability, FigureSpread]]:
        """The ``n`` figures with the largest coefficient of variation."""
        spreads = [(c, f) for c in self.cases for f in c.figures if f.cv is not None]
        return sorted(spreads, key=lambda cf: cf[1].cv or 0.0, reverse=True)[:n]

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "inconsistent": [f"{c.suite} {c.id}" for c in self.inconsistent],
            "cases": [
                {
                    "suite": c.suite,
                    "id": c.id,
                    "verdicts": c.verdicts,
                    "consistent": c.consistent,
                    "figures": [{**asdict(f), "cv": f.cv} for f in c.figures],
                }
                for c in self.cases
            ],
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path


def repeatability(run_dirs: list[Path]) -> Repeatability:
    """Compare the repetitions in ``run_dirs`` (ones without results are left out)."""
    loaded = []
    for run_dir in run_dirs:
        try:
            loaded.append((str(run_dir), load_cases(run_dir)))
        except RunError:
            continue
    keys = sorted({key for _, cases in loaded for key in cases})
    out = []
    for key in keys:
        present = [cases.get(key) for _, cases in loaded]
        entry = CaseRepeatability(*key, [c.get("verdict") if c else None for c in present])
        values: dict[str, list[float]] = {}
        for case in present:
            for path, value in figures((case or {}).get("measurements") or {}):
                values.setdefault(path, []).append(value)
        for path, series in sorted(values.items()):
            if len(series) >= 2:
                entry.figures.append(
                    FigureSpread(
                        path,
                        tuple(series),
                        statistics.fmean(series),
                        statistics.stdev(series),
                        min(series),
                        max(series),
                    )
                )
        out.append(entry)
    return Repeatability([name for name, _ in loaded], out)
