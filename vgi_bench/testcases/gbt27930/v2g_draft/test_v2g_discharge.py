"""DRAFT — NOT A STANDARD. Charger under test, V2G discharge over GB/T 27930-2015 + the
bench's draft extension (``vgi_bench/gbt27930/data/gbt27930_v2g_draft.toml``: BDP, CDC and
positive currents for discharge).

These cases check the draft's flow, item by item, so a standards body or a VGI study can
try a proposal on a real charger; change the data file (or point the profile's
``[gbt27930] edition`` at a variant) and the cases follow. Their verdicts say nothing about
conformance to any published standard, and the report marks them as draft.
"""

from __future__ import annotations

from typing import Any

from vgi_bench.can.capture import Record
from vgi_bench.cases import Measurements, case, check
from vgi_bench.gbt27930.bms_role import BmsScript, Phase
from vgi_bench.gbt27930.checks import check_decoded, check_lengths, expect_message
from vgi_bench.rigs.gbt27930 import ChargerRig
from vgi_bench.testcases.gbt27930.charger.steps import (
    BMS,
    CHARGER,
    CML_AFTER_BCP_S,
    CRM_AFTER_CHM_S,
    begin,
    charger_frames,
    first,
    reach,
    start_charging,
)

CLAUSE = "vgi-bench V2G draft (not a standard)"
DRAFT = "[DRAFT] "
SESSION_S = CRM_AFTER_CHM_S + 15.0
#: Bench choices where the draft gives no figure:
RESPONSE_S = 1.0  # the charger follows a new demand within this
CURRENT_TOLERANCE_A = 1.0  # or 1 % of the demand
HOLD_S = 1.5  # how long each demand is held

#: A vehicle offering discharge: 60 A, 50 kW, not below 5 A; leaves in 2 h at 80 %.
BDP_V2G: dict[str, Any] = {
    "service": 2,
    "max_discharge_current": 60.0,
    "min_discharge_current": 5.0,
    "max_discharge_power": 50.0,
    "departure_time": 120,
    "target_soc": 80,
    "discharge_min_soc": 30,
}


def _current(record: Record) -> float:
    """CCS output current with the draft's sign: positive = discharging the vehicle."""
    return float(record.values.get("output_current") or 0.0)


def _v2g_session(
    rig: ChargerRig, bdp: dict[str, Any] | None, demand_a: float, settle: float = 0.5
) -> float:
    """Charge at ``demand_a`` (draft sign) with ``bdp`` sent during configuration."""
    script = BmsScript(values={"BCL": {"current_demand": demand_a}})
    if bdp is not None:
        script.values["BDP"] = dict(bdp)
        script.configuration_messages = ("BDP",)
    return start_charging(rig, script, settle=settle)


def _followed(
    rig: ChargerRig, since: float, demand: float, limit: float, measurements: Measurements,
    key: str,
) -> None:  # fmt: skip
    """From ``RESPONSE_S`` after ``since`` every CCS reports ``min(demand, limit)`` (draft sign)."""
    wanted = min(demand, limit) if demand > 0 else demand
    tol = max(CURRENT_TOLERANCE_A, abs(wanted) * 0.01)
    frames = charger_frames(rig, "CCS", since=since + RESPONSE_S, until=since + HOLD_S)
    check(frames, f"CCS while demanding {demand:+g} A", "no CCS")
    currents = [_current(r) for r in frames]
    measurements.record(key, {"demand_a": demand, "expected_a": wanted, "ccs_a": currents[-1]})
    for rec, current in zip(frames, currents, strict=True):
        check(
            abs(current - wanted) <= tol,
            f"CCS output current {wanted:+g} A (±{tol:g} A; + = discharge) for a BCL "
            f"demand of {demand:+g} A" + (f" capped at {limit:g} A" if demand > limit else ""),
            f"{current:+g} A at +{rec.timestamp - since:.2f} s ({rec.describe()})",
        )


