"""GB/T 34658-2017 §7.4.1 — BMS under test, handshake and identification (BP/BN.1xxx).

The bench plays the charger. The public list of BMS case ids is incomplete (only
BN.1001, BN.1002 and BP.4003 are known); the ids here follow the same scheme and map
onto the BMS-side rules of GB/T 27930-2015 and J1939-21 as the reference gives them.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail, require
from vgi_bench.gbt27930.charger_role import ChargerPhase, ChargerScript
from vgi_bench.gbt27930.checks import check_decoded, check_lengths
from vgi_bench.rigs.gbt27930 import BmsRig
from vgi_bench.testcases.gbt27930.bms.steps import (
    BMS,
    CHARGER,
    SESSION_S,
    begin,
    bem_timeout,
    bms_frames,
    first,
    reach,
    transfer_starts,
)
from vgi_bench.timing import Latency

CLAUSE = "GB/T 34658-2017 §7.4.1"
V1_1 = 0x000101
BRM_PGN = 0x0200
T3_S = 1.25  # J1939-21: originator waiting for CTS
TP_MARGIN_S = 0.5
DT_IN_FLIGHT_S = 0.025  # DT frames already sent when an Abort arrives


@case("BP.1001", f"{CLAUSE}; GB/T 27930-2015 BHM (PGN 0x2700)", "BHM transmission")
def test_bp1001_bhm(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS answers CHM with BHM in format, content and period.

    Steps: the bench sends CHM and keeps it up for 2.5 s (a long insulation check).
    Expected:
    1. BHM is 2 bytes, its maximum allowed charge voltage decodes.
    2. BHM repeats every 250 ms while CHM goes on.
    """
    begin(rig, ChargerScript(insulation_s=2.5))
    chm = first(rig, "CHM", CHARGER)
    bhm = first(rig, "BHM", BMS)
    measurements.record("bhm_after_chm", Latency.between(chm.timestamp, bhm.timestamp))
    rig.capture.hold(2.0)
    frames = bms_frames(rig, "BHM", since=bhm.timestamp, until=bhm.timestamp + 2.0)
    check_lengths(frames, "BHM", 2)
    check_decoded(frames, "BHM")
    rig.check_period(frames, "BHM", 0.25)


