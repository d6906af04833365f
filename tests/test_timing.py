"""Period and latency statistics (vgi_bench/timing.py) on synthetic timestamp series."""

from __future__ import annotations

import math

import pytest

from vgi_bench.timing import Latency, PeriodStats, percentile, percentiles, period_stats


@pytest.mark.parametrize("stamps", [[], [12.5]])
def test_period_stats_needs_two_stamps(stamps: list[float]) -> None:
    assert period_stats(stamps) is None
    assert period_stats(stamps, 0.25) is None


def test_period_stats_of_a_series() -> None:
    # gaps 100, 100, 110, 90 ms
    stats = period_stats([10.0, 10.1, 10.2, 10.31, 10.4], 0.1)
    assert isinstance(stats, PeriodStats)
    assert stats.count == 5  # frames, one more than gaps
    assert stats.nominal_ms == pytest.approx(100.0)
    assert stats.mean_ms == pytest.approx(100.0)
    assert stats.min_ms == pytest.approx(90.0)
    assert stats.max_ms == pytest.approx(110.0)
    assert stats.p50_ms == pytest.approx(100.0)
    assert 100.0 < stats.p99_ms <= 110.0
    assert stats.p99_ms == pytest.approx(109.7)  # numpy's linear interpolation
    assert stats.jitter_ms == pytest.approx(math.sqrt(50.0))  # population std
    assert stats.mean_within(0.01)


def test_period_stats_without_nominal() -> None:
    stats = period_stats([0.0, 0.25])
    assert stats is not None
    assert stats.nominal_ms is None
    assert stats.count == 2
    assert stats.jitter_ms == 0.0
    with pytest.raises(AssertionError):
        stats.mean_within(0.1)


def test_mean_within_tolerance() -> None:
    late = period_stats([0.0, 0.27, 0.54], 0.25)  # 270 ms mean against 250 ms
    assert late is not None
    assert late.mean_within(0.10)
    assert not late.mean_within(0.05)
    slow = period_stats([0.0, 0.5, 1.0], 0.25)
    assert slow is not None
    assert not slow.mean_within(0.10)


def test_segments_take_only_gaps_inside_a_run() -> None:
    stamps = [0.0, 0.1, 0.2, 1.0, 1.25, 1.5]
    stats = period_stats(stamps, segments=[0, 0, 0, 1, 1, 1])
    assert stats is not None
    # 100, 100 | 250, 250: the 800 ms across the change is not a gap of either run
    assert stats.count == 5
    assert stats.max_ms == pytest.approx(250.0)
    assert stats.min_ms == pytest.approx(100.0)
    assert stats.mean_ms == pytest.approx(175.0)
    whole = period_stats(stamps)
    assert whole is not None
    assert whole.max_ms == pytest.approx(800.0)


def test_segments_with_no_gap_inside_any_run() -> None:
    assert period_stats([0.0, 0.1, 0.2], segments=[0, 1, 2]) is None


def test_as_dict_rounds_to_microseconds() -> None:
    stats = period_stats([0.0, 0.1234567, 0.2469134], 0.125)
    assert stats is not None
    d = stats.as_dict()
    assert set(d) == {
        "count",
        "nominal_ms",
        "mean_ms",
        "min_ms",
        "max_ms",
        "p50_ms",
        "p99_ms",
        "jitter_ms",
    }
    assert d["count"] == 3
    assert d["mean_ms"] == pytest.approx(123.457)
    assert d["mean_ms"] == round(d["mean_ms"], 3)
    assert d["nominal_ms"] == 125.0


def test_latency_between() -> None:
    lat = Latency.between(100.0, 100.2345678, 5.0)
    assert lat.value_ms == pytest.approx(234.568)
    assert lat.limit_ms == 5000.0
    assert lat.as_dict() == {"value_ms": lat.value_ms, "limit_ms": 5000.0}
    no_limit = Latency.between(1.0, 1.5)
    assert no_limit.limit_ms is None
    assert no_limit.as_dict() == {"value_ms": 500.0, "limit_ms": None}
    assert Latency.between(2.0, 1.0).value_ms == -1000.0  # answer before question: kept as is


def test_percentiles() -> None:
    p = percentiles([float(n) for n in range(1, 101)])
    assert p["count"] == 100
    assert p["p50_ms"] == pytest.approx(50.5)
    assert p["p99_ms"] == pytest.approx(99.01)
    assert p["max_ms"] == 100.0
    single = percentiles([3.0])
    assert single == {"count": 1, "p50_ms": 3.0, "p99_ms": 3.0, "max_ms": 3.0}


def test_percentile_interpolates_between_ranks() -> None:
    # numpy.percentile's default ("linear", Hyndman & Fan type 7), without numpy
    ordered = [1.0, 2.0, 3.0, 4.0]
    assert percentile(ordered, 0) == 1.0
    assert percentile(ordered, 25) == pytest.approx(1.75)
    assert percentile(ordered, 50) == pytest.approx(2.5)
    assert percentile(ordered, 99) == pytest.approx(3.97)
    assert percentile(ordered, 100) == 4.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_timing_needs_no_numpy() -> None:
    """The core install has no numpy: vgi_bench.timing must import and work without it."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "from vgi_bench.timing import period_stats\n"
        "s = period_stats([0.0, 0.1, 0.2, 0.31], 0.1)\n"
        "assert s is not None and s.count == 4, s\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
