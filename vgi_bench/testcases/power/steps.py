"""Steps shared by the power cases: run the session at a demand, measure what came out,
decide with the instruments' uncertainty, and say which limits are unverified."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from vgi_bench.cases import Measurements, check, fail
from vgi_bench.decision import Judged, Rule, combine, judge, require_pass
from vgi_bench.gbt27930.bms_role import BmsScript
from vgi_bench.instruments.calibration import Accuracy, Decision, GuardedVerdict
from vgi_bench.power import analysis
from vgi_bench.power.sampler import Sample
from vgi_bench.rigs.power import PowerRig
from vgi_bench.testcases.gbt27930.charger.steps import BMS, first, start_charging

#: How long a demand is held before its settled window is read, and that window.
SETTLE_S, WINDOW_S = 1.5, 1.0
CURRENT = "current@1"
VOLTAGE = "voltage@1"


def note_limit(measurements: Measurements, name: str, limit: dict[str, Any]) -> None:
    """Put the limit's source on the record; unverified figures are said to be so."""
    verified = bool(limit.get("verified", False))
    measurements.record(f"{name}_limit_source", {
        "clause": limit.get("clause", ""),
        "verified": verified,
        **({} if verified else {"note": "UNVERIFIED: " + limit.get("note", "")}),
    })  # fmt: skip


def begin(
    rig: PowerRig, current_a: float, *, bdp: dict[str, Any] | None = None,
    **values: dict[str, Any],
) -> float:  # fmt: skip
    """Plug in and charge at ``current_a`` (into the battery); the time CCS began."""
    current_a = round(current_a, 1)  # BCL carries 0.1 A
    bcl = {"current_demand": -current_a, "voltage_demand": 700.0, **values.pop("BCL", {})}
    battery = rig.profile.power.battery_voltage_v
    script_values = {
        "BCP": {"max_charge_current": -400.0, "max_charge_voltage": 750.0,
                "battery_voltage": battery},
        "BCS": {"measured_voltage": battery},
        "BCL": bcl, **values,
    }  # fmt: skip
    script = BmsScript(values=script_values)
    if bdp is not None:  # V2G draft: discharge parameters sent with BCP
        script.values["BDP"] = bdp
        script.configuration_messages = ("BDP",)
    t = start_charging(rig.can, script, settle=0.0)
    rig.demand.append((t, current_a))
    rig.mark(t, "CCS")
    return t


def demand(rig: PowerRig, current_a: float, **bcl: Any) -> float:
    """Change the BCL demand (current into the battery); the time the new BCL went out."""
    current_a = round(current_a, 1)  # BCL carries 0.1 A
    rig.can.bms.set_values("BCL", current_demand=-current_a, **bcl)
    sent = first(rig.can, "BCL", BMS, since=rig.can.capture.now() - 0.2, wait=1.0,
                 current_demand=-current_a)  # fmt: skip
    rig.demand.append((sent.timestamp, current_a))
    return sent.timestamp


def settled(rig: PowerRig, since: float, key: str = CURRENT) -> tuple[float, list[Sample]]:
    """Wait SETTLE_S + WINDOW_S after ``since``; the mean of ``key`` over the last window."""
    rig.can.capture.hold(max(0.0, since + SETTLE_S + WINDOW_S - rig.can.capture.now()))
    window = rig.sampler.window(since + SETTLE_S, since + SETTLE_S + WINDOW_S)
    value = analysis.mean(window, key)
    if value is None:
        fail(f"analyzer readings of {key} while the demand was held", f"{len(window)} samples")
    return value, window


def uncertainty(rig: PowerRig, quantity: str, reading: float) -> float:
    """Expanded uncertainty (k=2) of an analyzer reading, from the profile's accuracy."""
    for config in rig.profile.instruments.values():
        if config.driver == rig.rack.analyzer().cmap.name and quantity in config.accuracy:
            return Accuracy(*config.accuracy[quantity]).expanded(reading)
    return 0.0


def sampled_time_uncertainty_s(rig: PowerRig, seconds: float) -> float:
    """Expanded uncertainty (k=2) of a time from a CAN stamp (the BCL, the BST) to an
    analyzer sample: the sample period quantises the instant (the true crossing lies
    within one period before the sample that shows it: rectangular, U = period / sqrt 3)
    and the host clock that stamps the samples sits beside the bus clock."""
    period = rig.profile.power.sample_period_s
    bus = rig.can.capture.timing.clock.difference_uncertainty(seconds, from_host=True)
    return combine(period / 3**0.5, bus)


def judge_figure(
    rig: PowerRig, measurements: Measurements, key: str, value: float, *, uncertainty: float,
    unit: str, what: str, limit: float | None = None, low: float | None = None,
) -> Judged:  # fmt: skip
    """Record ``value`` judged against its limit with U (the run's decision rule) and fail
    the case unless it passed ("not proven" inside the guard band fails too, saying so)."""
    found = judge(value, uncertainty=uncertainty, rule=rule(rig), unit=unit, limit=limit, low=low)
    measurements.record(key, found)
    return require_pass(found, what)


def reading_uncertainty_rel(rig: PowerRig, quantity: str, reading: float) -> float:
    """The expanded uncertainty of one reading relative to it (0 for a zero reading)."""
    return uncertainty(rig, quantity, reading) / abs(reading) if reading else 0.0


def rule(rig: PowerRig) -> Rule:
    """The run's decision rule (``[report] decision_rule``)."""
    return Rule.of(rig.profile.report.decision_rule)


def judged(measurements: Measurements, key: str, verdict: GuardedVerdict, unit: str,
           what: str) -> None:  # fmt: skip
    """Record a judged error (the bench's judged-figure keys, vgi_bench/decision.py) and fail
    unless it is a pass."""
    measurements.record(key, verdict.to_dict(unit))
    if verdict.decision == Decision.NOT_PROVEN:
        fail(
            f"{what} within ±{verdict.limit:.4g} {unit} beyond measurement doubt",
            verdict.describe(unit) + " (guard band: the limit lies within the uncertainty)",
        )
    check(verdict.decision == Decision.PASS, f"{what} within ±{verdict.limit:.4g} {unit}",
          verdict.describe(unit))  # fmt: skip


def held(rig: PowerRig, currents: Sequence[float]) -> Iterator[tuple[float, list[Sample]]]:
    """Charge at each of ``currents`` in turn; for each, its settled window of samples."""
    t = begin(rig, currents[0])
    for index, current in enumerate(currents):
        if index:
            t = demand(rig, current)
        _, window = settled(rig, t)
        yield current, window


def at_loads(rig: PowerRig, fractions: Sequence[float]) -> Iterator[tuple[float, list[Sample]]]:
    """:func:`held` at fractions of the rated power (current at the battery's EMF)."""
    power = rig.profile.power
    currents = [f * power.rated_power_w / power.battery_voltage_v for f in fractions]
    for fraction, (_, window) in zip(fractions, held(rig, currents), strict=False):
        yield fraction, window
