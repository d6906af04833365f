"""Reusable checks for GB/T 27930 cases: each fails with what was expected and what was seen.

They read the capture (bus timestamps) and record what they measured, so a failed case
still reports its figures. Every timing verdict is judged with the uncertainty of the
clock that stamped the frames (``capture.timing``) by the run's decision rule: a figure
inside the guard band says so, and under guarded acceptance fails as "not proven".
"""

from __future__ import annotations

from typing import Any

from vgi_bench.can.capture import Capture, Predicate, Record
from vgi_bench.cases import Measurements, check, fail
from vgi_bench.decision import require_pass
from vgi_bench.gbt27930.timeouts import Timeout, Tolerance
from vgi_bench.timing import PeriodStats, TimeJudge, period_stats


def seen_summary(capture: Capture, src: int, since: float, limit: int = 6) -> str:
    """What the source sent since ``since``: message names with counts, for messages."""
    counts: dict[str, int] = {}
    for rec in capture.select(since=since, src=src):
        counts[rec.name or "?"] = counts.get(rec.name or "?", 0) + 1
    if not counts:
        return "nothing"
    items = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]
    return ", ".join(f"{n}×{c}" for n, c in items)


def expect_message(
    capture: Capture,
    name: str,
    *,
    src: int,
    since: float,
    within: float,
    what: str,
    where: Predicate | None = None,
    not_before: float | None = None,
    measurements: Measurements | None = None,
    key: str | None = None,
    from_host: bool = False,
) -> Record:
    """The first ``name`` from ``src`` after ``since`` (matching ``where``) within ``within`` s.

    The time from ``since`` is judged against ``within`` (and ``not_before``, for a
    window) with the capture clock's uncertainty, and recorded as ``key`` when given.
    ``from_host``: ``since`` is a host reading (``capture.now()``), not a frame's stamp.
    """
    timing = capture.timing
    slack = timing.clock.difference_uncertainty(within, from_host=from_host)
    remaining = max(0.0, since + within + slack - capture.now())
    rec = capture.wait_for(name, since=since, src=src, where=where, timeout=remaining)
    if rec is None or rec.timestamp > since + within + slack:
        fail(
            f"{what} within {within:g} s",
            f"none; the DUT sent {seen_summary(capture, src, since)} in that time",
        )
    judged = timing.interval(
        since, rec.timestamp, limit_s=None if not_before is not None else within,
        low_s=not_before, high_s=within if not_before is not None else None,
        from_host=from_host,
    )  # fmt: skip
    if measurements is not None and key:
        measurements.record(key, judged)
    window = f"within {within:g} s" if not_before is None else f"{not_before:g}...{within:g} s"
    seen = f"{rec.describe()} after {rec.timestamp - since:.3f} s"
    require_pass(judged, f"{what} {window}", seen)
    return rec


def expect_silence(
    capture: Capture,
    name: str,
    *,
    src: int,
    since: float,
    until: float,
    what: str,
    where: Predicate | None = None,
) -> None:
    """No ``name`` from ``src`` in ``[since, until]``; waits until ``until`` has passed."""
    wait = until - capture.now()
    if wait > 0:
        capture.hold(wait)
    found = capture.select(name, since=since, until=until, src=src, where=where)
    if found:
        first = found[0]
        fail(what, f"{first.describe()} at +{first.timestamp - since:.3f} s")


def check_period(
    records: list[Record],
    name: str,
    nominal_s: float,
    tolerance: Tolerance,
    measurements: Measurements,
    *,
    timing: TimeJudge | None = None,
    min_count: int = 5,
    per_content: bool = False,
) -> PeriodStats:
    """Mean gap of ``records`` within the tolerance of the table period.

    ``per_content`` measures only between frames with the same payload, so a message
    sent at once when its content changes (CRO 0x00 -> 0xAA) is not counted as early.
    The mean is judged with ``timing`` (the rig capture's, ``rig.capture.timing``; a
    host-stamped clock when not given) and recorded as ``<name>.period_mean``.
    """
    segments = _content_runs(records) if per_content else None
    stats = period_stats([r.timestamp for r in records], nominal_s, segments=segments)
    check(
        stats is not None and stats.count >= min_count,
        f"at least {min_count} {name} frames to measure the period",
        f"{len(records)}",
    )
    assert stats is not None
    measurements.record(f"{name}.period", stats)
    nominal_ms, rel = nominal_s * 1000.0, tolerance.period_rel
    judged = (timing or Capture.default_timing()).mean_gap(
        stats, low_ms=nominal_ms * (1 - rel), high_ms=nominal_ms * (1 + rel),
        runs=len(set(segments)) if segments else 1,
    )  # fmt: skip
    measurements.record(f"{name}.period_mean", judged)
    require_pass(
        judged,
        f"{name} every {nominal_s * 1000:g} ms (mean within ±{tolerance.period_rel:.0%})",
        f"mean {stats.mean_ms:.1f} ms (min {stats.min_ms:.1f}, max {stats.max_ms:.1f}, "
        f"{stats.count} frames)",
    )
    return stats


