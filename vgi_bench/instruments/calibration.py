"""Calibration status and measurement uncertainty of the bench's instruments.

A verdict on a measured figure is only as good as the instrument behind it, so each
instrument in the profile carries its serial number, calibration date and due date, and
its accuracy specification (``accuracy = { voltage = [0.0005, 0.1] }``: ± 0.05 % of
reading + 0.1 V). The decision rule is the bench's one (:mod:`vgi_bench.decision`, the
profile's ``[report] decision_rule``): by default guarded acceptance with a guard band
equal to the expanded uncertainty (ILAC-G8): pass only if the error plus U is within the
limit, fail if the error minus U is beyond it; in between the verdict is "not proven" and
the case fails, saying so.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from vgi_bench.decision import COVERAGE_FACTOR, Decision, Judged, Rule, judge
from vgi_bench.profile import InstrumentConfig

#: Coverage factor of the expanded uncertainty (about 95 %).
K = float(COVERAGE_FACTOR)

__all__ = ["Accuracy", "Calibration", "CalibrationStatus", "Decision", "GuardedVerdict", "decide"]


class CalibrationStatus(str, Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # no due date in the profile


@dataclass(frozen=True)
class Calibration:
    name: str
    driver: str
    serial: str
    calibrated: datetime.date | None
    due: datetime.date | None
    allow_expired: bool

    @classmethod
    def of(cls, name: str, config: InstrumentConfig) -> Calibration:
        return cls(
            name, config.driver, config.serial, config.calibration_date,
            config.calibration_due, config.allow_expired_calibration,
        )  # fmt: skip

    def status(self, today: datetime.date | None = None) -> CalibrationStatus:
        if self.due is None:
            return CalibrationStatus.UNKNOWN
        today = today or datetime.date.today()
        return CalibrationStatus.VALID if today <= self.due else CalibrationStatus.EXPIRED

    def as_dict(self, today: datetime.date | None = None) -> dict[str, str]:
        return {
            "instrument": self.name,
            "driver": self.driver,
            "serial": self.serial or "not given",
            "calibrated": self.calibrated.isoformat() if self.calibrated else "not given",
            "due": self.due.isoformat() if self.due else "not given",
            "status": self.status(today).value,
        }


@dataclass(frozen=True)
class Accuracy:
    """± (``rel`` × reading + ``abs``), the data sheet's form."""

    rel: float
    abs: float

    def expanded(self, reading: float) -> float:
        """Expanded uncertainty (k=2) of one reading: the spec taken as a rectangular
        distribution (standard uncertainty = half-width / sqrt(3))."""
        half_width = self.rel * abs(reading) + self.abs
        return K * half_width / math.sqrt(3)


@dataclass(frozen=True)
class GuardedVerdict:
    """The decision on ``|error| <= limit``: the error judged in the window ±limit."""

    error: float
    limit: float
    uncertainty: float
    decision: Decision
    judged: Judged | None = None

    @property
    def guard_band(self) -> bool:
        return self.judged.guard_band if self.judged is not None else False

    def describe(self, unit: str) -> str:
        return (f"error {self.error:+.4g} {unit} ± U {self.uncertainty:.3g} {unit} (k=2) against "
                f"± {self.limit:.4g} {unit}: {self.decision.value}")  # fmt: skip

    def to_dict(self, unit: str = "") -> dict[str, Any]:
        """The judged-figure keys of :meth:`vgi_bench.decision.Judged.to_dict` (value: the error,
        low/high: ∓limit) in ``unit``."""
        judged = self.judged or _judge(self.error, self.limit, self.uncertainty, Rule.GUARDED)
        return {**judged.to_dict(), "unit": unit or judged.unit}


def decide(
    error: float, limit: float, uncertainty: float, rule: Rule = Rule.GUARDED
) -> GuardedVerdict:
    """The decision on ``|error| <= limit`` with expanded uncertainty U, by ``rule``
    (guarded by default: pass if |error| + U <= limit, fail if |error| - U > limit)."""
    judged = _judge(error, limit, uncertainty, rule)
    return GuardedVerdict(error, limit, uncertainty, judged.decision, judged)


def _judge(error: float, limit: float, uncertainty: float, rule: Rule) -> Judged:
    return judge(error, uncertainty=uncertainty, rule=rule, low=-limit, high=limit)
