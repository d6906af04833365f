"""The clause traceability matrix: every clause of each standard, the cases that check it.

Why: a certification reader asks "which clauses did this run test, and which not?". The
clauses of each standard are data (``reports/data/clauses/*.toml``, one file per
standard, with its sources); a case's ``clause`` text names them, e.g.
``"GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CEM SPN3921, J1939-21 TP"``. Each standard's
part of that text runs from its designation to the next designation or ``;``, and a
clause row is checked by a case when one of the row's ``match`` words (default its
id, with or without ``§``) stands in it as a whole word. A standard's ``[[case]]``
rows (its own test case ids) are matched by the bench case's id. References to
standards without a data file are listed as they are, so nothing a case claims is dropped.

Hand-written: the matching (no library knows these reference strings).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["Row", "Standard", "StandardMatrix", "load_standards", "matrix", "status_of"]


@dataclass(frozen=True)
class Row:
    """One clause (or one of the standard's own test cases) and the words that name it."""

    id: str
    title: str
    match: tuple[str, ...] = ()
    by_case_id: bool = False


@dataclass(frozen=True)
class Standard:
    name: str
    title: str
    designations: tuple[str, ...]
    suites: tuple[str, ...]
    clauses: tuple[Row, ...]
    cases: tuple[Row, ...] = ()


@dataclass
class StandardMatrix:
    """One standard's rows, each with the run's cases that check it."""

    standard: Standard
    clauses: list[tuple[Row, list[dict[str, Any]]]] = field(default_factory=list)
    cases: list[tuple[Row, list[dict[str, Any]]]] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return sum(1 for _, found in self.clauses if found)


def _row(raw: Mapping[str, Any], by_case_id: bool) -> Row:
    ident = str(raw["id"])
    default = (ident,) if by_case_id else (f"§{ident}", ident)
    match = tuple(str(m) for m in raw.get("match", ())) or default
    return Row(ident, str(raw.get("title", "")), match, by_case_id)


@cache
def load_standards() -> tuple[Standard, ...]:
    """Every standard in ``reports/data/clauses``, by their ``order`` (then file name)."""
    folder = resources.files("reports").joinpath("data/clauses")
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        standard = Standard(
            name=data["name"],
            title=data.get("title", ""),
            designations=tuple(data.get("designations", [data["name"]])),
            suites=tuple(data.get("suites", ())),
            clauses=tuple(_row(r, False) for r in data.get("clause", ())),
            cases=tuple(_row(r, True) for r in data.get("case", ())),
        )
        found.append(((int(data.get("order", 100)), entry.name), standard))
    return tuple(standard for _, standard in sorted(found, key=lambda pair: pair[0]))


def _designation_pattern(standards: Iterable[Standard]) -> re.Pattern[str]:
    names = sorted({d for s in standards for d in s.designations}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names) or r"(?!x)x")


def references(clause_text: str, standards: tuple[Standard, ...]) -> dict[str, list[str]]:
    """Standard name -> the parts of ``clause_text`` that refer to it."""
    owner = {d: s.name for s in standards for d in s.designations}
    found: dict[str, list[str]] = {}
    for part in clause_text.split(";"):
        hits = list(_designation_pattern(standards).finditer(part))
        for i, hit in enumerate(hits):
            end = hits[i + 1].start() if i + 1 < len(hits) else len(part)
            found.setdefault(owner[hit.group()], []).append(part[hit.end() : end])
    return found


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}(?![\w]|\.\d)", text) is not None


def status_of(cases: list[dict[str, Any]]) -> str:
    """A row's verdict: not covered, failed if any case failed or erred, else passed/skipped."""
    verdicts = {c["verdict"] for c in cases}
    if not cases:
        return "not-covered"
    if verdicts - {"passed", "skipped"}:
        return "failed"
    return "skipped" if verdicts == {"skipped"} else "passed"


def matrix(
    cases: list[dict[str, Any]], standards: tuple[Standard, ...] | None = None
) -> tuple[list[StandardMatrix], dict[str, list[dict[str, Any]]]]:
    """The matrix of every standard the run touches, and the references to no known standard.

    ``cases`` are the report's cases (``id``, ``suite``, ``clause``, ``verdict``, ...).
    A standard is shown when one of its suites ran or a case refers to it.
    """
    standards = load_standards() if standards is None else standards
    refs = [(case, references(case["clause"], standards)) for case in cases]
    suites = {case["suite"] for case in cases}
    out = []
    for std in standards:
        mine = [(case, found[std.name]) for case, found in refs if std.name in found]
        if not mine and not suites & set(std.suites):
            continue
        table = StandardMatrix(std)
        for row in std.clauses:
            checked = [
                case
                for case, texts in mine
                if any(_mentions(text, word) for text in texts for word in row.match)
            ]
            table.clauses.append((row, checked))
        for row in std.cases:
            table.cases.append((row, [c for c in cases if c["id"] in row.match]))
        out.append(table)
    others: dict[str, list[dict[str, Any]]] = {}
    for case, found in refs:
        if not found:
            others.setdefault(case["clause"] or "(no clause)", []).append(case)
    return out, others
