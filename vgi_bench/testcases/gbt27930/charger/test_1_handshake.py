"""GB/T 34658-2017 §7.5.1 — charger under test, handshake phase (DP.1xxx / DN.1xxx).

The bench plays the BMS. Limits come from the GB/T 27930-2015 message table and timeout
table packaged with the bench (``vgi_bench/gbt27930/data``).
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, require
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
    CRM_AA_AFTER_BRM_S,
    CRM_AFTER_CHM_S,
    begin,
    cem_timeout,
    charger_frames,
    first,
    reach,
)

CLAUSE = "GB/T 34658-2017 §7.5.1"
V1_1 = 0x000101  # CHM/BRM protocol version "01 01 00"
TP_RESPONSE_S = 0.2  # J1939-21 Tr: a responder answers RTS / the last DT within 200 ms


@case("DP.1001", f"{CLAUSE}; GB/T 27930-2015 CHM (PGN 0x2600)", "CHM transmission")
def test_dp1001_chm(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger announces itself with CHM in format, content and period.

    Steps: plug in the BMS but hold back BHM for 2.5 s.
    Expected:
    1. CHM is 3 bytes and carries protocol version V1.1 (01 01 00).
    2. CHM repeats every 250 ms.
    """
    begin(rig, BmsScript(withhold={"BHM"}))
    start = rig.bms.phase_times[Phase.HANDSHAKE]
    rig.capture.hold(2.5)
    frames = charger_frames(rig, "CHM", since=start - 0.3)
    check_lengths(frames, "CHM", 3)
    check_decoded(frames, "CHM")
    version = frames[0].values["protocol_version"]
    check(version == V1_1, "CHM protocol version 01 01 00 (V1.1)", f"{frames[0].describe()}")
    rig.check_period(frames, "CHM", 0.25)


