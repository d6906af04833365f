"""The decision rule of every timing and electrical verdict (ILAC-G8:09/2019).

A measured figure is judged against its limit *with* its expanded uncertainty U (k = 2),
so the report can state both, and say which rule turned them into a verdict:

* ``guarded`` (the default) -- guarded acceptance with a guard band w = U: a figure
  passes only if it lies at least U inside its limits and fails if it lies more than U
  outside them; in between the limit lies within ±U of the figure, the verdict is
  "not proven", and the case fails saying so.
* ``simple`` -- simple acceptance (ILAC-G8's shared risk, w = 0): the figure alone
  decides; one within ±U of a limit is still marked as lying in the guard band.

The profile picks the rule (``[report] decision_rule``). Every judged figure goes into
the case's measurements as :meth:`Judged.to_dict`, with the same keys for a CAN latency
and an analyzer reading, so a report renders any of them alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vgi_bench.cases import fail

#: Coverage factor of every expanded uncertainty the bench states (about 95 %).
COVERAGE_FACTOR = 2


class Rule(str, Enum):
    """The profile's ``[report] decision_rule``."""

    GUARDED = "guarded"
    SIMPLE = "simple"

    @property
    def text(self) -> str:
        """How the report names the rule."""
        if self is Rule.GUARDED:
            return "guarded acceptance, w = U (ILAC-G8)"
        return "simple acceptance (ILAC-G8)"

    @classmethod
    def of(cls, name: str | None) -> Rule:
        """The rule named in a profile; the default (guarded) for none."""
        return cls(name) if name else cls.GUARDED


class Decision(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_PROVEN = "not proven"  # within the guard band: a limit lies inside ±U


@dataclass(frozen=True)
class Judged:
    """A figure, its limits, its expanded uncertainty and the verdict the rule gives.

    ``limit`` is an upper limit (``value <= limit``); ``low``/``high`` bound a window
    (either may be absent: ``low`` alone is a lower limit). Build it with :func:`judge`.
    """

    value: float
    unit: str
    uncertainty: float
    rule: Rule
    decision: Decision
    guard_band: bool
    limit: float | None = None
    low: float | None = None
    high: float | None = None

    @property
    def passed(self) -> bool:
        return self.decision is Decision.PASS

    def bounds(self) -> tuple[float | None, float | None]:
        """The lower and upper limit of the figure (``None``: no such limit)."""
        return self.low, self.limit if self.limit is not None else self.high

    def to_dict(self) -> dict[str, Any]:
        """The case-measurement form (the same keys for every judged figure)."""
        limits: dict[str, float] = {}
        if self.limit is not None:
            limits["limit"] = _round(self.limit)
        if self.low is not None:
            limits["low"] = _round(self.low)
        if self.high is not None:
            limits["high"] = _round(self.high)
        return {
            "value": _round(self.value),
            "unit": self.unit,
            **limits,
            "uncertainty": _round(self.uncertainty, significant=3),
            "coverage_factor": COVERAGE_FACTOR,
            "decision_rule": self.rule.text,
            "decision": self.decision.value,
            "guard_band": self.guard_band,
        }

    as_dict = to_dict  # what Measurements.record calls

    def limits_text(self) -> str:
        low, high = self.bounds()
        unit = f" {self.unit}" if self.unit else ""
        if low is not None and high is not None:
            return f"{low:.6g}...{high:.6g}{unit}"
        if high is not None:
            return f"<= {high:.6g}{unit}"
        return f">= {low:.6g}{unit}"

    def describe(self) -> str:
        """``"199.98 ms ± 0.03 ms (k=2) against <= 200 ms: not proven (...)"``."""
        unit = f" {self.unit}" if self.unit else ""
        text = (
            f"{self.value:.6g}{unit} ± {self.uncertainty:.3g}{unit} (k={COVERAGE_FACTOR}) "
            f"against {self.limits_text()}: {self.decision.value}"
        )
        if self.guard_band:
            text += f" (inside the guard band: a limit lies within ±U; {self.rule.text})"
        return text


def judge(
    value: float,
    *,
    uncertainty: float,
    rule: Rule = Rule.GUARDED,
    unit: str = "",
    limit: float | None = None,
    low: float | None = None,
    high: float | None = None,
) -> Judged:
    """Judge ``value`` against its limits with the expanded uncertainty ``uncertainty``.

    ``limit`` and ``high`` are the same upper bound (``limit`` for a one-sided check, so
    the report prints it as such); at least one bound must be given.
    """
    if limit is not None and high is not None:
        raise ValueError("give an upper limit as limit or as high, not both")
    upper = limit if limit is not None else high
    if upper is None and low is None:
        raise ValueError("a judged figure needs a limit")
    u = abs(uncertainty)
    inside = (low is None or value >= low) and (upper is None or value <= upper)
    clear_inside = (low is None or value >= low + u) and (upper is None or value <= upper - u)
    clear_outside = (low is not None and value < low - u) or (
        upper is not None and value > upper + u
    )
    guard_band = not clear_inside and not clear_outside
    if rule is Rule.SIMPLE:
        decision = Decision.PASS if inside else Decision.FAIL
    elif clear_inside:
        decision = Decision.PASS
    elif clear_outside:
        decision = Decision.FAIL
    else:
        decision = Decision.NOT_PROVEN
    return Judged(value, unit, u, rule, decision, guard_band, limit, low, high)


def require_pass(judged: Judged, expected: str, seen: str = "") -> Judged:
    """Fail the case unless ``judged`` passed; a "not proven" figure fails saying why.

    ``expected`` names the requirement, ``seen`` what the DUT did (the figure is added).
    """
    if judged.passed:
        return judged
    figure = judged.describe()
    fail(expected, f"{seen}: {figure}" if seen else figure)


def combine(*uncertainties: float) -> float:
    """Expanded uncertainties of independent contributions (same k), root sum of squares."""
    return math.sqrt(sum(u * u for u in uncertainties))


def _round(value: float, significant: int = 9) -> float:
    """Enough digits for the report and for diffs, no float noise."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = significant - math.floor(math.log10(abs(value))) - 1
    return round(value, max(digits, 0))