@case("BP.1002", f"{CLAUSE}; GB/T 27930-2015 BRM (PGN 0x0200)", "BRM transmission")
def test_bp1002_brm(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS identifies itself with BRM over the transport.

    Steps: the bench sends CRM(0x00) and keeps it up 1.5 s after the first complete BRM.
    Expected:
    1. BRM goes by RTS/CTS, 41 to 49 bytes, protocol version 01 01 00, all fields valid.
    2. BRM repeats every 250 ms until CRM(0xAA).
    """
    begin(rig, ChargerScript(recognise_after_s=1.5))
    reach(rig, ChargerPhase.CONFIGURATION, SESSION_S, "BRM after CRM(0x00)")
    crm = first(rig, "CRM", CHARGER, recognition=0)
    brms = rig.capture.select("BRM", src=BMS, since=crm.timestamp)
    check(bool(brms), "a complete BRM transfer", "none")
    check_decoded(brms, "BRM")
    size = len(brms[0].frame.data)
    check(41 <= size <= 49, "BRM of 41 to 49 bytes", f"{size} bytes")
    version = brms[0].values["protocol_version"]
    check(version == V1_1, "BRM protocol version 01 01 00 (V1.1)", f"{version:#08x}")
    crm_aa = first(rig, "CRM", CHARGER, recognition=0xAA)
    starts = transfer_starts(rig, BRM_PGN, since=crm.timestamp, until=crm_aa.timestamp)
    rig.check_period(starts, "BRM", 0.25, min_count=4)


@case("BP.1003", f"{CLAUSE}; J1939-21 §5.10 (CTS hold)", "BRM transport held by CTS(0)")
def test_bp1003_brm_hold(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS, as originator, obeys the charger's flow control.

    Steps: the bench answers the first BRM RTS with CTS(0 packets) and holds for 1 s
    (repeating CTS(0) every Th = 0.5 s), then releases with a normal CTS.
    Expected:
    1. No data frame while held.
    2. The transfer completes after the release.
    """
    begin(rig, ChargerScript(hold_s=1.0))
    reach(rig, ChargerPhase.RECOGNITION, SESSION_S, "CRM(0x00)")
    rts = first(rig, "TP.RTS", BMS, wait=3.0)
    release = require(
        rig.capture.wait_for(
            "TP.CTS", src=CHARGER, since=rts.timestamp + 0.5, timeout=3.0,
            where=lambda r: r.frame.data[1] > 0,
        ),
        "the bench's releasing CTS", "none",
    )  # fmt: skip
    early = rig.capture.select("TP.DT", src=BMS, since=rts.timestamp, until=release.timestamp)
    check(
        not early,
        "no data frame while the charger holds the transfer with CTS(0)",
        f"{len(early)} DT frames, the first {early[0].timestamp - rts.timestamp:.3f} s after RTS"
        if early
        else "",
    )
    brm = require(
        rig.capture.wait_for("BRM", src=BMS, since=release.timestamp, timeout=2.0),
        "the BRM transfer to complete after the release", "it did not",
    )  # fmt: skip
    measurements.record("brm_after_release", Latency.between(release.timestamp, brm.timestamp))


@case("BN.1001", f"{CLAUSE}; GB/T 27930-2015 BEM SPN3902", "CRM(0xAA) timeout")
def test_bn1001_crm_aa_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS detects a charger that never recognises it.

    Steps: the bench keeps CRM(0x00) going after the complete BRM.
    Expected:
    1. BEM with SPN3902 (CRM(0xAA) timeout) = 01, 5 s after the first BRM.
    """
    begin(rig, ChargerScript(recognise_after_s=1e6))
    reach(rig, ChargerPhase.RECOGNITION, SESSION_S, "CRM(0x00)")
    rts = first(rig, "TP.RTS", BMS, wait=3.0)
    brm = first(rig, "BRM", BMS, wait=3.0)
    bem_timeout(rig, "crm_aa", rts.timestamp, brm.timestamp)


@case("BN.1002", f"{CLAUSE}; J1939-21 §5.10 (T3)", "BRM transport, CTS withheld")
def test_bn1002_cts_withheld(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS does not send data the charger did not ask for.

    Steps: the bench never answers the BRM RTS.
    Expected:
    1. No data frame from the BMS.
    2. The BMS gives up the transfer with Abort (reason 3, timeout) within T3 = 1.25 s.
    """
    begin(rig, ChargerScript(answer_rts=False))
    reach(rig, ChargerPhase.RECOGNITION, SESSION_S, "CRM(0x00)")
    rts = first(rig, "TP.RTS", BMS, wait=3.0)
    rig.capture.hold(T3_S + TP_MARGIN_S)
    dts = rig.capture.select("TP.DT", src=BMS, since=rts.timestamp)
    if dts:
        fail("no data frame without a CTS", f"{len(dts)} DT frames after the RTS")
    abort = require(
        rig.capture.first(
            "TP.Abort", src=BMS, since=rts.timestamp, until=rts.timestamp + T3_S + TP_MARGIN_S
        ),
        f"Abort from the BMS within T3 ({T3_S:g} s) of its unanswered RTS", "none",
    )  # fmt: skip
    rig.check_interval(
        "abort_after_rts", rts.timestamp, abort, T3_S + TP_MARGIN_S, f"Abort (T3 = {T3_S:g} s)"
    )
    check(abort.frame.data[1] == 3, "Abort reason 3 (timeout)", abort.describe())


@case("BN.1003", f"{CLAUSE}; J1939-21 §5.10 (Abort)", "BRM transport aborted by the charger")
def test_bn1003_abort(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS stops a transfer the charger aborts.

    Steps: the bench aborts each BRM transfer after its second data frame.
    Expected:
    1. No further data frame of that transfer (25 ms allowed for frames in flight).
    """
    begin(rig, ChargerScript(abort_after_packets=2))
    reach(rig, ChargerPhase.RECOGNITION, SESSION_S, "CRM(0x00)")
    abort = first(rig, "TP.Abort", CHARGER, wait=3.0)
    next_rts = rig.capture.wait_for("TP.RTS", src=BMS, since=abort.timestamp, timeout=1.0)
    until = next_rts.timestamp if next_rts else abort.timestamp + 1.0
    late = rig.capture.select("TP.DT", src=BMS, since=abort.timestamp + DT_IN_FLIGHT_S, until=until)
    check(
        not late,
        "no data frame of an aborted transfer",
        f"{len(late)} DT frames, the last {late[-1].timestamp - abort.timestamp:.3f} s "
        "after the Abort"
        if late
        else "",
    )


@case("BN.1004", f"{CLAUSE}; J1939-21 §5.10 (CTS)", "BRM transport, CTS with a wrong sequence")
def test_bn1004_cts_wrong_sequence(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS does not send data frames the transfer does not have.

    Steps: the bench answers the BRM RTS with a CTS asking to start at packet 9 of 7.
    Expected:
    1. No data frame with a sequence number outside the transfer (1 to 7) and none
       that the CTS did not allow; the BMS gives up the transfer with Abort within T3.
    """
    begin(rig, ChargerScript(cts_next_seq=9))
    reach(rig, ChargerPhase.RECOGNITION, SESSION_S, "CRM(0x00)")
    rts = first(rig, "TP.RTS", BMS, wait=3.0)
    rig.capture.hold(T3_S + TP_MARGIN_S)
    dts = rig.capture.select("TP.DT", src=BMS, since=rts.timestamp)
    if dts:
        seqs = sorted({d.frame.data[0] for d in dts})
        fail("no data frame after a CTS for a packet the transfer does not have", f"DT {seqs}")
    abort = require(
        rig.capture.first(
            "TP.Abort", src=BMS, since=rts.timestamp, until=rts.timestamp + T3_S + TP_MARGIN_S
        ),
        f"Abort from the BMS within T3 ({T3_S:g} s)", "none",
    )  # fmt: skip
    rig.check_interval(
        "abort_after_rts", rts.timestamp, abort, T3_S + TP_MARGIN_S, f"Abort (T3 = {T3_S:g} s)"
    )
