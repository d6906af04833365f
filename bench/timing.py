"""Period and latency statistics from bus timestamps.

Every timing figure the bench reports is a difference of frame timestamps taken by the
bus (adapter or kernel), never a reading of the host clock around a ``sleep``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


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
