"""Figures a power case computes from analyzer samples: settled means, the time to reach
a new demand, the stop rate, ripple factors, energy. Pure functions of the samples."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from vgi_bench.power.sampler import Sample


def values(samples: Sequence[Sample], key: str) -> list[float]:
    return [v for s in samples if (v := s.get(key)) is not None and math.isfinite(v)]


def mean(samples: Sequence[Sample], key: str) -> float | None:
    found = values(samples, key)
    return sum(found) / len(found) if found else None


def band(target: float, rel: float, absolute: float, threshold: float = 0.0) -> float:
    """The accuracy half-width for ``target``: ``rel`` of it at or above ``threshold``,
    else ``absolute`` (the NB/T 33001 form: ±1 % from 30 A, ±0.3 A below)."""
    return abs(target) * rel if abs(target) >= threshold else absolute


def settle_time(
    samples: Sequence[Sample], key: str, target: float, half_width: float, since: float
) -> float | None:
    """Seconds from ``since`` until ``key`` enters ``target ± half_width`` for good (it
    stays inside for the rest of ``samples``); None if it never does."""
    after = [s for s in samples if s.time >= since and s.get(key) is not None]
    settled: float | None = None
    for s in after:
        inside = abs(s.get(key) - target) <= half_width  # type: ignore[operator]
        if inside and settled is None:
            settled = s.time
        elif not inside:
            settled = None
    return None if settled is None else settled - since


@dataclass(frozen=True)
class StopRate:
    start_a: float
    fall_start: float  # Ts: last sample at >= 98 % of the starting current
    reached_5a: float | None
    rate_a_per_s: float | None


def stop_rate(samples: Sequence[Sample], key: str, since: float, low_a: float = 5.0) -> StopRate:
    """The current stop rate after a stop at ``since`` (GB/T 34657.1 D0.5101: from the
    start of the fall to 5 A)."""
    before = [abs(v) for v in values([s for s in samples if s.time < since], key)[-10:]]
    start = sum(before) / len(before) if before else 0.0
    after = [s for s in samples if s.time >= since and s.get(key) is not None]
    fall_start = since
    for s in after:
        if abs(s.get(key)) >= 0.98 * start:  # type: ignore[arg-type]
            fall_start = s.time
        else:
            break
    reached = next(
        (s.time for s in after if s.time >= fall_start and abs(s.get(key)) <= low_a), None
    )  # type: ignore[arg-type]
    if reached is None or reached <= fall_start:
        rate = None if reached is None else math.inf
    else:
        rate = (start - low_a) / (reached - fall_start)
    return StopRate(start, fall_start, reached, rate)


def ripple(samples: Sequence[Sample], element: int = 1) -> tuple[float, float] | None:
    """(peak factor (U+pk - U-pk) / 2 / Udc, rms factor Uac / Udc), averaged."""
    peaks, rmss = [], []
    for s in samples:
        keys = ("voltage", "voltage_peak_pos", "voltage_peak_neg", "voltage_ac")
        udc, pos, neg, uac = (s.get(f"{q}@{element}") for q in keys)
        if udc and pos is not None and neg is not None and uac is not None and udc > 1.0:
            peaks.append((pos - neg) / 2 / udc)
            rmss.append(uac / udc)
    if not peaks:
        return None
    return sum(peaks) / len(peaks), sum(rmss) / len(rmss)


def energy_wh(samples: Sequence[Sample], voltage_key: str, current_key: str) -> tuple[float, float]:
    """(energy into the battery, energy out of it) in Wh by trapezoids over the samples."""
    into = out = 0.0
    pts = [(s.time, s.get(voltage_key), s.get(current_key)) for s in samples]
    pts = [(t, v, i) for t, v, i in pts if v is not None and i is not None]
    for (t0, v0, i0), (t1, v1, i1) in itertools.pairwise(pts):
        wh = (v0 * i0 + v1 * i1) / 2 * (t1 - t0) / 3600.0
        if wh >= 0:
            into += wh
        else:
            out -= wh
    return into, out