@case("DP.1002", f"{CLAUSE}; GB/T 27930-2015 CRM (PGN 0x0100)", "CRM(0x00) transmission")
def test_dp1002_crm00(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: after BHM and its self-check the charger sends CRM(0x00) correctly.

    Steps: answer CHM with BHM; hold back BRM for 2.5 s.
    Expected:
    1. CRM(SPN2560 = 0x00) within 30 s of BHM (the BMS's CRM timeout).
    2. CRM is 8 bytes and repeats every 250 ms.
    """
    begin(rig, BmsScript(withhold={"BRM"}))
    bhm = first(rig, "BHM", BMS)
    crm = expect_message(
        rig.capture, "CRM", src=CHARGER, since=bhm.timestamp, within=CRM_AFTER_CHM_S,
        what="CRM(0x00) after BHM", where=lambda r: r.values.get("recognition") == 0,
        measurements=measurements, key="crm_after_bhm",
    )  # fmt: skip
    rig.capture.hold(2.5)
    frames = charger_frames(rig, "CRM", since=crm.timestamp)
    check_lengths(frames, "CRM", 8)
    check_decoded(frames, "CRM")
    rig.check_period(frames, "CRM", 0.25)


@case("DP.1003", f"{CLAUSE}; GB/T 27930-2015 BRM/CRM, J1939-21 TP", "CRM(0xAA) transmission")
def test_dp1003_crm_aa(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger receives BRM over the transport and then recognises the BMS.

    Steps: normal handshake; BRM (49 bytes) goes by RTS/CTS.
    Expected:
    1. The charger answers the BRM RTS with CTS within Tr (200 ms).
    2. It closes the transfer with EndOfMsgAck within Tr of the last data frame.
    3. It switches to CRM(SPN2560 = 0xAA) within 5 s of the complete BRM.
    """
    begin(rig)
    reach(rig, Phase.RECOGNITION, CRM_AFTER_CHM_S, "CRM(0x00) after BHM")
    since = rig.bms.phase_times[Phase.RECOGNITION] - 0.1
    rts = expect_message(
        rig.capture, "TP.RTS", src=BMS, since=since, within=2.0, what="the bench's BRM RTS"
    )
    expect_message(
        rig.capture, "TP.CTS", src=CHARGER, since=rts.timestamp, within=TP_RESPONSE_S,
        what="CTS answering the BRM RTS",
        measurements=measurements, key="cts_after_rts",
    )  # fmt: skip
    last_dt = require(
        rig.capture.wait_for("BRM", src=BMS, since=rts.timestamp, timeout=3.0),
        "the BRM transfer to complete", "it did not",
    )  # fmt: skip
    expect_message(
        rig.capture, "TP.EoMA", src=CHARGER, since=last_dt.timestamp, within=TP_RESPONSE_S,
        what="EndOfMsgAck after the last BRM data frame",
        measurements=measurements, key="eoma_after_dt",
    )  # fmt: skip
    crm = expect_message(
        rig.capture, "CRM", src=CHARGER, since=last_dt.timestamp, within=CRM_AA_AFTER_BRM_S,
        what="CRM(0xAA) after BRM", where=lambda r: r.values.get("recognition") == 0xAA,
        measurements=measurements, key="crm_aa_after_brm",
    )  # fmt: skip
    check_lengths([crm], "CRM", 8)


@case("DN.1001", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3921", "BRM timeout, nothing received")
def test_dn1001_brm_timeout(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger detects a missing BRM.

    Steps: answer CHM with BHM, then send nothing when CRM(0x00) starts.
    Expected:
    1. CEM with SPN3921 (BRM timeout) = 01, 5 s after the first CRM(0x00).
    """
    begin(rig, BmsScript(withhold={"BRM"}))
    crm = _first_crm00(rig)
    cem_timeout(rig, "brm", crm.timestamp)


@case("DN.1002", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3921, J1939-21 TP", "BRM transport fault")
def test_dn1002_brm_tp_fault(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: an incomplete BRM transfer is not taken as a BRM.

    Steps: each BRM transfer stops after 3 of its 7 data frames.
    Expected:
    1. No CRM(0xAA) while no BRM has been received completely.
    2. CEM with SPN3921 (BRM timeout) = 01, 5 s after the first CRM(0x00).
    """
    begin(rig, BmsScript(stop_after_packets={"BRM": 3}))
    crm = _first_crm00(rig)
    timeout = rig.timing["brm"]
    recognised = rig.capture.wait_for(
        "CRM", src=CHARGER, since=crm.timestamp, timeout=timeout.limit_s,
        where=lambda r: r.values.get("recognition") == 0xAA,
    )  # fmt: skip
    check(
        recognised is None,
        "no CRM(0xAA) while every BRM transfer is incomplete",
        f"CRM(0xAA) {recognised.timestamp - crm.timestamp:.3f} s after CRM(0x00)"
        if recognised
        else "",
    )
    cem_timeout(rig, "brm", crm.timestamp)


@case("DN.1003", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3921", "BHM keeps arriving during CRM(0x00)")
def test_dn1003_bhm_during_crm00(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: BHM instead of BRM is still a BRM timeout.

    Steps: keep sending BHM after CRM(0x00) starts; never send BRM.
    Expected:
    1. CEM with SPN3921 (BRM timeout) = 01, 5 s after the first CRM(0x00).
    """
    begin(rig, BmsScript(withhold={"BRM"}, keep_sending={"BHM"}))
    crm = _first_crm00(rig)
    cem_timeout(rig, "brm", crm.timestamp)


@case("DN.1004", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3922", "BRM keeps arriving during CRM(0xAA)")
def test_dn1004_brm_during_crm_aa(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: BRM instead of BCP after recognition is a BCP timeout.

    Steps: keep sending BRM after CRM(0xAA); never send BCP.
    Expected:
    1. No CML (the charger must not configure without BCP).
    2. CEM with SPN3922 (BCP timeout) = 01, 5 s after CRM(0xAA) (the timer may start at
       the complete BRM or at the first CRM(0xAA)).
    """
    begin(rig, BmsScript(withhold={"BCP"}, keep_sending={"BRM"}))
    reach(rig, Phase.CONFIGURATION, CRM_AFTER_CHM_S + 10, "CRM(0xAA)")
    crm = first(rig, "CRM", CHARGER, recognition=0xAA)
    brm = first(rig, "BRM", BMS)
    cem = cem_timeout(rig, "bcp", brm.timestamp, crm.timestamp)
    expect_silence(
        rig.capture, "CML", src=CHARGER, since=crm.timestamp, until=cem.timestamp,
        what="no CML without a BCP",
    )  # fmt: skip


def _first_crm00(rig: ChargerRig):
    reach(rig, Phase.HANDSHAKE, 1.0, "CHM")
    crm = expect_message(
        rig.capture, "CRM", src=CHARGER, since=rig.bms.phase_times[Phase.HANDSHAKE] - 0.3,
        within=CRM_AFTER_CHM_S, what="CRM(0x00) after BHM",
        where=lambda r: r.values.get("recognition") == 0,
    )  # fmt: skip
    return crm