def _content_runs(records: list[Record]) -> list[int]:
    """A run number per record that changes whenever the payload changes."""
    runs, run, previous = [], 0, None
    for rec in records:
        if previous is not None and rec.frame.data != previous:
            run += 1
        runs.append(run)
        previous = rec.frame.data
    return runs


def check_lengths(records: list[Record], name: str, length: int) -> None:
    """Every frame of ``name`` is ``length`` bytes (the DLC equals the table length)."""
    wrong = [r for r in records if len(r.frame.data) != length]
    if wrong:
        fail(f"every {name} {length} bytes long", f"{wrong[0].describe()} ({len(wrong)} such)")


def check_decoded(records: list[Record], name: str) -> None:
    """Every frame of ``name`` decodes: right length, values in range, defined codes."""
    bad = [r for r in records if not r.ok]
    if bad:
        reason = getattr(bad[0].decoded, "reason", "undecodable")
        fail(f"every {name} well-formed", f"{reason} in {bad[0].describe()}")


def check_timeout_report(
    capture: Capture,
    timeout: Timeout,
    tolerance: Tolerance,
    measurements: Measurements,
    *,
    src: int,
    earliest_start: float,
    latest_start: float | None = None,
) -> Record:
    """The timeout's report (CEM or BEM) with its bit, no sooner and no later than allowed.

    The start point of some timers is not pinned down by the standard: the window runs
    from ``earliest_start + limit - early`` to ``latest_start + limit + late``.
    """
    latest = earliest_start if latest_start is None else latest_start
    lower = earliest_start + timeout.limit_s - tolerance.early_s
    upper = latest + timeout.limit_s + tolerance.late_s
    report = timeout.report
    what = (
        f"{report} with {timeout.signal} (SPN{timeout.spn}) = 01 {timeout.limit_s:g} s "
        f"after {timeout.after} (window {timeout.limit_s - tolerance.early_s:g}..."
        f"{timeout.limit_s + tolerance.late_s:g} s)"
    )
    slack = capture.timing.clock.difference_uncertainty(upper - earliest_start)
    rec = capture.wait_for(
        report,
        since=earliest_start,
        src=src,
        timeout=max(0.0, upper + slack - capture.now()),
    )
    if rec is None or rec.timestamp > upper + slack:
        fail(what, f"no {report}; the DUT sent {seen_summary(capture, src, earliest_start)}")
    judged = capture.timing.interval(
        earliest_start, rec.timestamp, low_s=lower - earliest_start, high_s=upper - earliest_start
    )
    measurements.record(f"{timeout.name}_timeout", judged)
    check(rec.ok, what, f"malformed {report}: {getattr(rec.decoded, 'reason', '')}")
    check(
        rec.values.get(timeout.signal) == 1,
        what,
        f"{report} {rec.frame.data.hex(' ').upper()} with {timeout.signal} = "
        f"{rec.values.get(timeout.signal)}",
    )
    after = rec.timestamp - earliest_start
    late = "(too late)" if rec.timestamp > upper else "(at the limit)"
    require_pass(
        judged, what,
        f"{report} after only {after:.3f} s (too early)" if rec.timestamp < lower + slack
        else f"{report} after {after:.3f} s {late}",
    )  # fmt: skip
    return rec


def expect_first(
    capture: Capture, name: str, src: int, *, since: float = 0.0, wait: float = 1.0, **values: float
) -> Record:
    """The first ``name`` from ``src`` with the given signal values (waits up to ``wait`` s)."""

    def match(rec: Record) -> bool:
        return all(rec.values.get(k) == v for k, v in values.items())

    rec = capture.wait_for(name, src=src, since=since, where=match, timeout=wait)
    if rec is None:
        text = ", ".join(
            f"{k}={v:#x}" if isinstance(v, int) else f"{k}={v!r}" for k, v in values.items()
        )
        fail(f"a {name}({text}) from 0x{src:02X}", f"none; {seen_summary(capture, src, since)}")
    return rec


def reach_phase(
    role: Any, capture: Capture, phase: Any, within: float, what: str, peer: int
) -> float:
    """Wait until a bench role enters ``phase``; its entry time, or fail naming ``what``.

    ``role`` is a bench role (``wait_phase``, ``phase``, ``phase_times``); ``peer`` is the
    DUT's address, whose traffic the failure message summarises.
    """
    if not role.wait_phase(phase, within):
        start = min(role.phase_times.values(), default=capture.now())
        fail(
            f"{what} within {within:g} s",
            f"the bench's {role.name} stuck in {role.phase.value}; the DUT sent "
            f"{seen_summary(capture, peer, start)}",
        )
    return role.phase_times[phase]
