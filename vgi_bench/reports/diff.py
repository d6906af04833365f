"""What changed between two runs: verdicts, and measurement figures that moved enough to matter.

Why: a lab re-tests a DUT after a firmware update, or the same DUT on another station,
and needs the differences, not two reports side by side. Cases are matched by suite and
id; a case in only one of the runs counts as a verdict change (it was not tested in the
other). Figures are the numbers anywhere inside a case's measurements, by dotted path
(``CHM.period.mean_ms``), compared by the rules of ``vgi_bench/reports/data/diff.toml``
(:class:`Rules`): a figure with a limit beside it (``value_ms``/``limit_ms``, a period's
mean and its nominal) when it moved by more than a fraction of that limit, any other
when it moved by more than a fraction of its value; either only beyond the floor of its
unit (25 ms for a time: the noise of software timestamps); settings and codes on any
change, counts and the spread of a period's gaps never. So two runs of the same
conformant DUT show no change, and a fault that moves a period or a verdict does.
``rel`` instead compares every figure but the counts by one fraction of the larger
value, as earlier versions did.

Hand-written: flattening and comparing measurement trees (no library knows our results).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeGuard

from vgi_bench.results import read_results

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "FigureChange",
    "Rules",
    "RunDiff",
    "RunError",
    "VerdictChange",
    "diff_runs",
    "load_cases",
]


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
    threshold: float = 0.0  # the change that would still not have mattered
    basis: str = ""  # why it matters: "> 5% of limit_ms 200", "> floor 10 ms", ...

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
    for path, number, _, _ in _leaves(value, prefix, ()):
        yield path, number


Leaf = tuple[str, float, tuple[str, ...], "Mapping[str, Any] | None"]


def _leaves(
    value: Any, prefix: str, keys: tuple[str, ...], parent: Mapping[str, Any] | None = None
) -> Iterator[Leaf]:
    """(path, number, keys on the path, the table holding it) of every number in ``value``."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            yield prefix, float(value), keys, parent
    elif isinstance(value, Mapping):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield from _leaves(child, path, (*keys, str(key)), value)
    elif isinstance(value, (list, tuple)):
        for i, child in enumerate(value):
            yield from _leaves(child, f"{prefix}[{i}]", keys, parent)


@dataclass(frozen=True)
class Rules:
    """How figures are compared (``vgi_bench/reports/data/diff.toml``; see there for why)."""

    of_limit: float
    relative: float
    limits: Mapping[str, str]  # figure key -> key of its limit in the same table
    averaged: frozenset[str]  # figure keys that are averages: no floor on their limit rule
    floors: Mapping[str, float]  # unit suffix -> smallest change that matters
    exact: frozenset[str]
    counts: frozenset[str]
    spread: frozenset[str]

    @classmethod
    def load(cls, of_limit: float | None = None) -> Rules:
        doc = _rules_doc()
        compare = doc["compare"]
        return cls(
            of_limit=float(compare["of_limit"] if of_limit is None else of_limit),
            relative=float(compare["relative"]),
            limits={v: entry["limit"] for entry in doc["limit"] for v in entry["values"]},
            averaged=frozenset(
                v for entry in doc["limit"] if entry.get("averaged") for v in entry["values"]
            ),
            floors={str(k): float(v) for k, v in doc["floor"].items()},
            exact=frozenset(doc["exact"]["keys"]),
            counts=frozenset(doc["ignore"]["counts"]),
            spread=frozenset(doc["ignore"]["spread"]),
        )

    def unit(self, keys: tuple[str, ...]) -> str | None:
        """The unit of a figure: its key's suffix, else that of the nearest table above."""
        for key in reversed(keys):
            if "_per_" in key:
                return None
            suffix = key.rpartition("_")[2]
            if "_" in key and suffix in self.floors:
                return suffix
        return None

    def threshold(
        self, keys: tuple[str, ...], table: Mapping[str, Any] | None, a: float, b: float
    ) -> tuple[float, str] | None:
        """The largest change of a figure that does not matter, and why; None: not compared."""
        key = keys[-1] if keys else ""
        if any(k in self.counts for k in keys) or key in self.spread:
            return None
        if key in self.exact:
            return 0.0, "a setting or code: any change"
        unit = self.unit(keys)
        floor = self.floors.get(unit, 0.0) if unit else 0.0
        resolution = table.get(f"resolution_{unit}") if table is not None and unit else None
        if _number(resolution) and resolution > floor:
            floor = float(resolution)
        limit_key = self.limits.get(key)
        limit = table.get(limit_key) if table is not None and limit_key else None
        if _number(limit) and limit:
            by_limit = self.of_limit * abs(limit)
            if by_limit >= floor or key in self.averaged:
                return by_limit, f"> {self.of_limit:.0%} of {limit_key} {limit:g}"
            return floor, f"> floor {floor:g} {unit}"
        relative = self.relative * max(abs(a), abs(b))
        if floor > relative:
            return floor, f"> floor {floor:g} {unit}"
        return relative, f"> {self.relative:.0%} of the larger value"


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@lru_cache(maxsize=1)
def _rules_doc() -> dict[str, Any]:
    text = (
        resources.files("vgi_bench.reports").joinpath("data/diff.toml").read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def _relative_rules(rel: float) -> Rules:
    """The ``--rel`` comparison: one fraction of the larger value for all but the counts."""
    rules = Rules.load()
    return Rules(rel, rel, {}, frozenset(), {}, frozenset(), rules.counts, frozenset())


def compare_measurements(
    before: Any, after: Any, rules: Rules
) -> Iterator[tuple[str, float, float, float, str]]:
    """(path, before, after, threshold, basis) of every figure that changed by more."""
    old = {path: (num, keys, table) for path, num, keys, table in _leaves(before, "", ())}
    for path, new, keys, table in _leaves(after, "", ()):
        if path not in old:
            continue
        was, _, old_table = old[path]
        if was == new:
            continue
        limit = rules.threshold(keys, table if table is not None else old_table, was, new)
        if limit is None:
            continue
        threshold, basis = limit
        if abs(new - was) > threshold + 1e-9 * max(abs(was), abs(new)):
            yield path, was, new, threshold, basis


def diff_runs(
    run_a: Path, run_b: Path, *, rel: float | None = None, margin: float | None = None
) -> RunDiff:
    """Verdict changes and figure changes that matter from run A to run B.

    ``margin``: the fraction of a limit a figure must move by (default in diff.toml);
    ``rel``: compare every figure but the counts by this fraction of the larger value.
    """
    rules = _relative_rules(rel) if rel is not None else Rules.load(margin)
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
        changes = compare_measurements(
            case_a.get("measurements") or {}, case_b.get("measurements") or {}, rules
        )
        for path, was, new, threshold, basis in sorted(changes):
            result.figures.append(FigureChange(*key, path, was, new, threshold, basis))
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
        rel = f"{f.relative:+.1%}; " if f.relative is not None else ""
        lines.append(
            f"figure   {f.suite} {f.id}: {f.path} {f.before:g} -> {f.after:g} ({rel}{f.basis})"
        )
    lines.append(
        f"{run_a} -> {run_b}: {result.cases_compared} cases in both, "
        f"{len(result.verdicts)} verdict change(s), {len(result.figures)} figure change(s)"
    )
    return lines
