"""power.charger — what the charger really delivers, measured while a GB/T 27930 session
(the bench as BMS) drives it: accuracy, response, stop rate, ripple, efficiency, V2G.

Case ids follow the GB/T 34657.1-2017 interoperability items where one exists (PS.4101 is
item D0.4101) and a PS.Qnn series for the NB/T 33001 power-quality figures. Every limit
is in ``limits.toml`` with its clause; figures we could not check against the text are
marked UNVERIFIED on the report. Verdicts on measured figures are guard-banded with the
analyzer's uncertainty (``vgi_bench.instruments.calibration``).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from vgi_bench.cases import Measurements, case, check, fail, require
from vgi_bench.decision import combine
from vgi_bench.gbt27930.checks import expect_message
from vgi_bench.instruments.calibration import decide
from vgi_bench.instruments.relay import RelayBoard
from vgi_bench.power import analysis
from vgi_bench.rigs.power import PowerRig
from vgi_bench.testcases.gbt27930.charger.steps import BMS, CHARGER
from vgi_bench.testcases.power.steps import (
    CURRENT,
    VOLTAGE,
    at_loads,
    begin,
    demand,
    held,
    judge_figure,
    judged,
    note_limit,
    reading_uncertainty_rel,
    rule,
    sampled_time_uncertainty_s,
    settled,
    uncertainty,
)


@case("PS.4101", "GB/T 34657.1-2017 D0.4101; NB/T 33001-2018", "Output voltage accuracy (CV)")
def test_ps4101_voltage_accuracy(rig: PowerRig, measurements: Measurements,
                                 limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: in constant-voltage mode the charger holds the demanded voltage.

    Steps: charge; switch BCL to constant voltage (SPN3074 = 01) at the battery EMF plus
    each offset in limits.toml, with a 100 A ceiling; hold each for 2.5 s.
    Expected: analyzer DC voltage within ±0.5 % of the demand (UNVERIFIED figure),
    guard-banded with the analyzer's voltage uncertainty.
    """
    lim = limits["voltage_accuracy"]
    note_limit(measurements, "voltage", lim)
    begin(rig, 20.0)
    emf = rig.profile.power.battery_voltage_v
    for offset in lim["offsets_v"]:
        target = emf + offset
        t = demand(rig, 100.0, voltage_demand=target, charge_mode=1)
        rig.mark(t, f"CV {target:g} V")
        seen, _ = settled(rig, t, VOLTAGE)
        verdict = decide(seen - target, target * lim["rel"],
                         uncertainty(rig, "voltage", seen), rule(rig))  # fmt: skip
        judged(
            measurements, f"cv_{target:g}V", verdict, "V", f"DC voltage at a {target:g} V demand"
        )


