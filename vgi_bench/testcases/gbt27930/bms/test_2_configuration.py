"""GB/T 34658-2017 §7.4 — BMS under test, parameter configuration (BP/BN.2xxx)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
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

CLAUSE = "GB/T 34658-2017 §7.4 (parameter configuration)"
BCP_PGN = 0x0600
BRO_AFTER_CML_S = 5.0  # the charger's BRO timeout
BRO_AA_AFTER_CML_S = 60.0


def _bcp_transfers(rig: BmsRig, script: ChargerScript) -> float:
    """Run to CRM(0xAA); the time of the first BCP RTS."""
    begin(rig, script)
    t = reach(rig, ChargerPhase.CONFIGURATION, SESSION_S, "BRM, then CRM(0xAA)")
    return first(rig, "TP.RTS", BMS, since=t, wait=3.0).timestamp


@case("BP.2001", f"{CLAUSE}; GB/T 27930-2015 BCP (PGN 0x0600)", "BCP transmission")
def test_bp2001_bcp(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS states its charging parameters in BCP, consistently.

    Steps: after the complete BCP the bench waits 1.6 s before CTS/CML.
    Expected:
    1. BCP is 13 bytes over the transport, every field in range.
    2. Its maximum total charge voltage is at most BHM's maximum allowed voltage.
    3. BCP repeats every 500 ms until CML.
    """
    start = _bcp_transfers(rig, ChargerScript(cml_after_s=1.6))
    bcp = first(rig, "BCP", BMS, since=start, wait=3.0)
    check_lengths([bcp], "BCP", 13)
    check_decoded([bcp], "BCP")
    bhm = first(rig, "BHM", BMS)
    limit = bhm.values["max_charge_voltage"]
    value = bcp.values["max_charge_voltage"]
    check(
        value <= limit,
        f"BCP max total charge voltage <= BHM max allowed voltage ({limit} V)",
        f"{value} V",
    )
    cml = first(rig, "CML", CHARGER, since=start, wait=3.0)
    starts = transfer_starts(rig, BCP_PGN, since=start, until=cml.timestamp)
    rig.check_period(starts, "BCP", 0.5, min_count=3)


@case("BP.2002", f"{CLAUSE}; GB/T 27930-2015 BRO (PGN 0x0900)", "BRO transmission")
def test_bp2002_bro(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS reports readiness with BRO in format, content and period.

    Steps: after BRO(0xAA) the bench waits 1.5 s before CRO.
    Expected:
    1. BRO within 5 s of CML and BRO(0xAA) within 60 s of it; 1 byte, 0x00 or 0xAA.
    2. BRO repeats every 250 ms until CRO.
    """
    begin(rig, ChargerScript(cro_after_s=1.5))
    reach(rig, ChargerPhase.PRECHARGE, SESSION_S, "BRO(0xAA) after CML")
    cml = first(rig, "CML", CHARGER)
    bro = first(rig, "BRO", BMS, since=cml.timestamp)
    bro_aa = first(rig, "BRO", BMS, since=cml.timestamp, bms_ready=0xAA)
    rig.check_interval("bro_after_cml", cml.timestamp, bro, BRO_AFTER_CML_S, "BRO after CML")
    rig.check_interval("bro_aa_after_cml", cml.timestamp, bro_aa, 60.0, "BRO(0xAA) after CML")
    cro = first(rig, "CRO", CHARGER, since=bro.timestamp, wait=3.0)
    frames = bms_frames(rig, "BRO", since=bro.timestamp, until=cro.timestamp)
    check_lengths(frames, "BRO", 1)
    check_decoded(frames, "BRO")
    rig.check_period(frames, "BRO", 0.25, min_count=5, per_content=True)


@case("BN.2001", f"{CLAUSE}; GB/T 27930-2015 BEM SPN3903", "CTS/CML timeout")
def test_bn2001_cml_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS detects a charger that never states its limits.

    Steps: the bench withholds CTS and CML after BCP.
    Expected:
    1. BEM with SPN3903 (CTS/CML timeout) = 01, 5 s after BCP.
    """
    start = _bcp_transfers(rig, ChargerScript(withhold={"CTS", "CML"}))
    bcp = first(rig, "BCP", BMS, since=start, wait=3.0)
    bem_timeout(rig, "cml", start, bcp.timestamp)


@case("BN.2002", f"{CLAUSE}; GB/T 27930-2015 BEM SPN3904", "CRO timeout")
def test_bn2002_cro_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS detects a charger that never answers BRO(0xAA).

    Steps: the bench withholds CRO.
    Expected:
    1. BEM with SPN3904 (CRO timeout) = 01, 5 s after the first BRO(0xAA).
    """
    begin(rig, ChargerScript(withhold={"CRO"}))
    reach(rig, ChargerPhase.PARAMETERS, SESSION_S, "BCP, then CML")
    bro_aa = first(rig, "BRO", BMS, bms_ready=0xAA, wait=SESSION_S)
    bem_timeout(rig, "cro", bro_aa.timestamp)


@case(
    "BN.2003",
    f"{CLAUSE}; GB/T 27930-2015 BEM SPN3904",
    "CRO(0xAA) timeout (60 s)",
    slow=True,
)
def test_bn2003_cro_aa_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS waits 60 s for CRO(0xAA) once CRO(0x00) has come, not 5 s.

    Steps: the bench sends CRO(0x00) and never becomes ready. Runs in real time (~65 s).
    Expected:
    1. BEM with SPN3904 (CRO timeout) = 01, 60 s after BRO(0xAA); none before.
    """
    begin(rig, ChargerScript(never_ready=True))
    reach(rig, ChargerPhase.PRECHARGE, SESSION_S, "BRO(0xAA)")
    bro_aa = first(rig, "BRO", BMS, bms_ready=0xAA)
    bem_timeout(rig, "cro_aa", bro_aa.timestamp)
