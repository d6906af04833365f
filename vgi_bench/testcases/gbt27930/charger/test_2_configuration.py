"""GB/T 34658-2017 §7.5.2 (Table 7) — charger under test, parameter configuration (DP/DN.2xxx)."""

from __future__ import annotations

import functools
import itertools
from typing import Any

from vgi_bench.can.capture import Record
from vgi_bench.cases import Measurements, case, check, fail
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
    CML_AFTER_BCP_S,
    CRM_AFTER_CHM_S,
    CRO_AA_AFTER_BRO_AA_S,
    CRO_AFTER_BRO_AA_S,
    INTERPRETED,
    begin,
    cem_timeout,
    charger_frames,
    first,
    reach,
)
from vgi_bench.timing import Latency

CLAUSE = "GB/T 34658-2017 §7.5.2"
SESSION_S = CRM_AFTER_CHM_S + 15.0  # CHM to configuration, self-check included


def _has_values(record: Record, values: dict[str, Any]) -> bool:
    return all(record.values.get(k) == x for k, x in values.items())


def _configured(rig: ChargerRig, script: BmsScript) -> Record:
    """Run to the charger's first CML; returns it."""
    begin(rig, script)
    t = reach(rig, Phase.READY, SESSION_S, "CML after BCP")
    return first(rig, "CML", CHARGER, since=t - 1.0)