@case("PS.4102", "GB/T 34657.1-2017 D0.4102; NB/T 33001-2018", "Output current accuracy (CC)")
def test_ps4102_current_accuracy(rig: PowerRig, measurements: Measurements,
                                 limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: in constant-current mode the charger delivers the demanded current.

    Steps: charge at each point of limits.toml (across the range), 2.5 s each.
    Expected: analyzer DC current within ±1 % (from 30 A) or ±0.3 A (below) of the demand
    (UNVERIFIED figure), guard-banded with the analyzer's current uncertainty.
    """
    lim = limits["current_accuracy"]
    note_limit(measurements, "current", lim)
    for point, window in held(rig, lim["points_a"]):
        seen = analysis.mean(window, CURRENT) or 0.0
        half = analysis.band(point, lim["rel"], lim["abs_a"], lim["threshold_a"])
        verdict = decide(seen - point, half, uncertainty(rig, "current", seen), rule(rig))
        judged(measurements, f"cc_{point:g}A", verdict, "A", f"DC current at a {point:g} A demand")


@case("PS.4103", "GB/T 34657.1-2017 D0.4103", "Current adjustment time")
def test_ps4103_adjustment_time(rig: PowerRig, measurements: Measurements,
                                limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: the charger reaches a new demand fast enough.

    Steps: for each step I0 -> IN of limits.toml: charge at I0, then demand IN.
    Expected: the analyzer current enters IN ± its accuracy band (as PS.4102) for good
    within Td <= |IN - I0| / 20 A/s of the BCL carrying IN.
    """
    lim, acc = limits["adjustment_time"], limits["current_accuracy"]
    note_limit(measurements, "adjustment_time", lim)
    steps = lim["steps_a"]
    begin(rig, steps[0][0])
    for start_a, target_a in steps:
        t0 = demand(rig, start_a)
        settled(rig, t0)
        t = demand(rig, target_a)
        rig.mark(t, f"{start_a:g}->{target_a:g} A")
        allowed = abs(target_a - start_a) / lim["slew_a_per_s"]
        half = analysis.band(target_a, acc["rel"], acc["abs_a"], acc["threshold_a"])
        rig.can.capture.hold(allowed + 1.0)
        window = rig.sampler.window(t, t + allowed + 1.0)
        took = analysis.settle_time(window, CURRENT, target_a, half, t)
        what = f"current at {target_a:g} A ±{half:.3g} A within {allowed:.2f} s of the BCL"
        if took is None:
            key = f"step_{start_a:g}_{target_a:g}A"
            measurements.record(key, {"settled": False, "limit_ms": round(allowed * 1000, 1)})
            fail(what, "never settled in the window")
        judge_figure(rig, measurements, f"step_{start_a:g}_{target_a:g}A", took * 1000.0,
                     uncertainty=sampled_time_uncertainty_s(rig, took) * 1000.0, unit="ms",
                     limit=allowed * 1000.0, what=what)  # fmt: skip


@case("PS.5101", "GB/T 34657.1-2017 D0.5101", "Current stop rate after BST")
def test_ps5101_stop_rate(rig: PowerRig, measurements: Measurements,
                          limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: on a BMS-initiated stop the output current falls fast.

    Steps: charge at 100 A for 2.5 s; the BMS sends BST.
    Expected: from the start of the fall (last reading >= 98 % of the current) to 5 A the
    current falls at >= 100 A/s; it reaches 5 A at all.
    """
    lim = limits["stop_rate"]
    note_limit(measurements, "stop_rate", lim)
    t = begin(rig, lim["start_a"])
    settled(rig, t)
    rig.can.bms.stop_charging()
    rig.can.capture.hold(0.3)
    bst = rig.can.capture.first("BST", src=BMS)
    if bst is None:
        fail("the bench's BST on the bus", "none")
    rig.mark(bst.timestamp, "BST")
    rig.demand.append((bst.timestamp, 0.0))
    rig.can.capture.hold(3.0)
    rate = analysis.stop_rate(rig.sampler.window(t), CURRENT, bst.timestamp, lim["low_a"])
    after = {
        "fall_start": rate.fall_start - bst.timestamp,
        "reached_5a": None if rate.reached_5a is None else rate.reached_5a - bst.timestamp,
    }
    measurements.record("stop", {
        "start_a": round(rate.start_a, 2),
        **{f"{k}_after_bst_s": None if v is None else round(v, 3) for k, v in after.items()},
        "rate_a_per_s": None if rate.rate_a_per_s is None else round(rate.rate_a_per_s, 1),
        "resolution_s": rig.profile.power.sample_period_s,
    })  # fmt: skip
    if rate.reached_5a is None:
        late = analysis.values(rig.sampler.window(bst.timestamp + 2.5), CURRENT)
        fail("the current down to 5 A within 3 s of BST",
             f"still {abs(late[-1]) if late else float('nan'):.1f} A")  # fmt: skip
    what = f"stop rate >= {lim['min_a_per_s']:g} A/s"
    if rate.rate_a_per_s is None or not math.isfinite(rate.rate_a_per_s):
        check(rate.rate_a_per_s is not None, what, "no fall measured")
        return  # a fall within one sample: faster than the analyzer can tell, a pass
    fall_s = rate.reached_5a - rate.fall_start
    # rate = (I0 - 5 A) / dt: relative U of the time (both ends sampled) and the current
    u_rel = combine(
        2**0.5 * rig.profile.power.sample_period_s / 3**0.5 / fall_s,
        reading_uncertainty_rel(rig, "current", rate.start_a),
    )
    judge_figure(rig, measurements, "stop_rate", rate.rate_a_per_s,
                 uncertainty=u_rel * rate.rate_a_per_s, unit="A/s", low=lim["min_a_per_s"],
                 what=what)  # fmt: skip


@case("PS.Q01", "NB/T 33001-2018 output voltage ripple", "Output voltage ripple")
def test_psq01_ripple(rig: PowerRig, measurements: Measurements,
                      limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: the DC output is smooth enough for the battery.

    Steps: charge at 20 %, 50 % and 100 % of the rated power, 2.5 s each.
    Expected at each: peak ripple factor (U+pk - U-pk) / 2 / Udc <= 1 % and rms factor
    Uac / Udc <= 0.5 % (UNVERIFIED figures).
    """
    lim = limits["ripple"]
    note_limit(measurements, "ripple", lim)
    for fraction, window in at_loads(rig, lim["load_fractions"]):
        found = analysis.ripple(window)
        if found is None:
            fail("ripple readings (U+pk, U-pk, Uac, Udc) from the analyzer", "none")
        peak, rms = found
        at = f"at {fraction:.0%} load"
        udc = analysis.mean(window, VOLTAGE) or 0.0
        # (U+pk - U-pk) / 2 / Udc: both peaks read with the voltage accuracy, Udc's share
        # is second order; Uac / Udc likewise (U in the factor's own unit, k=2)
        u_peak = combine(*(uncertainty(rig, "voltage", udc * (1 + s * peak)) for s in (1, -1)))
        u_peak = u_peak / 2 / udc if udc else 0.0
        u_rms = uncertainty(rig, "voltage", rms * udc) / udc if udc else 0.0
        judge_figure(rig, measurements, f"ripple_{fraction:.0%}_peak_factor", peak,
                     uncertainty=u_peak, unit="", limit=lim["peak_factor"],
                     what=f"peak ripple <= {lim['peak_factor']:.1%} {at}")  # fmt: skip
        judge_figure(rig, measurements, f"ripple_{fraction:.0%}_rms_factor", rms,
                     uncertainty=u_rms, unit="", limit=lim["rms_factor"],
                     what=f"rms ripple <= {lim['rms_factor']:.1%} {at}")  # fmt: skip


@case("PS.Q02", "NB/T 33001-2018 efficiency and power factor", "Efficiency and power factor")
def test_psq02_efficiency(rig: PowerRig, measurements: Measurements,
                          limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: the charger converts efficiently and loads the grid cleanly.

    Steps: charge at 20 %, 50 % and 100 % of the rated power, 2.5 s each.
    Expected: efficiency (P DC out / P AC in) >= 88 % and PF >= 0.95 up to 50 % load,
    >= 93 % and >= 0.98 above (UNVERIFIED figures).
    """
    lim = limits["efficiency"]
    note_limit(measurements, "efficiency", lim)
    for fraction, window in at_loads(rig, lim["load_fractions"]):
        p_out, p_in = analysis.mean(window, "power@1"), analysis.mean(window, "power@2")
        pf = analysis.mean(window, "power_factor@2")
        if not p_out or not p_in or pf is None:
            fail("P DC, P AC and PF readings from the analyzer", f"{p_out}, {p_in}, {pf}")
        eta = p_out / p_in
        _, min_eta, min_pf = next(b for b in lim["bands"] if fraction <= b[0] + 1e-9)
        figures = {"p_dc_w": round(p_out, 1), "p_ac_w": round(p_in, 1)}
        measurements.record(f"load_{fraction:.0%}", figures)
        # eta = P_DC / P_AC: relative uncertainties of the two power readings combine; PF =
        # P / S with the power accuracy for both (the profile may give power_factor itself)
        u_eta = eta * combine(reading_uncertainty_rel(rig, "power", p_out),
                              reading_uncertainty_rel(rig, "power", p_in))  # fmt: skip
        u_pf = uncertainty(rig, "power_factor", pf) or pf * 2**0.5 * reading_uncertainty_rel(
            rig, "power", p_in
        )
        judge_figure(rig, measurements, f"load_{fraction:.0%}_efficiency", eta,
                     uncertainty=u_eta, unit="", low=min_eta,
                     what=f"efficiency >= {min_eta:.0%} at {fraction:.0%} load")  # fmt: skip
        judge_figure(rig, measurements, f"load_{fraction:.0%}_pf", pf, uncertainty=u_pf,
                     unit="", low=min_pf,
                     what=f"power factor >= {min_pf:.2f} at {fraction:.0%} load")  # fmt: skip


#: The vehicle offers discharge (V2G draft BDP): up to 100 A / 60 kW, not below 5 A.
BDP_V2G = {"service": 2, "max_discharge_current": 100.0, "min_discharge_current": 5.0,
           "max_discharge_power": 60.0}  # fmt: skip


@case("PS.V01", "vgi-bench V2G draft (not a standard); GB/T 34657.1-2017 D0.4102 (method)",
      "[DRAFT] V2G discharge accuracy and energy per direction")  # fmt: skip
def test_psv01_v2g_discharge(v2g_rig: PowerRig, measurements: Measurements,
                             limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: a V2G charger discharges the vehicle as demanded, and the energy each way
    is accounted for (what a grid operator pays for).

    Steps (V2G draft message set): BDP offers discharge; charge at 60 A for 2.5 s, then
    demand a 40 A discharge for 2.5 s, then stop.
    Expected:
    1. The settled discharge current is 40 A out of the battery (±1 % / ±0.3 A, as
       PS.4102), guard-banded.
    2. The analyzer's energy per direction (WHP into the vehicle, WHM out of it) agrees
       with the bench's own integration of U x I within 2 %.
    """
    rig = v2g_rig
    lim = limits["v2g"]
    note_limit(measurements, "v2g", lim)
    t = begin(rig, lim["charge_a"], bdp=BDP_V2G)
    settled(rig, t)
    t = demand(rig, -lim["discharge_a"])
    rig.mark(t, "discharge")
    seen, _ = settled(rig, t)
    target = -lim["discharge_a"]
    half = analysis.band(target, lim["rel"], lim["abs_a"], lim["threshold_a"])
    verdict = decide(seen - target, half, uncertainty(rig, "current", seen), rule(rig))
    judged(measurements, "discharge_40A", verdict, "A", f"DC current at a {target:g} A demand")
    rig.can.bms.stop_charging()
    rig.can.capture.hold(1.5)
    samples = rig.sampler.window(0.0)
    whp, whm = (
        analysis.mean(samples[-3:], "energy_pos@1"),
        analysis.mean(samples[-3:], "energy_neg@1"),
    )
    into, out = analysis.energy_wh(samples, VOLTAGE, CURRENT)
    energy = {"analyzer_into": whp, "analyzer_out": whm,
              "bench_into": round(into, 3), "bench_out": round(out, 3)}  # fmt: skip
    measurements.record("energy_wh", energy)
    for name, theirs, ours in (("into the vehicle", whp, into), ("out of the vehicle", whm, out)):
        check(theirs is not None and ours > 0 and abs(theirs - ours) <= lim["energy_rel"] * ours,
              f"analyzer energy {name} within {lim['energy_rel']:.0%} of the integrated U x I "
              f"({ours:.2f} Wh)", f"{theirs} Wh")  # fmt: skip


def _relay(rig: PowerRig, *channels: str) -> RelayBoard:
    """The fault-injection board with ``channels`` (the case skips without one)."""
    for relay in rig.rack.relays.values():
        if all(c in relay.channels for c in channels):
            return relay
    pytest.skip(f"needs a relay board with channels {', '.join(channels)} in the profile")


def _resistor(rig: PowerRig, relay: RelayBoard, name: str) -> float:
    """The value of the test resistor ``name`` on ``relay`` (its profile's resistors_ohm)."""
    config = rig.profile.instruments[relay.name]
    ohm = dict(config.options.get("resistors_ohm", {})).get(name)
    if not ohm:
        fail(f"the value of the {name} resistor (resistors_ohm) in the profile", "none")
    return float(ohm)


@case("PS.2501", "GB/T 34657.1-2017 D0.2501; GB/T 18487.1-2015 insulation monitoring",
      "Insulation monitoring with injected resistance")  # fmt: skip
def test_ps2501_insulation_monitoring(rig: PowerRig, measurements: Measurements,
                                      limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: the charger's insulation monitor warns on a degraded insulation and stops
    on a faulty one, with test resistors switched between DC+ and PE by the relay board.

    Steps: charge at 50 A; switch in the warning resistor (100-500 ohm/V of the CML
    maximum voltage) for 2 s, then out; switch in the fault resistor (<= 100 ohm/V).
    Expected:
    1. With the warning resistor the charge goes on (no CST, current kept).
    2. With the fault resistor: CST within 1 s (bench choice) and the current <= 5 A
       within 1 s more.
    """
    lim = limits["insulation"]
    note_limit(measurements, "insulation", lim)
    relay = _relay(rig, "imd_fault", "imd_warning")
    t = begin(rig, lim["current_a"])
    cml = rig.can.capture.first("CML", src=CHARGER)
    u_max = float(cml.values.get("max_output_voltage") or 0.0) if cml else 0.0
    check(u_max > 0, "the charger's CML maximum output voltage", "no CML")
    warning, fault = (_resistor(rig, relay, n) / u_max for n in ("imd_warning", "imd_fault"))
    measurements.record(
        "resistors_ohm_per_v", {"warning": round(warning, 1), "fault": round(fault, 1)}
    )
    low, high = lim["fault_ohm_per_v"], lim["warning_ohm_per_v"]
    check(low < warning <= high and fault <= low,
          "test resistors in the warning and fault bands of this charger",
          f"warning {warning:.0f} ohm/V, fault {fault:.0f} ohm/V")  # fmt: skip
    settled(rig, t)
    relay.close("imd_warning")
    t_warn = rig.can.capture.now()
    rig.mark(t_warn, "warning R")
    seen, _ = settled(rig, t_warn)
    relay.open("imd_warning")
    cst = rig.can.capture.first("CST", src=CHARGER)
    check(cst is None, "charging goes on with the warning resistor (no CST)",
          cst.describe() if cst else "")  # fmt: skip
    check(abs(seen - lim["current_a"]) <= 1.0, f"current kept at {lim['current_a']:g} A",
          f"{seen:.1f} A")  # fmt: skip
    relay.close("imd_fault")
    t_fault = rig.can.capture.now()
    rig.mark(t_fault, "fault R")
    _stopped(rig, measurements, t_fault, lim["response_s"], "the fault resistor")


def _stopped(rig: PowerRig, measurements: Measurements, since: float, within: float,
             cause: str, **cst_values: int) -> None:  # fmt: skip
    """CST within ``within`` of ``since`` (with ``cst_values``), then <= 5 A."""
    cst = expect_message(
        rig.can.capture, "CST", src=CHARGER, since=since, within=within,
        what=f"CST after {cause}",
        where=lambda r: all(r.values.get(k) == v for k, v in cst_values.items()),
        measurements=measurements, key="cst_after", from_host=True,
    )  # fmt: skip
    rig.demand.append((cst.timestamp, 0.0))
    down = require(
        rig.sampler.wait_until(lambda s: abs(s.get(CURRENT) or 0.0) <= 5.0,
                               cst.timestamp, within + 1.0),
        f"current <= 5 A within {within + 1.0:g} s of CST", "still flowing",
    )  # fmt: skip
    measurements.record("current_below_5a_after_cst_s", round(down.time - cst.timestamp, 3))


@case("PS.E01", "GB/T 18487.1-2015 emergency stop; GB/T 27930-2015 CST SPN3522",
      "Emergency stop input")  # fmt: skip
def test_pse01_emergency_stop(rig: PowerRig, measurements: Measurements,
                              limits: dict[str, Any]) -> None:  # fmt: skip
    """Purpose: the charger's emergency-stop input ends the charge at once.

    Steps: charge at 50 A; the relay board closes the E-stop input.
    Expected: CST with SPN3522 "emergency stop" = 01 within 1 s (bench choice), and the
    current <= 5 A within 1 s more.
    """
    lim = limits["estop"]
    note_limit(measurements, "estop", lim)
    relay = _relay(rig, "estop")
    t = begin(rig, lim["current_a"])
    settled(rig, t)
    assert relay.emergency_stop()
    t_stop = rig.can.capture.now()
    rig.mark(t_stop, "E-stop")
    _stopped(rig, measurements, t_stop, lim["response_s"], "the E-stop input", emergency_stop=1)
