"""GB/T 34658-2017 §7.5.3 (Table 8) — charger under test, charging phase (DP/DN.3xxx).

Only DP.3001's content is public (CCS is 7 bytes), and of the DN cases only DN.3001/3002
(and that DN.3003/3004 and DN.3007/3008 vary DN.3001/3002 and DN.3005/3006). The rest are
the bench's cases for the charging-phase rules of GB/T 27930-2015 §3 step 5-6 in the
reference, numbered in the same series and marked as interpretations in their clause.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.gbt27930.bms_role import BmsScript, Phase
from vgi_bench.gbt27930.checks import (
    check_decoded,
    check_lengths,
    expect_message,
    expect_silence,
)
from vgi_bench.rigs.gbt27930 import ChargerRig
from vgi_bench.testcases.gbt27930.charger.steps import (
    BMS,
    CHARGER,
    CRM_AFTER_CHM_S,
    INTERPRETED,
    begin,
    cem_timeout,
    charger_frames,
    check_current_decayed,
    first,
    reach,
    start_charging,
)

CLAUSE = "GB/T 34658-2017 §7.5.3"
SESSION_S = CRM_AFTER_CHM_S + 30.0
#: Bench choices where the standard gives no figure (documented in each case):
RESPONSE_S = 1.0  # reaction to a BSM pause/resume/fault, and to a lower BCL demand
DECAY_S = 0.1  # current <= 5 A within 100 ms of CST (reference timeout table)
PAUSE_LIMIT_S = 600.0  # GB/T 27930-2015 App. C note 1
CURRENT_TOLERANCE_A = 1.0  # output above demand still accepted (or 1 % of demand)


@case("DP.3001", f"{CLAUSE}; GB/T 27930-2015 CCS (PGN 0x1200)", "CCS transmission")
def test_dp3001_ccs(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger starts CCS only once it has both BCL and BCS, in the right format.

    Steps: normal session to charging; charge for 2 s.
    Expected:
    1. The first CCS comes after the first BCL and the first complete BCS.
    2. CRO stops once CCS has started.
    3. CCS is 7 bytes (GB/T 34658 DP.3001), every 50 ms, values in range.
    """
    ccs_start = start_charging(rig, settle=2.0)
    bcl = first(rig, "BCL", BMS)
    bcs = first(rig, "BCS", BMS)
    check(
        ccs_start >= max(bcl.timestamp, bcs.timestamp),
        "the first CCS after both BCL and BCS",
        f"CCS {max(bcl.timestamp, bcs.timestamp) - ccs_start:.3f} s before the later of them",
    )
    late_cro = charger_frames(rig, "CRO", since=ccs_start + 0.3)
    check(not late_cro, "no CRO once CCS has started", f"{len(late_cro)} CRO after CCS")
    frames = charger_frames(rig, "CCS", since=ccs_start)
    check_lengths(frames, "CCS", 7)
    check_decoded(frames, "CCS")
    rig.check_period(frames, "CCS", 0.05, min_count=10)