@case("V2G.DP.1001", f"{CLAUSE}: flow 2; CDC", DRAFT + "CDC alongside CML")
def test_v2g_dp1001_cdc(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: a V2G charger states its discharge capability in CDC.

    Steps: session with BDP (charge and discharge); the BMS stays not ready for 2 s.
    Expected:
    1. CDC within 5 s of BCP (as CML); 8 bytes, every 250 ms, values in range.
    2. CDC says discharge is supported, with minimum <= maximum discharge current.
    3. CDC stops when CML does (CRO starts).
    """
    script = BmsScript(values={"BDP": dict(BDP_V2G)}, configuration_messages=("BDP",))
    script.bro_ready_after_s = 2.0
    begin(rig, script)
    t = reach(rig, Phase.READY, SESSION_S, "CML after BCP")
    bcp = first(rig, "BCP", BMS)
    cdc = expect_message(
        rig.capture, "CDC", src=CHARGER, since=bcp.timestamp, within=CML_AFTER_BCP_S,
        what="CDC after BCP",
        measurements=measurements, key="cdc_after_bcp",
    )  # fmt: skip
    reach(rig, Phase.CHARGING, SESSION_S, "CRO(0xAA)")
    cro = first(rig, "CRO", CHARGER, since=t)
    frames = charger_frames(rig, "CDC", since=cdc.timestamp, until=cro.timestamp)
    check_lengths(frames, "CDC", 8)
    check_decoded(frames, "CDC")
    rig.check_period(frames, "CDC", 0.25)
    v = cdc.values
    measurements.record("CDC", {k: v[k] for k in sorted(v)})
    check(v.get("discharge_supported") == 1, "CDC discharge_supported = yes", cdc.describe())
    check(
        float(v["min_discharge_current"]) <= float(v["max_discharge_current"]),
        "CDC minimum discharge current <= maximum",
        f"min {v['min_discharge_current']} A, max {v['max_discharge_current']} A",
    )
    late = charger_frames(rig, "CDC", since=cro.timestamp + 0.3)
    check(not late, "no CDC once CRO has started", f"{len(late)} CDC after CRO")


@case("V2G.DP.1002", f"{CLAUSE}: flow 3-4; BDP, CDC, BCL, CCS", DRAFT + "Discharge as agreed")
def test_v2g_dp1002_discharge(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger discharges the vehicle when both sides agreed, within the
    smaller of their limits, and goes back to charging on demand.

    Steps: BDP offers discharge up to 60 A / 50 kW; charge at 50 A; then demand +40 A
    (discharge), then +90 A (above the agreed limit), then -50 A (charge) again, each
    held for 1.5 s.
    Expected (within 1 s of each new demand, ±1 A or 1 %):
    1. +40 A: CCS reports +40 A (positive = discharge).
    2. +90 A: CCS reports the session limit: the smallest of BDP's and CDC's maximum
       discharge current and their maximum power at the CCS voltage.
    3. -50 A: CCS reports -50 A (charging again).
    """
    start = _v2g_session(rig, BDP_V2G, -50.0, settle=0.0)
    cdc = first(rig, "CDC", CHARGER)
    bdp = first(rig, "BDP", BMS)
    steps = ((-50.0, "charge_a"), (40.0, "discharge_a"), (90.0, "capped_a"), (-50.0, "back_a"))
    for index, (demand, key) in enumerate(steps):
        if index:
            rig.bms.set_values("BCL", current_demand=demand)
            since = first(rig, "BCL", BMS, since=start, current_demand=demand).timestamp
        else:
            since = start
        rig.capture.hold(max(0.0, since + HOLD_S - rig.capture.now()))
        ccs = charger_frames(rig, "CCS", since=since)
        check(ccs, f"CCS while demanding {demand:+g} A", "no CCS")
        voltage = float(ccs[-1].values.get("output_voltage") or 0.0)
        limit = _session_limit(bdp.values, cdc.values, voltage)
        _followed(rig, since, demand, limit, measurements, key)
        start = since


def _session_limit(bdp: dict[str, Any], cdc: dict[str, Any], voltage: float) -> float:
    """The draft's rule: the smaller of BDP's and CDC's current and power limits."""
    limit = min(float(bdp["max_discharge_current"]), float(cdc["max_discharge_current"]))
    for power_kw in (bdp.get("max_discharge_power"), cdc.get("max_discharge_power")):
        if power_kw and voltage > 0:
            limit = min(limit, float(power_kw) * 1000.0 / voltage)
    return limit


def _no_discharge(rig: ChargerRig, bdp: dict[str, Any] | None, measurements: Measurements) -> None:
    """Demand +40 A without an agreement: every CCS reports no discharge."""
    start = _v2g_session(rig, bdp, 40.0, settle=HOLD_S)
    frames = charger_frames(rig, "CCS", since=start)
    peak = max((_current(r) for r in frames), default=0.0)
    measurements.record("max_discharge_current_a", peak)
    check(
        peak <= CURRENT_TOLERANCE_A,
        "no discharge (CCS output current <= +1 A) without a discharge agreement",
        f"{peak:+g} A",
    )


@case("V2G.DN.1001", f"{CLAUSE}: flow 3; BDP service", DRAFT + "No discharge for charge only")
def test_v2g_dn1001_charge_only(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: a vehicle that asked for charge only is never discharged.

    Steps: BDP service = charge only; after CRO(0xAA) the BMS demands +40 A.
    Expected:
    1. No CCS reports a discharge current (above +1 A) for 1.5 s.
    """
    _no_discharge(rig, {**BDP_V2G, "service": 1}, measurements)


@case("V2G.DN.1002", f"{CLAUSE}: flow 1, 3; BDP absent", DRAFT + "No discharge without BDP")
def test_v2g_dn1002_no_bdp(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: a BMS that never sent BDP (a 2015 BMS) is never discharged.

    Steps: no BDP; after CRO(0xAA) the BMS demands +40 A.
    Expected:
    1. No CCS reports a discharge current (above +1 A) for 1.5 s.
    """
    _no_discharge(rig, None, measurements)
