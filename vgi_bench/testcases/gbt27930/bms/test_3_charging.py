"""GB/T 34658-2017 §7.4 — BMS under test, charging (BP/BN.3xxx)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.gbt27930.checks import check_decoded, check_lengths
from vgi_bench.rigs.gbt27930 import BmsRig
from vgi_bench.testcases.gbt27930.bms.steps import (
    BMS,
    CHARGER,
    bem_timeout,
    bms_frames,
    charging,
    first,
    transfer_starts,
)

CLAUSE = "GB/T 34658-2017 §7.4 (charging)"
BCS_PGN = 0x1100
WINDOW_S = 1.8  # how long the charging messages are watched (the BMS may stop after that)


@case("BP.3001", f"{CLAUSE}; GB/T 27930-2015 BCL, BCS, BSM", "BCL, BCS and BSM transmission")
def test_bp3001_charging_messages(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: while charging the BMS sends its demand and status correctly.

    Steps: normal session; watch 1.8 s of charging.
    Expected:
    1. BCL is 5 bytes every 50 ms; BSM 7 bytes every 250 ms; BCS 9 bytes over the
       transport every 250 ms; every field in range.
    """
    start = charging(rig, settle=0.2)
    rig.capture.hold(WINDOW_S)
    until = start + WINDOW_S
    for name, length, period in (("BCL", 5, 0.05), ("BSM", 7, 0.25)):
        frames = bms_frames(rig, name, since=start, until=until)
        check_lengths(frames, name, length)
        check_decoded(frames, name)
        rig.check_period(frames, name, period)
    bcs = bms_frames(rig, "BCS", since=start, until=until)
    check_lengths(bcs, "BCS", 9)
    check_decoded(bcs, "BCS")
    starts = transfer_starts(rig, BCS_PGN, since=start, until=until)
    rig.check_period(starts, "BCS", 0.25)


@case("BP.3002", f"{CLAUSE}; GB/T 27930-2015 BCP, BCL", "BCL demand within BCP limits")
def test_bp3002_bcl_within_bcp(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS never asks for more than it declared it can take.

    Steps: normal session; watch 1.5 s of charging.
    Expected:
    1. Every BCL voltage demand <= BCP maximum total charge voltage.
    2. Every BCL current demand's magnitude <= BCP maximum charge current's.
    """
    start = charging(rig, settle=0.2)
    rig.capture.hold(1.5)
    bcp = first(rig, "BCP", BMS)
    max_v = bcp.values["max_charge_voltage"]
    max_i = abs(bcp.values["max_charge_current"])
    frames = bms_frames(rig, "BCL", since=start)
    check_decoded(frames, "BCL")
    worst_v = max(f.values["voltage_demand"] for f in frames)
    worst_i = max(abs(f.values["current_demand"]) for f in frames)
    measurements.record("bcl_max", {"voltage_v": worst_v, "current_a": worst_i})
    check(worst_v <= max_v, f"BCL voltage demand <= {max_v} V (BCP)", f"{worst_v} V")
    check(worst_i <= max_i, f"BCL current demand <= {max_i} A (BCP)", f"{worst_i} A")


@case("BN.3001", f"{CLAUSE}; GB/T 27930-2015 BEM SPN3905", "CCS timeout")
def test_bn3001_ccs_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS notices the charger's status stopping (1 s limit).

    Steps: charge for 0.5 s, then the bench stops CCS.
    Expected:
    1. BEM with SPN3905 (CCS timeout) = 01, 1 s after the last CCS.
    """
    charging(rig, settle=0.5)
    rig.charger.stop_sending("CCS")
    rig.capture.hold(0.1)
    last = rig.capture.select("CCS", src=CHARGER)[-1]
    bem_timeout(rig, "ccs", last.timestamp)
