"""Period and latency statistics from bus timestamps.

Every timing figure the bench reports is a difference of frame timestamps taken by the
bus (adapter or kernel), never a reading of the host clock around a ``sleep``.

Plain Python (``math.fsum``, ``sorted``), not numpy: a series is a few thousand gaps at
most (a million-frame ``check`` splits into one series per message), which the standard
library sorts and sums in milliseconds, and the core install stays free of numpy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise


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