@case("DP.2001", f"{CLAUSE}; GB/T 27930-2015 CTS, CML (PGN 0x0700, 0x0800)", "CML and CTS")
def test_dp2001_cml_cts(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger states its output limits in CML (and its time in CTS).

    Steps: normal session; the BMS stays not ready (BRO 0x00) for 2.5 s.
    Expected:
    1. CML within 5 s of the complete BCP; 8 bytes, every 250 ms, values in range.
    2. CML is consistent: minimum voltage <= maximum voltage and the minimum current's
       magnitude <= the maximum current's (charge currents are negative, offset -400 A).
    3. CTS, when sent (it is optional), is 7 bytes every 500 ms.
    """
    cml = _configured(rig, BmsScript(bro_ready_after_s=2.5))
    bcp = first(rig, "BCP", BMS)
    measurements.record("cml_after_bcp", Latency.between(bcp.timestamp, cml.timestamp))
    check(
        cml.timestamp - bcp.timestamp <= CML_AFTER_BCP_S,
        f"CML within {CML_AFTER_BCP_S:g} s of BCP",
        f"{cml.timestamp - bcp.timestamp:.3f} s",
    )
    rig.capture.hold(2.3)
    frames = charger_frames(rig, "CML", since=cml.timestamp)
    check_lengths(frames, "CML", 8)
    check_decoded(frames, "CML")
    v = frames[0].values
    measurements.record("CML", {k: v[k] for k in sorted(v)})
    check(
        v["min_output_voltage"] <= v["max_output_voltage"],
        "CML minimum output voltage <= maximum",
        f"min {v['min_output_voltage']} V, max {v['max_output_voltage']} V",
    )
    check(
        abs(v["min_output_current"]) <= abs(v["max_output_current"]),
        "CML |minimum output current| <= |maximum| (0.1 A/bit, -400 A offset)",
        f"min {v['min_output_current']} A, max {v['max_output_current']} A "
        f"({frames[0].describe()})",
    )
    rig.check_period(frames, "CML", 0.25)
    cts = charger_frames(rig, "CTS", since=cml.timestamp - 0.5)
    if cts:
        check_lengths(cts, "CTS", 7)
        check_decoded(cts, "CTS")
        if len(cts) >= 4:
            rig.check_period(cts, "CTS", 0.5, min_count=4)
    measurements.record("CTS.sent", bool(cts))


@case("DP.2002", f"{CLAUSE}; GB/T 27930-2015 BRO, CRO (PGN 0x0900, 0x0A00)", "BRO(0x00) handling")
def test_dp2002_bro00(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger waits for the BMS to be ready before it gets ready itself.

    Steps: the BMS sends BRO(0x00) for 2 s, then BRO(0xAA).
    Expected:
    1. No CRO while the BMS sends BRO(0x00).
    2. CRO within 5 s of the first BRO(0xAA).
    """
    _configured(rig, BmsScript(bro_ready_after_s=2.0))
    bro00 = first(rig, "BRO", BMS, bms_ready=0)
    bro_aa = first(rig, "BRO", BMS, since=bro00.timestamp, wait=4.0, bms_ready=0xAA)
    early = rig.capture.select("CRO", src=CHARGER, until=bro_aa.timestamp)
    check(
        not early,
        "no CRO before the BMS's BRO(0xAA)",
        f"{early[0].describe()} {bro_aa.timestamp - early[0].timestamp:.3f} s before it"
        if early
        else "",
    )
    expect_message(
        rig.capture, "CRO", src=CHARGER, since=bro_aa.timestamp, within=CRO_AFTER_BRO_AA_S,
        what="CRO after BRO(0xAA)",
        measurements=measurements, key="cro_after_bro_aa",
    )  # fmt: skip


@case("DP.2003", f"{CLAUSE}; GB/T 27930-2015 CRO (PGN 0x0A00)", "CRO(0x00) transmission")
def test_dp2003_cro(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger reports its readiness with CRO in format, content and period.

    Steps: normal session; after CRO(0xAA) the BMS waits 0.6 s before BCL/BCS.
    Expected:
    1. CRO within 5 s of BRO(0xAA), and CRO(0xAA) within 60 s of it.
    2. CRO is 1 byte (0x00 or 0xAA) and repeats every 250 ms until charging starts.
    """
    begin(rig, BmsScript(charging_start_delay_s=0.6))
    reach(rig, Phase.CHARGING, SESSION_S + CRO_AA_AFTER_BRO_AA_S, "CRO(0xAA) after BRO(0xAA)")
    bro_aa = first(rig, "BRO", BMS, bms_ready=0xAA)
    cro = first(rig, "CRO", CHARGER)
    cro_aa = first(rig, "CRO", CHARGER, charger_ready=0xAA)
    rig.check_interval(
        "cro_after_bro_aa", bro_aa.timestamp, cro, CRO_AFTER_BRO_AA_S, "CRO after BRO(0xAA)"
    )
    rig.check_interval(
        "cro_aa_after_bro_aa", bro_aa.timestamp, cro_aa, CRO_AA_AFTER_BRO_AA_S,
        "CRO(0xAA) after BRO(0xAA)",
    )  # fmt: skip
    ccs = rig.capture.wait_for("CCS", src=CHARGER, since=cro.timestamp, timeout=3.0)
    until = ccs.timestamp if ccs else rig.capture.now()
    frames = charger_frames(rig, "CRO", since=cro.timestamp, until=until)
    check_lengths(frames, "CRO", 1)
    check_decoded(frames, "CRO")
    rig.check_period(frames, "CRO", 0.25, min_count=3, per_content=True)


def _bro_timeout(rig: ChargerRig, measurements: Measurements, script: BmsScript) -> None:
    """Shared body of the BRO timeout cases: CEM SPN3923 5 s after CTS/CML starts."""
    cml = _configured(rig, script)
    bcp = first(rig, "BCP", BMS)
    cts = rig.capture.first("CTS", src=CHARGER, since=bcp.timestamp)
    starts = [cml.timestamp] + ([cts.timestamp] if cts else [])
    cem_timeout(rig, "bro", bcp.timestamp, max(starts))


@case("DN.2001", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3922", "BCP timeout, nothing received")
def test_dn2001_bcp_timeout(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger detects a missing BCP.

    Steps: normal handshake; after CRM(0xAA) the BMS sends nothing.
    Expected:
    1. CEM with SPN3922 (BCP timeout) = 01, 5 s after CRM(0xAA).
    """
    begin(rig, BmsScript(withhold={"BCP"}))
    reach(rig, Phase.CONFIGURATION, SESSION_S, "CRM(0xAA)")
    crm = first(rig, "CRM", CHARGER, recognition=0xAA)
    brm = first(rig, "BRM", BMS)
    cem_timeout(rig, "bcp", brm.timestamp, crm.timestamp)


@case("DN.2002", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3922, J1939-21 TP", "BCP transport fault")
def test_dn2002_bcp_tp_fault(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: an incomplete BCP transfer is not taken as a BCP.

    Steps: each BCP transfer stops after its first data frame.
    Expected:
    1. No CML while no BCP has been received completely.
    2. CEM with SPN3922 (BCP timeout) = 01, 5 s after CRM(0xAA).
    """
    begin(rig, BmsScript(stop_after_packets={"BCP": 1}))
    reach(rig, Phase.CONFIGURATION, SESSION_S, "CRM(0xAA)")
    crm = first(rig, "CRM", CHARGER, recognition=0xAA)
    brm = first(rig, "BRM", BMS)
    cem = cem_timeout(rig, "bcp", brm.timestamp, crm.timestamp)
    expect_silence(
        rig.capture, "CML", src=CHARGER, since=crm.timestamp, until=cem.timestamp,
        what="no CML while every BCP transfer is incomplete",
    )  # fmt: skip


@case("DN.2003", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3923", "BRO timeout, nothing received")
def test_dn2003_bro_timeout(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger detects a missing BRO.

    Steps: normal session to CML; the BMS then sends nothing.
    Expected:
    1. CEM with SPN3923 (BRO timeout) = 01, 5 s after CTS/CML starts.
    """
    _bro_timeout(rig, measurements, BmsScript(withhold={"BRO"}))


@case("DN.2004", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3923", "BRO timeout, wrong message type")
def test_dn2004_bro_wrong_type(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: another message in place of BRO does not count as BRO.

    Steps: normal session to CML; the BMS then sends BCL where BRO belongs.
    Expected:
    1. CEM with SPN3923 (BRO timeout) = 01, 5 s after CTS/CML starts.
    """
    _bro_timeout(rig, measurements, BmsScript(instead_of={"BRO": "BCL"}))


@case(
    "DN.2005",
    f"{CLAUSE}; GB/T 27930-2015 CEM SPN3923",
    "BRO(0xAA) timeout (60 s)",
    slow=True,
)
def test_dn2005_bro_aa_timeout(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: once BRO(0x00) has come the charger waits 60 s for BRO(0xAA), not 5 s.

    Steps: the BMS sends BRO(0x00) and never becomes ready. Runs in real time (~65 s).
    Expected:
    1. CEM with SPN3923 (BRO timeout) = 01, 60 s after BRO(0x00) (the timer may start
       as soon as BCP is complete or as late as the first BRO(0x00)); no CEM before that.
    """
    _configured(rig, BmsScript(bro_ready_after_s=None))
    bcp = first(rig, "BCP", BMS)
    bro00 = first(rig, "BRO", BMS, bms_ready=0)
    cem_timeout(rig, "bro_aa", bcp.timestamp, bro00.timestamp)


@case("DN.2006", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3923", "BCP keeps arriving during CTS/CML")
def test_dn2006_bcp_during_cml(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: BCP repeated instead of BRO is a BRO timeout.

    Steps: the BMS keeps sending BCP after CML starts and never sends BRO.
    Expected:
    1. CEM with SPN3923 (BRO timeout) = 01, 5 s after CTS/CML starts.
    """
    _bro_timeout(rig, measurements, BmsScript(withhold={"BRO"}, keep_sending={"BCP"}))


def _cro_with_bro_disturbed(rig: ChargerRig, measurements: Measurements, how: str) -> None:
    """Shared body of DN.2007-2009 (GB/T 34658-2017 Amendment 1, expected result 1)."""
    begin(rig, BmsScript(on_cro00=how))
    t = reach(rig, Phase.READY, SESSION_S, "CML after BCP")
    cro00 = first(rig, "CRO", CHARGER, since=t, wait=SESSION_S, charger_ready=0)
    rig.capture.hold(0.3)
    last_aa = rig.capture.select(
        "BRO", src=BMS, until=cro00.timestamp + 0.3,
        where=lambda r: r.values.get("bms_ready") == 0xAA,
    )[-1].timestamp  # fmt: skip
    tol = rig.timing.tolerance
    limit = rig.timing["bro"].limit_s
    outcome = rig.capture.wait_for(
        None, src=CHARGER, since=cro00.timestamp,
        timeout=max(0.0, last_aa + limit + tol.late_s - rig.capture.now()),
        where=lambda r: r.name == "CEM"
        or (r.name == "CRO" and r.values.get("charger_ready") == 0xAA),
    )  # fmt: skip
    if outcome is None:
        fail(
            f"CRO(0xAA) within {limit:g} s of the last BRO(0xAA), or then CEM (BRO timeout)",
            "neither",
        )
    since_last = outcome.timestamp - last_aa
    measurements.record("outcome_after_last_bro_aa", round(since_last, 3))
    if outcome.name == "CEM":
        check(
            since_last >= limit - tol.early_s and outcome.values.get("bro_timeout") == 1,
            f"CRO every 250 ms and CRO(0xAA) within {limit:g} s of the last BRO(0xAA) "
            f"(a CEM only after {limit:g} s, with SPN3923)",
            f"CEM {outcome.frame.data.hex(' ').upper()} after {since_last:.3f} s",
        )
    frames = charger_frames(rig, "CRO", since=cro00.timestamp, until=outcome.timestamp)
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(frames)]
    check(
        max(gaps, default=0.0) <= 0.5 + tol.late_s / 5,
        "CRO every 250 ms while the charger gets ready",
        f"a {max(gaps, default=0.0) * 1000:.0f} ms gap",
    )


@case(
    "DN.2007",
    f"{CLAUSE}; GB/T 34658-2017 Amd. 1; GB/T 27930-2015 CRO",
    "BRO(0xAA) interrupted during CRO(0x00)",
)
def test_dn2007_bro_interrupted(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger finishes getting ready when BRO(0xAA) stops during pre-charge.

    Steps: the BMS stops BRO as soon as CRO(0x00) arrives.
    Expected (Amendment 1):
    1. Within 5 s of the last BRO(0xAA) the charger sends CRO every 250 ms and, once
       ready, CRO(0xAA); a CEM with SPN3923 is acceptable only after those 5 s.
    """
    _cro_with_bro_disturbed(rig, measurements, "stop")


@case(
    "DN.2008",
    f"{CLAUSE}; GB/T 34658-2017 Amd. 1; GB/T 27930-2015 CRO",
    "Wrong message type instead of BRO(0xAA) during CRO(0x00)",
)
def test_dn2008_wrong_type_during_cro00(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: another message in place of BRO(0xAA) during pre-charge.

    Steps: the BMS replaces BRO with BCL as soon as CRO(0x00) arrives.
    Expected (Amendment 1): as DN.2007.
    """
    _cro_with_bro_disturbed(rig, measurements, "other")


@case(
    "DN.2009",
    f"{CLAUSE}; GB/T 34658-2017 Amd. 1; GB/T 27930-2015 CRO",
    "BRO(0x00) during CRO(0x00)",
)
def test_dn2009_bro00_during_cro00(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: BRO falling back to 0x00 during pre-charge.

    Steps: the BMS switches to BRO(0x00) as soon as CRO(0x00) arrives.
    Expected (Amendment 1): as DN.2007.
    """
    _cro_with_bro_disturbed(rig, measurements, "bro00")


@case(
    "DN.2010",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 BCP SPN2819, CML SPN2825",
    "BCP the charger cannot meet: no charge",
)
def test_dn2010_bcp_mismatch(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: a battery whose highest charge voltage is below the charger's lowest output
    voltage is never charged.

    Steps: BCP states a maximum charge voltage of 150 V (battery at 140 V), below any
    charger's minimum output voltage here (the charger's CML says which); the BMS goes
    on to BRO(0xAA) as if nothing were wrong and answers a CST.
    Expected:
    1. The CML minimum output voltage is above 150 V (else the case does not apply).
    2. No CRO(0xAA) and no CCS for 10 s after BCP (bench choice: twice the BMS's
       5 s wait for CRO after BRO(0xAA)). How the charger ended the session (CST, CEM or
       nothing) is recorded.
    """
    bcp_values = {"max_charge_voltage": 150.0, "battery_voltage": 140.0}
    cml = _configured(rig, BmsScript(values={"BCP": bcp_values}))
    bcp = first(rig, "BCP", BMS)
    floor = float(cml.values.get("min_output_voltage") or 0.0)
    check(
        floor > bcp_values["max_charge_voltage"],
        "CML minimum output voltage above the BCP maximum charge voltage of 150 V",
        f"CML minimum {floor:g} V: the case cannot test this charger",
    )
    for name, values in (("CRO", {"charger_ready": 0xAA}), ("CCS", {})):
        expect_silence(
            rig.capture, name, src=CHARGER, since=bcp.timestamp, until=bcp.timestamp + 10.0,
            what=f"no {name}{'(0xAA)' if values else ''} for a battery it cannot charge",
            where=functools.partial(_has_values, values=values),
        )  # fmt: skip
    ended = [
        r.describe() for n in ("CST", "CEM") for r in charger_frames(rig, n, bcp.timestamp)[:1]
    ]
    measurements.record("charger_ended_with", ended or ["nothing within 10 s"])