@case("DP.3002", f"{CLAUSE}; GB/T 27930-2015 BCL, CCS", "Output follows the BCL demand")
def test_dp3002_follows_bcl(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger never delivers more current than the BMS asks for.

    Steps: charge at a demand of 100 A for 1.5 s, then lower it to 50 A for 1.5 s.
    Expected:
    1. Every CCS output current is at most the BCL current demand (+1 A or 1 %),
       allowing 1 s after the demand is lowered (bench choice: the standard gives the
       response time in GB/T 18487.1, which the CAN bench does not measure).
    """
    start = start_charging(rig, BmsScript(values={"BCL": {"current_demand": -100.0}}))
    rig.capture.hold(1.0)
    lowered = rig.capture.now()
    rig.bms.set_values("BCL", current_demand=-50.0)
    rig.capture.hold(1.5)
    worst = 0.0
    for ccs in charger_frames(rig, "CCS", since=start):
        demand = 100.0 if ccs.timestamp < lowered + RESPONSE_S else 50.0
        if lowered <= ccs.timestamp < lowered + RESPONSE_S:
            continue
        current = abs(float(ccs.values.get("output_current", 0.0)))
        allowed = demand + max(CURRENT_TOLERANCE_A, demand * 0.01)
        worst = max(worst, current - demand)
        check(
            current <= allowed,
            f"CCS output current <= BCL demand {demand:g} A (+{allowed - demand:g} A)",
            f"{current:g} A at +{ccs.timestamp - start:.2f} s ({ccs.describe()})",
        )
    measurements.record("max_current_above_demand_a", round(worst, 2))


@case("DP.3003", f"{CLAUSE}; GB/T 27930-2015 BSM SPN3096, CCS SPN3929", "Pause and resume by BSM")
def test_dp3003_bsm_pause(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: BSM "charging forbidden" pauses the charger; "permitted" resumes it.

    Steps: charge; set BSM SPN3096 = 00 for 1.5 s; then set it back to 01.
    Expected:
    1. Within 1 s (bench choice) of that BSM, CCS shows SPN3929 = 00 (paused) and
       output current <= 5 A.
    2. Within 1 s of SPN3096 = 01, CCS shows SPN3929 = 01 again.
    """
    start = start_charging(rig)
    rig.bms.set_values("BSM", charging_permitted=0)
    t_pause = first(rig, "BSM", BMS, since=start, charging_permitted=0).timestamp
    paused = expect_message(
        rig.capture, "CCS", src=CHARGER, since=t_pause, within=RESPONSE_S + 0.25,
        what="CCS with charging_permitted (SPN3929) = 00 after BSM SPN3096 = 00",
        where=lambda r: r.values.get("charging_permitted") == 0,
        measurements=measurements, key="pause_latency",
    )  # fmt: skip
    current = abs(float(paused.values.get("output_current", 0.0)))
    check(current <= 5.0, "output current <= 5 A while paused", f"{current:g} A")
    rig.capture.hold(1.5)
    rig.bms.set_values("BSM", charging_permitted=1)
    t_resume = first(rig, "BSM", BMS, since=t_pause, charging_permitted=1).timestamp
    expect_message(
        rig.capture, "CCS", src=CHARGER, since=t_resume, within=RESPONSE_S + 0.25,
        what="CCS with charging_permitted = 01 after BSM SPN3096 = 01",
        where=lambda r: r.values.get("charging_permitted") == 1,
        measurements=measurements, key="resume_latency",
    )  # fmt: skip


@case("DP.3004", f"{CLAUSE}; GB/T 27930-2015 BSM, CST", "Stop on an abnormal BSM")
def test_dp3004_bsm_fault(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: an abnormal battery state in BSM makes the charger stop.

    Steps: charge; set BSM insulation status (SPN3094) = 01 (abnormal).
    Expected:
    1. CST within 1 s (bench choice) of that BSM.
    2. Any CCS sent more than 100 ms after CST reports at most 5 A (the current-decay
       rule after CST, as far as the charger's own CCS shows it).
    """
    start = start_charging(rig)
    rig.bms.set_values("BSM", insulation_status=1)
    t_fault = first(rig, "BSM", BMS, since=start, insulation_status=1).timestamp
    cst = expect_message(
        rig.capture, "CST", src=CHARGER, since=t_fault, within=RESPONSE_S + 0.25,
        what="CST after BSM reports insulation abnormal",
        measurements=measurements, key="cst_after_bsm_fault",
    )  # fmt: skip
    rig.capture.hold(1.5)
    check_current_decayed(
        rig, measurements, cst.timestamp + DECAY_S, cst.timestamp,
        f"from {DECAY_S * 1000:g} ms after CST", "ccs_after_cst",
    )  # fmt: skip


@case("DP.3005", f"{CLAUSE}; GB/T 27930-2015 App. C note 1", "Pause limit (10 min)", slow=True)
def test_dp3005_pause_limit(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: a BSM pause longer than 10 min ends the charge.

    Steps: charge; set BSM SPN3096 = 00 and keep it. Runs in real time (~10 min).
    Expected:
    1. No CST before 10 min of pause; CST at 10 min (window as for the timeouts).
    """
    start = start_charging(rig)
    rig.bms.set_values("BSM", charging_permitted=0)
    t_pause = first(rig, "BSM", BMS, since=start, charging_permitted=0).timestamp
    tol = rig.timing.tolerance
    expect_message(
        rig.capture, "CST", src=CHARGER, since=t_pause, within=PAUSE_LIMIT_S + tol.late_s,
        not_before=PAUSE_LIMIT_S - tol.early_s, what="CST after 10 min of pause",
        measurements=measurements, key="cst_after_pause",
    )  # fmt: skip


@case("DP.3006", f"{CLAUSE}; GB/T 27930-2015 BMV, BMT, BSP", "Optional BMV/BMT/BSP accepted")
def test_dp3006_optional_messages(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the optional battery detail messages do not disturb charging.

    Steps: charge while the BMS also sends BMV (512 bytes), BMT and BSP over the
    transport (every 10 s).
    Expected:
    1. The transfers complete (the charger answers them as responder).
    2. No CST and no CEM; CCS goes on every 50 ms.
    """
    start = start_charging(rig, BmsScript(optional_messages=True), settle=0.0)
    for name in ("BMV", "BMT", "BSP"):
        expect_message(
            rig.capture, name, src=BMS, since=start - 1.0, within=5.0,
            what=f"the {name} transfer to complete",
        )  # fmt: skip
    rig.capture.hold(2.0)
    for name in ("CST", "CEM"):
        found = charger_frames(rig, name, since=start)
        check(
            not found, f"no {name} while BMV/BMT/BSP arrive", found[0].describe() if found else ""
        )
    frames = charger_frames(rig, "CCS", since=start)
    rig.check_period(frames, "CCS", 0.05, min_count=10)


@case("DN.3001", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3924", "Only BCL, no BCS, during CRO(0xAA)")
def test_dn3001_no_bcs(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger does not start on BCL alone and times BCS out.

    Steps: after CRO(0xAA) the BMS sends BCL and BSM but never BCS.
    Expected:
    1. No CCS.
    2. CEM with SPN3924 (BCS timeout) = 01, 5 s after CRO(0xAA) (or the first BCL).
    """
    _only_one_of(rig, sent="BCL", withheld="BCS", timer="bcs")


@case("DN.3002", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3925", "Only BCS, no BCL, during CRO(0xAA)")
def test_dn3002_no_bcl(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger does not start on BCS alone and times BCL out (1 s).

    Steps: after CRO(0xAA) the BMS sends BCS and BSM but never BCL.
    Expected:
    1. No CCS.
    2. CEM with SPN3925 (BCL timeout) = 01, 1 s after CRO(0xAA) (or the first BCS).
    """
    _only_one_of(rig, sent="BCS", withheld="BCL", timer="bcl")


def _only_one_of(rig: ChargerRig, *, sent: str, withheld: str, timer: str) -> None:
    """After CRO(0xAA) send ``sent`` but never ``withheld``: no CCS, and the CEM of ``timer``."""
    begin(rig, BmsScript(withhold={withheld}))
    reach(rig, Phase.CHARGING, SESSION_S, "CRO(0xAA)")
    cro_aa = first(rig, "CRO", CHARGER, charger_ready=0xAA)
    other = first(rig, sent, BMS)
    cem = cem_timeout(rig, timer, cro_aa.timestamp, other.timestamp)
    expect_silence(
        rig.capture, "CCS", src=CHARGER, since=cro_aa.timestamp, until=cem.timestamp,
        what=f"no CCS without {withheld}",
    )  # fmt: skip


def _interrupted(rig: ChargerRig, name: str, timer: str) -> None:
    """Charge, stop ``name`` mid-charge, expect the CEM of ``timer`` from its last frame."""
    start_charging(rig, settle=1.0)
    rig.bms.stop_sending(name)
    rig.capture.hold(0.6)  # let a transfer under way finish
    last = rig.capture.select(name, src=BMS)[-1]
    cem_timeout(rig, timer, last.timestamp)


@case("DN.3005", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3924", "BCS interrupted during charging")
def test_dn3005_bcs_interrupted(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger notices BCS stopping while it charges.

    Steps: charge for 1 s, then stop BCS (BCL and BSM go on).
    Expected:
    1. CEM with SPN3924 (BCS timeout) = 01, 5 s after the last BCS.
    """
    _interrupted(rig, "BCS", "bcs")


@case("DN.3006", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3925", "BCL interrupted during charging")
def test_dn3006_bcl_interrupted(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger notices BCL stopping while it charges (1 s limit).

    Steps: charge for 1 s, then stop BCL (BCS and BSM go on).
    Expected:
    1. CEM with SPN3925 (BCL timeout) = 01, 1 s after the last BCL.
    """
    _interrupted(rig, "BCL", "bcl")


#: Rate at which a charger must follow a demand step (GB/T 18487.1 via the issue's power
#: suite: adjustment time <= |dI| / 20 A/s), plus the bench's 1 s reaction allowance.
DEMAND_SLEW_A_PER_S = 20.0


@case(
    "DP.3007",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 BCL SPN3073, CCS SPN3082",
    "Output rises to a higher BCL demand",
)
def test_dp3007_follows_raised_demand(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger also follows a demand that goes up (DP.3002 covers down).

    Steps: charge at 50 A for 1 s, then raise the BCL demand to 100 A (within the
    charger's CML maximum and the BCP maximum).
    Expected:
    1. CCS output current reaches 100 A (-1 A or 1 %) within |dI| / 20 A/s + 1 s
       = 3.5 s of the first BCL asking for it, and never exceeds it.
    """
    start = start_charging(rig, BmsScript(values={"BCL": {"current_demand": -50.0}}))
    cml = first(rig, "CML", CHARGER)
    top = abs(float(cml.values.get("max_output_current") or 0.0))
    check(top >= 100.0, "CML maximum output current >= 100 A", f"{top:g} A")
    rig.bms.set_values("BCL", current_demand=-100.0)
    raised = first(rig, "BCL", BMS, since=start, wait=1.0, current_demand=-100.0)
    within = 50.0 / DEMAND_SLEW_A_PER_S + RESPONSE_S
    low = 100.0 - max(CURRENT_TOLERANCE_A, 1.0)
    expect_message(
        rig.capture, "CCS", src=CHARGER, since=raised.timestamp, within=within,
        what="CCS output current at the raised BCL demand of 100 A",
        where=lambda r: abs(float(r.values.get("output_current") or 0.0)) >= low,
        measurements=measurements, key="raise_latency",
    )  # fmt: skip
    rig.capture.hold(0.5)
    peak = max(
        abs(float(r.values.get("output_current") or 0.0))
        for r in charger_frames(rig, "CCS", since=raised.timestamp)
    )
    check(peak <= 100.0 + CURRENT_TOLERANCE_A, "CCS never above the 100 A demand", f"{peak:g} A")


@case(
    "DN.3003",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CEM SPN3925",
    "Neither BCL nor BCS during CRO(0xAA)",
)
def test_dn3003_no_bcl_no_bcs(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the variant of DN.3001/3002 where the BMS sends neither message.

    Steps: after CRO(0xAA) the BMS sends only BSM.
    Expected:
    1. No CCS.
    2. CEM with SPN3925 (BCL timeout, the shorter one) = 01, 1 s after CRO(0xAA).
    """
    begin(rig, BmsScript(withhold={"BCL", "BCS"}))
    reach(rig, Phase.CHARGING, SESSION_S, "CRO(0xAA)")
    cro_aa = first(rig, "CRO", CHARGER, charger_ready=0xAA)
    cem = cem_timeout(rig, "bcl", cro_aa.timestamp)
    expect_silence(
        rig.capture, "CCS", src=CHARGER, since=cro_aa.timestamp, until=cem.timestamp,
        what="no CCS without BCL and BCS",
    )  # fmt: skip


@case(
    "DN.3004",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CEM SPN3924, J1939-21 TP",
    "BCS transport fault during CRO(0xAA)",
)
def test_dn3004_bcs_transfer_broken(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the variant of DN.3001 where BCS starts but never arrives whole.

    Steps: after CRO(0xAA) the BMS sends BCL and BSM; every BCS transfer (9 bytes,
    2 packets) stops after its first data packet.
    Expected:
    1. No CCS: a broken transfer is not a BCS.
    2. CEM with SPN3924 (BCS timeout) = 01, 5 s after CRO(0xAA) (or the first BCL).
    """
    begin(rig, BmsScript(stop_after_packets={"BCS": 1}))
    reach(rig, Phase.CHARGING, SESSION_S, "CRO(0xAA)")
    cro_aa = first(rig, "CRO", CHARGER, charger_ready=0xAA)
    bcl = first(rig, "BCL", BMS)
    cem = cem_timeout(rig, "bcs", cro_aa.timestamp, bcl.timestamp)
    expect_silence(
        rig.capture, "CCS", src=CHARGER, since=cro_aa.timestamp, until=cem.timestamp,
        what="no CCS on broken BCS transfers",
    )  # fmt: skip


@case(
    "DN.3007",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CEM SPN3924, J1939-21 TP",
    "BCS transport fault during charging",
)
def test_dn3007_bcs_transfer_broken(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the variant of DN.3005: BCS keeps starting but never completes.

    Steps: charge for 1 s; then every BCS transfer stops after its first data packet.
    Expected:
    1. CEM with SPN3924 (BCS timeout) = 01, 5 s after the last complete BCS.
    """
    start_charging(rig, settle=1.0)
    rig.bms.break_transfers("BCS", 1)
    rig.capture.hold(0.6)  # a transfer under way may still complete
    last = rig.capture.select("BCS", src=BMS, where=lambda r: r.ok)[-1]
    cem_timeout(rig, "bcs", last.timestamp)


@case(
    "DN.3008",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CEM SPN3925, BCL length",
    "BCL of the wrong length during charging",
)
def test_dn3008_bcl_wrong_length(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the variant of DN.3006: BCL keeps coming but malformed (3 bytes, not 5).

    Steps: charge for 1 s; then BCL is sent as 3 bytes every 50 ms.
    Expected:
    1. CEM with SPN3925 (BCL timeout) = 01, 1 s after the last well-formed BCL.
    """
    start_charging(rig, settle=1.0)
    rig.bms.send_raw("BCL", b"\xa0\x0f\x98")
    rig.capture.hold(0.2)
    last = rig.capture.select("BCL", src=BMS, where=lambda r: r.ok)[-1]
    cem_timeout(rig, "bcl", last.timestamp)


def _output_within(
    rig: ChargerRig, measurements: Measurements, start: float, limit: float, what: str
) -> None:
    """Every CCS from 1 s after ``start`` reports at most ``limit`` A (+1 A or 1 %)."""
    rig.capture.hold(2.0)
    allowed = limit + max(CURRENT_TOLERANCE_A, limit * 0.01)
    frames = charger_frames(rig, "CCS", since=start + RESPONSE_S)
    check(len(frames) >= 10, "CCS while charging", f"{len(frames)} CCS")
    peak = max(abs(float(r.values.get("output_current") or 0.0)) for r in frames)
    measurements.record("max_output_current_a", peak)
    check(peak <= allowed, f"CCS output current <= {what} {limit:g} A", f"{peak:g} A")


@case(
    "DN.3009",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 BCP SPN2817, BCL SPN3073",
    "BCL demand above the BCP maximum charge current",
)
def test_dn3009_demand_above_bcp(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger keeps to the battery's own limit when the BMS demands more.

    Steps: BCP maximum charge current 80 A; BCL demands 150 A (a faulty BMS).
    Expected:
    1. CCS output current <= 80 A (+1 A) from 1 s after charging starts.
    """
    script = BmsScript(
        values={"BCP": {"max_charge_current": -80.0}, "BCL": {"current_demand": -150.0}}
    )
    start = start_charging(rig, script, settle=0.0)
    _output_within(rig, measurements, start, 80.0, "the BCP maximum charge current")


@case(
    "DN.3010",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CML SPN2826, BCL SPN3073",
    "BCL demand above the charger's maximum output current",
)
def test_dn3010_demand_above_cml(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger keeps to its own stated maximum when the BMS demands more.

    Steps: BCP allows 400 A; BCL demands 400 A (above the charger's CML maximum).
    Expected:
    1. The CML maximum output current is below 400 A (else the case does not apply).
    2. CCS output current <= the CML maximum (+1 A or 1 %) from 1 s after charging starts.
    """
    script = BmsScript(
        values={"BCP": {"max_charge_current": -400.0}, "BCL": {"current_demand": -400.0}}
    )
    start = start_charging(rig, script, settle=0.0)
    cml = first(rig, "CML", CHARGER)
    top = abs(float(cml.values.get("max_output_current") or 0.0))
    check(top < 400.0, "CML maximum output current below 400 A", f"{top:g} A")
    _output_within(rig, measurements, start, top, "the CML maximum output current")
