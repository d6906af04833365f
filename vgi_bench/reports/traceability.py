"""The clause traceability matrix: every clause of each standard, the cases that check it.

Why: a certification reader asks "which clauses did this run test, and which not?". The
clauses of each standard are data (``vgi_bench/reports/data/clauses/*.toml``, one file per
standard, with its sources); a case's ``clause`` text names them, e.g.
``"GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CEM SPN3921, J1939-21 TP"``. Each standard's
part of that text runs from its designation to the next designation or ``;``; a part
that names no standard continues the one before it (``"OCPP 2.0.1 Part 2 A02 ...; A00
certificate properties"``). A clause row is checked by a case when one of the row's
``match`` words (default its id, with or without ``§``) stands in it as a whole word. A
standard's ``[[case]]`` rows (its own test case ids) are matched by the bench case's id.

Not covered vs not applicable: a standard's file names the suites that apply it
(``suites``) and, in ``[applies]``, which rows belong to which suite's role (``fnmatch``
patterns on the row id; rows no pattern names belong to every suite of the file). A row
is *applicable* to a run when a suite it belongs to ran; an applicable row no case
checks is *not covered*, any other unchecked row *not applicable* (the BMS clauses of
GB/T 34658 in a charger-only run). A row a case checks is always shown with its verdict.

Nothing a case claims is dropped: references to standards without a data file are
listed as they are (``others``), and a reference to a known standard that matches none
of its rows (or names no clause) is listed under that standard (``unmatched``).

Hand-written: the matching (no library knows these reference strings).
"""

from __future__ import annotations

import fnmatch
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

__all__ = [
    "Row",
    "Standard",
    "StandardMatrix",
    "load_standards",
    "matrix",
    "references",
    "status_of",
]

NOT_APPLICABLE = "not-applicable"
NOT_COVERED = "not-covered"


@dataclass(frozen=True)
class Row:
    """One clause (or one of the standard's own test cases) and the words that name it."""

    id: str
    title: str
    match: tuple[str, ...] = ()
    by_case_id: bool = False


@dataclass(frozen=True)
class Standard:
    """One standard's data file. ``kind`` is ``"method"`` (a test specification, e.g.
    GB/T 34658) or ``"specification"`` (what the DUT implements, e.g. GB/T 27930)."""

    name: str
    title: str
    designations: tuple[str, ...]
    suites: tuple[str, ...]
    clauses: tuple[Row, ...]
    cases: tuple[Row, ...] = ()
    kind: str = "specification"
    applies: tuple[tuple[str, tuple[str, ...]], ...] = ()  # suite -> row id patterns

    def suites_of(self, row: Row) -> frozenset[str]:
        """The suites whose role ``row`` belongs to (every suite of the file by default)."""
        named = {
            suite
            for suite, patterns in self.applies
            if any(fnmatch.fnmatchcase(row.id, p) for p in patterns)
        }
        if named:
            return frozenset(named)
        claimed = any(
            fnmatch.fnmatchcase(row.id, p) for _, patterns in self.applies for p in patterns
        )
        return frozenset() if claimed else frozenset(self.suites)


@dataclass
class StandardMatrix:
    """One standard's rows, each with the run's cases that check it."""

    standard: Standard
    clauses: list[tuple[Row, list[dict[str, Any]]]] = field(default_factory=list)
    cases: list[tuple[Row, list[dict[str, Any]]]] = field(default_factory=list)
    #: ids of the rows (clauses and cases) that no suite of the run applies
    inapplicable: set[str] = field(default_factory=set)
    #: parts of the cases' references that match no row: text ("" = no clause) -> cases
    unmatched: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def status(self, row: Row, found: list[dict[str, Any]]) -> str:
        if not found and row.id in self.inapplicable:
            return NOT_APPLICABLE
        return status_of(found)

    @property
    def covered(self) -> int:
        return sum(1 for _, found in self.clauses if found)

    @property
    def applicable(self) -> int:
        """Clause rows that apply to the run (checked ones always count)."""
        return sum(1 for row, found in self.clauses if found or row.id not in self.inapplicable)


