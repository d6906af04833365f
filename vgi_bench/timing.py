"""Period and latency statistics from bus timestamps, and their verdicts.

Every timing figure the bench reports is a difference of frame timestamps taken by the
bus (adapter or kernel), never a reading of the host clock around a ``sleep``. A timing
verdict is judged with the uncertainty of that clock (:class:`TimeJudge`, from
``vgi_bench/clocks.py``) by the run's decision rule (``vgi_bench/decision.py``).

Plain Python (``math.fsum``, ``sorted``), not numpy: a series is a few thousand gaps at
most (a million-frame ``check`` splits into one series per message), which the standard
library sorts and sums in milliseconds, and the core install stays free of numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import overload

from vgi_bench.clocks import Clock, socket_clock
from vgi_bench.decision import Judged, Rule, combine, judge


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
    if segments is None:
        gaps = [(b - a) * 1000.0 for a, b in pairwise(timestamps)]
    else:
        runs = zip(pairwise(timestamps), pairwise(segments), strict=False)
        gaps = [(b - a) * 1000.0 for (a, b), (sa, sb) in runs if sa == sb]
        if not gaps:
            return None
    ordered = sorted(gaps)
    mean = math.fsum(gaps) / len(gaps)
    return PeriodStats(
        count=len(gaps) + 1,
        nominal_ms=None if nominal_s is None else nominal_s * 1000.0,
        mean_ms=mean,
        min_ms=ordered[0],
        max_ms=ordered[-1],
        p50_ms=percentile(ordered, 50),
        p99_ms=percentile(ordered, 99),
        jitter_ms=math.sqrt(math.fsum([(g - mean) * (g - mean) for g in gaps]) / len(gaps)),
    )


def percentile(ordered: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of sorted values, interpolated linearly between the two
    nearest ranks (numpy's default "linear" method, Hyndman & Fan type 7)."""
    if not ordered:
        raise ValueError("percentile of no values")
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


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
    ordered = sorted(float(v) for v in samples_ms)
    return {
        "count": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p99_ms": percentile(ordered, 99),
        "max_ms": ordered[-1],
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
