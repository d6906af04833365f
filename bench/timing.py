"""Period and latency statistics from bus timestamps, and their verdicts.

Every timing figure the bench reports is a difference of frame timestamps taken by the
bus (adapter or kernel), never a reading of the host clock around a ``sleep``. A timing
verdict is judged with the uncertainty of that clock (:class:`TimeJudge`, from
``bench/clocks.py``) by the run's decision rule (``bench/decision.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import overload

import numpy as np

from bench.clocks import Clock, socket_clock
from bench.decision import Judged, Rule, combine, judge


@dataclass(frozen=True)
class PeriodStats:
    """Statistics of the gaps between consecutive frames of one message, in milliseconds."""

    count: int
    nominal_ms: float | None
    mean_ms: float
    min_ms: float
    max_ms: float
    p50_ms: float
    p99_ms: float
    jitter_ms: float  # standard deviation of the gaps

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def mean_within(self, tolerance: float) -> bool:
        """Mean gap within ``nominal * (1 ± tolerance)``."""
        assert self.nominal_ms is not None
        return abs(self.mean_ms - self.nominal_ms) <= self.nominal_ms * tolerance


def period_stats(
    timestamps: Sequence[float],
    nominal_s: float | None = None,
    *,
    segments: Sequence[int] | None = None,
) -> PeriodStats | None:
    """Gap statistics of a timestamp series; ``None`` with fewer than two timestamps.

    ``segments`` labels each timestamp; gaps are only taken between neighbours with the
    same label (a message whose content changes may restart its cycle at the change).
    """
    if len(timestamps) < 2:
        return None
    gaps = np.diff(np.asarray(timestamps, dtype=float)) * 1000.0
    if segments is not None:
        labels = np.asarray(segments)
        gaps = gaps[labels[1:] == labels[:-1]]
        if gaps.size == 0:
            return None
    return PeriodStats(
        count=int(gaps.size) + 1,
        nominal_ms=None if nominal_s is None else nominal_s * 1000.0,
        mean_ms=float(gaps.mean()),
        min_ms=float(gaps.min()),
        max_ms=float(gaps.max()),
        p50_ms=float(np.percentile(gaps, 50)),
        p99_ms=float(np.percentile(gaps, 99)),
        jitter_ms=float(gaps.std()),
    )


@dataclass(frozen=True)
class Latency:
    """The time from one frame to the answer, checked against a limit (both in ms)."""

    value_ms: float
    limit_ms: float | None = None

    @classmethod
    def between(cls, t_from: float, t_to: float, limit_s: float | None = None) -> Latency:
        return cls(
            value_ms=round((t_to - t_from) * 1000.0, 3),
            limit_ms=None if limit_s is None else round(limit_s * 1000.0, 3),
        )

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p99/max of a latency sample, for benchmarks."""
    arr = np.asarray(samples_ms, dtype=float)
    return {
        "count": len(arr),
        "p50_ms": float(np.percentile(arr, 50)),
        "p99_ms": float(np.percentile(arr, 99)),
        "max_ms": float(arr.max()),
    }


@dataclass(frozen=True)
class TimeJudge:
    """Judges time differences stamped by ``clock`` with the run's decision ``rule``.

    Figures are in milliseconds, like every other timing figure of the bench.
    """

    clock: Clock
    rule: Rule = Rule.GUARDED

    def interval(
        self,
        t_from: float,
        t_to: float,
        *,
        limit_s: float | None = None,
        low_s: float | None = None,
        high_s: float | None = None,
        from_host: bool = False,
    ) -> Judged:
        """``t_to - t_from`` against an upper ``limit_s`` or a window ``low_s``...``high_s``.

        ``from_host``: ``t_from`` is a host reading (``time.time()``), not a stamp.
        """
        return self.duration(
            t_to - t_from, limit_s=limit_s, low_s=low_s, high_s=high_s, from_host=from_host
        )

    def duration(
        self,
        seconds: float,
        *,
        limit_s: float | None = None,
        low_s: float | None = None,
        high_s: float | None = None,
        from_host: bool = False,
    ) -> Judged:
        """A measured time difference (two stamps of the clock) against its limits."""
        u = self.clock.difference_uncertainty(seconds, from_host=from_host)
        return judge(
            _ms(seconds), uncertainty=u * 1000.0, rule=self.rule, unit="ms",
            limit=_ms(limit_s), low=_ms(low_s), high=_ms(high_s),
        )  # fmt: skip

    def mean_gap(
        self, stats: PeriodStats, *, low_ms: float, high_ms: float, runs: int = 1
    ) -> Judged:
        """The mean gap of ``stats`` against a window.

        The gaps of one run of consecutive frames add up to last minus first stamp, so
        the mean of ``n`` gaps over ``runs`` runs carries ``sqrt(2 * runs)`` stamp
        uncertainties divided by ``n``, plus the clock's rate on the mean itself.
        """
        gaps = max(stats.count - 1, 1)
        stamps = math.sqrt(2 * max(runs, 1)) * self.clock.uncertainty_s / gaps
        rate = self.clock.rate_ppm * 1e-6 * stats.mean_ms / 1000.0
        return judge(
            round(stats.mean_ms, 3), uncertainty=combine(stamps, rate) * 1000.0,
            rule=self.rule, unit="ms", low=round(low_ms, 3), high=round(high_ms, 3),
        )  # fmt: skip


def socket_timing(bus: str, rule: str | None = None) -> TimeJudge:
    """Judging times stamped at the OCPP (``"ocpp"``) or platform (``"platform"``) sockets
    by the profile's decision ``rule`` (``[report] decision_rule``)."""
    return TimeJudge(socket_clock(bus), Rule.of(rule))


@overload
def _ms(seconds: float) -> float: ...
@overload
def _ms(seconds: None) -> None: ...
def _ms(seconds: float | None) -> float | None:
    """Seconds as milliseconds to the microsecond (the bench's timing figures)."""
    return None if seconds is None else round(seconds * 1000.0, 3)