def _row(raw: Mapping[str, Any], by_case_id: bool) -> Row:
    ident = str(raw["id"])
    default = (ident,) if by_case_id else (f"§{ident}", ident)
    match = tuple(str(m) for m in raw.get("match", ())) or default
    return Row(ident, str(raw.get("title", "")), match, by_case_id)


def _standard(data: Mapping[str, Any]) -> Standard:
    applies = data.get("applies", {})
    return Standard(
        name=data["name"],
        title=data.get("title", ""),
        designations=tuple(data.get("designations", [data["name"]])),
        suites=tuple(data.get("suites", ())),
        clauses=tuple(_row(r, False) for r in data.get("clause", ())),
        cases=tuple(_row(r, True) for r in data.get("case", ())),
        kind=str(data.get("kind", "specification")),
        applies=tuple((str(s), tuple(str(p) for p in pats)) for s, pats in applies.items()),
    )


@cache
def load_standards() -> tuple[Standard, ...]:
    """Every standard in ``vgi_bench/reports/data/clauses``, by their ``order`` (then file name)."""
    folder = resources.files("vgi_bench.reports").joinpath("data/clauses")
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        found.append(((int(data.get("order", 100)), entry.name), _standard(data)))
    return tuple(standard for _, standard in sorted(found, key=lambda pair: pair[0]))


def _designation_pattern(standards: Iterable[Standard]) -> re.Pattern[str]:
    names = sorted({d for s in standards for d in s.designations}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in names) or r"(?!x)x")


def references(clause_text: str, standards: tuple[Standard, ...]) -> dict[str, list[str]]:
    """Standard name -> the parts of ``clause_text`` that refer to it."""
    owner = {d: s.name for s in standards for d in s.designations}
    pattern = _designation_pattern(standards)
    found: dict[str, list[str]] = {}
    previous: str | None = None
    for part in clause_text.split(";"):
        hits = list(pattern.finditer(part))
        if not hits:
            if previous is not None and part.strip():  # continues the standard before
                found[previous].append(part)
            continue
        for i, hit in enumerate(hits):
            end = hits[i + 1].start() if i + 1 < len(hits) else len(part)
            previous = owner[hit.group()]
            found.setdefault(previous, []).append(part[hit.end() : end])
    return found


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(word)}(?![\w]|\.\d)", text) is not None


def status_of(cases: list[dict[str, Any]]) -> str:
    """A row's verdict: not covered, failed if any case failed or erred, else passed/skipped."""
    verdicts = {c["verdict"] for c in cases}
    if not cases:
        return NOT_COVERED
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
        matched_parts: set[tuple[int, int]] = set()
        for row in std.clauses:
            checked = []
            for ci, (case, texts) in enumerate(mine):
                hits = [
                    ti
                    for ti, text in enumerate(texts)
                    if any(_mentions(text, word) for word in row.match)
                ]
                matched_parts.update((ci, ti) for ti in hits)
                if hits:
                    checked.append(case)
            table.clauses.append((row, checked))
        for row in std.cases:
            table.cases.append((row, [c for c in cases if c["id"] in row.match]))
        for row in (*std.clauses, *std.cases):
            if not std.suites_of(row) & suites:
                table.inapplicable.add(row.id)
        for ci, (case, texts) in enumerate(mine):
            for ti, text in enumerate(texts):
                if (ci, ti) in matched_parts or _names_own_case(text, std):
                    continue
                if not text.strip(" ,;") and any(t.strip(" ,;") for t in texts):
                    continue  # "OCPP 1.6 security whitepaper ...": two designations in a row
                # "" = the standard cited without a clause (the report says so in words)
                table.unmatched.setdefault(text.strip(" ,;"), []).append(case)
        out.append(table)
    others: dict[str, list[dict[str, Any]]] = {}
    for case, found in refs:
        if not found:
            others.setdefault(case["clause"] or "(no clause)", []).append(case)
    return out, others


def _names_own_case(text: str, std: Standard) -> bool:
    """A part naming one of the standard's own test cases (``OCA OCTT 2.0.1 TC_B_01_CS``,
    also "as TC_A_05_CS, with ..."): placed by the case rows, not a clause."""
    return any(_mentions(text, word) for row in std.cases for word in row.match)
