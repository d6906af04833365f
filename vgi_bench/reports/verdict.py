"""The overall verdict on the report's cover, and why cases were not run.

Why a rule of its own: a lab's report must never say PASS for more than was shown. The
rule, in order:

* ``NO CASES`` -- the run has no case at all.
* ``FAIL`` -- a case failed: a nonconformity was observed (whatever else happened).
* ``INCOMPLETE`` -- no failure, but the evidence is not whole: a case ended in error
  (the bench could not carry it out), has no or an unknown verdict, was skipped without
  a reason, every case was skipped, or the run did not finish (no ``finished`` time).
* ``PASS (N not run)`` -- every case that ran passed, and N were skipped, each with its
  reason (listed under the verdict, grouped by reason).
* ``PASS`` -- every case passed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NotRun", "Overall", "overall", "skip_reason"]

_SKIP_PREFIX = re.compile(r"^\s*Skipped:\s*", re.IGNORECASE)


@dataclass(frozen=True)
class NotRun:
    """Cases skipped for one reason."""

    reason: str
    cases: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Overall:
    """``code`` is one of PASS, FAIL, INCOMPLETE, NO CASES; ``not_run`` the skips by reason;
    ``why`` says what made it INCOMPLETE (label keys of ``labels.toml`` ``[why]``)."""

    code: str
    not_run: tuple[NotRun, ...] = ()
    why: tuple[str, ...] = field(default=())

    @property
    def skipped(self) -> int:
        return sum(len(group.cases) for group in self.not_run)

    @property
    def css(self) -> str:
        partial = " partial" if self.code == "PASS" and self.not_run else ""
        return self.code.replace(" ", "-") + partial


def skip_reason(message: str) -> str:
    """A skip's reason as pytest gave it, without its ``Skipped:`` prefix."""
    return _SKIP_PREFIX.sub("", message or "").strip()


def _not_run(cases: list[dict[str, Any]]) -> tuple[NotRun, ...]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        if case["verdict"] == "skipped":
            groups.setdefault(skip_reason(case.get("message", "")), []).append(case)
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return tuple(NotRun(reason, tuple(members)) for reason, members in ordered)


def overall(
    cases: list[dict[str, Any]], totals: Mapping[str, int], *, finished: bool = True
) -> Overall:
    """The cover's verdict for the report's ``cases`` (``verdict``, ``message``, ...)."""
    not_run = _not_run(cases)
    if not cases and not any(totals.values()):
        return Overall("NO CASES")
    if totals.get("failed"):
        return Overall("FAIL", not_run)
    why = []
    if totals.get("error"):
        why.append("error")
    if any(c["verdict"] not in ("passed", "failed", "error", "skipped") for c in cases):
        why.append("unknown")
    if any(not group.reason for group in not_run):
        why.append("no_reason")
    if not totals.get("passed") and totals.get("skipped"):
        why.append("all_skipped")
    if not finished:
        why.append("unfinished")
    if why:
        return Overall("INCOMPLETE", not_run, tuple(why))
    return Overall("PASS", not_run)
