"""GB/T 34658-2017 §7.5.4 (Table 9) — charger under test, end of charging (DP/DN.4xxx).

DN.4003/4004's content is not public: they are the bench's cases for the rest of the
end-of-charge rules in the reference (timeout table, current <= 5 A after CST/BST).
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.gbt27930.bms_role import BmsScript
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
    CSD_AFTER_BST_S,
    CST_AFTER_BST_S,
    INTERPRETED,
    cem_timeout,
    charger_frames,
    check_current_decayed,
    first,
    start_charging,
)

CLAUSE = "GB/T 34658-2017 §7.5.4"
CST_PERIOD_S = 0.01
#: CCS may still be on its way when CST starts: one CCS period plus scheduling.
CCS_GRACE_S = 0.1
#: The charger keeps CST going until BSD: the last CST may precede BSD by this much.
CST_GAP_S = 0.05


def _bms_stops(rig: ChargerRig, script: BmsScript) -> float:
    """Charge, then end the charge from the BMS side; the first BST's time."""
    start = start_charging(rig, script)
    rig.bms.stop_charging()
    return first(rig, "BST", BMS, since=start, wait=2.0).timestamp


@case("DP.4001", f"{CLAUSE}; GB/T 27930-2015 BST, CST (PGN 0x1900, 0x1A00)", "CST on BST")
def test_dp4001_cst(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger answers the BMS's stop with CST and stops charging.

    Steps: charge; the BMS sends BST (SOC target reached); after the charger's CST it
    waits 0.3 s before sending BSD.
    Expected:
    1. CST with SPN3521 "BMS stopped" = 01 within 5 s of BST; 4 bytes, every 10 ms.
    2. No CCS after CST starts.
    3. CST continues until BSD arrives.
    """
    bst = _bms_stops(rig, BmsScript(bsd_after_s=0.3))
    cst = expect_message(
        rig.capture, "CST", src=CHARGER, since=bst, within=CST_AFTER_BST_S,
        what="CST after BST",
        measurements=measurements, key="cst_after_bst",
    )  # fmt: skip
    check_decoded([cst], "CST")
    check(
        cst.values.get("bms_stopped") == 1,
        'CST with SPN3521 "BMS stopped" = 01',
        cst.describe(),
    )
    bsd = expect_message(
        rig.capture, "BSD", src=BMS, since=cst.timestamp, within=2.0, what="the bench's BSD"
    )
    frames = charger_frames(rig, "CST", since=cst.timestamp, until=bsd.timestamp)
    check_lengths(frames, "CST", 4)
    rig.check_period(frames, "CST", CST_PERIOD_S, min_count=10)
    gap = bsd.timestamp - frames[-1].timestamp
    measurements.record("last_cst_before_bsd_ms", round(gap * 1000, 3))
    check(
        gap <= CST_GAP_S,
        f"CST every 10 ms until BSD (last CST at most {CST_GAP_S * 1000:g} ms before BSD)",
        f"CST stopped {gap * 1000:.0f} ms before BSD",
    )
    expect_silence(
        rig.capture, "CCS", src=CHARGER, since=cst.timestamp + CCS_GRACE_S,
        until=bsd.timestamp, what="no CCS after CST",
    )  # fmt: skip


@case("DP.4002", f"{CLAUSE}; GB/T 27930-2015 BSD, CSD (PGN 0x1C00, 0x1D00)", "CSD on BSD")
def test_dp4002_csd(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger closes the session with its statistics (CSD).

    Steps: charge; BMS-initiated stop; BSD after the charger's CST.
    Expected:
    1. CSD within 10 s of BST (the BMS's CSD timeout); 8 bytes, values in range.
    2. CST stops once BSD has arrived.
    """
    bst = _bms_stops(rig, BmsScript())
    csd = expect_message(
        rig.capture, "CSD", src=CHARGER, since=bst, within=CSD_AFTER_BST_S,
        what="CSD after BST and BSD", measurements=measurements, key="csd_after_bst",
    )  # fmt: skip
    check_lengths([csd], "CSD", 8)
    check_decoded([csd], "CSD")
    bsd = first(rig, "BSD", BMS)
    expect_silence(
        rig.capture, "CST", src=CHARGER, since=bsd.timestamp + 0.1,
        until=bsd.timestamp + 1.0, what="no CST once BSD has arrived",
    )  # fmt: skip


@case("DN.4001", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3926", "BST timeout after the charger's CST")
def test_dn4001_bst_timeout(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger detects a BMS that does not answer its CST.

    Steps: charge; make the charger stop (BSM insulation abnormal); the BMS then sends
    nothing (no BST).
    Expected:
    1. CEM with SPN3926 (BST timeout) = 01, 5 s after the first CST.
    """
    start = start_charging(rig, BmsScript(answer_cst=False))
    rig.bms.set_values("BSM", insulation_status=1)
    cst = expect_message(
        rig.capture, "CST", src=CHARGER, since=start, within=2.0,
        what="CST after BSM reports insulation abnormal",
    )  # fmt: skip
    cem_timeout(rig, "bst", cst.timestamp)


@case("DN.4002", f"{CLAUSE}; GB/T 27930-2015 CEM SPN3927", "BSD timeout")
def test_dn4002_bsd_timeout(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: the charger detects a missing BSD, sending CST until then.

    Steps: charge; the BMS sends BST, and after the charger's CST sends nothing.
    Expected (GB/T 34658-2017 Amendment 1):
    1. The charger sends CST every 10 ms until the timeout.
    2. CEM with SPN3927 (BSD timeout) = 01, 10 s after the first CST.
    """
    bst = _bms_stops(rig, BmsScript(withhold={"BSD"}))
    cst = expect_message(
        rig.capture, "CST", src=CHARGER, since=bst, within=CST_AFTER_BST_S,
        what="CST after BST",
    )  # fmt: skip
    cem = cem_timeout(rig, "bsd", cst.timestamp)
    frames = charger_frames(rig, "CST", since=cst.timestamp, until=cem.timestamp)
    rig.check_period(frames, "CST", CST_PERIOD_S, min_count=100)
    gap = cem.timestamp - frames[-1].timestamp
    check(
        gap <= CST_GAP_S + 0.25,
        "CST every 10 ms until the BSD timeout",
        f"CST stopped {gap:.3f} s before the CEM",
    )


@case(
    "DN.4003",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CEM SPN3927",
    "BSD timeout after the charger's own stop",
)
def test_dn4003_bsd_timeout_charger_stop(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: DN.4002 for a charge the charger ends: BST answers its CST, BSD never comes.

    Steps: charge; make the charger stop (BSM insulation abnormal); the BMS answers the
    CST with BST and then sends nothing.
    Expected:
    1. CEM with SPN3927 (BSD timeout) = 01, 10 s after the first CST.
    """
    start = start_charging(rig, BmsScript(withhold={"BSD"}))
    rig.bms.set_values("BSM", insulation_status=1)
    cst = expect_message(
        rig.capture, "CST", src=CHARGER, since=start, within=2.0,
        what="CST after BSM reports insulation abnormal",
    )  # fmt: skip
    expect_message(
        rig.capture, "BST", src=BMS, since=cst.timestamp, within=1.0, what="the bench's BST"
    )
    cem_timeout(rig, "bsd", cst.timestamp)


#: Current decay after a stop (reference timeout table): <= 5 A 100 ms after CST, and
#: in any case 10 s after BST, as far as the charger's own CCS reports it.
DECAY_AFTER_CST_S, DECAY_AFTER_BST_S = 0.1, 10.0


@case(
    "DN.4004",
    f"{CLAUSE} ({INTERPRETED}); GB/T 27930-2015 CCS SPN3082 after BST/CST",
    "Output current decays after the BMS's stop",
)
def test_dn4004_decay_after_bst(rig: ChargerRig, measurements: Measurements) -> None:
    """Purpose: after BST the charger brings its output down, as its CCS reports it.

    Steps: charge at 100 A; the BMS sends BST and withholds BSD (so the session stays
    in the end phase for 10 s).
    Expected:
    1. Any CCS later than CST + 100 ms, or later than BST + 10 s, reports <= 5 A.
    """
    bst = _bms_stops(rig, BmsScript(withhold={"BSD"}, values={"BCL": {"current_demand": -100.0}}))
    cst = expect_message(
        rig.capture, "CST", src=CHARGER, since=bst, within=CST_AFTER_BST_S,
        what="CST after BST",
    )  # fmt: skip
    rig.capture.hold(2.0)
    deadline = min(cst.timestamp + DECAY_AFTER_CST_S, bst + DECAY_AFTER_BST_S)
    check_current_decayed(
        rig, measurements, deadline, cst.timestamp,
        f"from {DECAY_AFTER_CST_S * 1000:g} ms after CST ({DECAY_AFTER_BST_S:g} s after BST)",
        "ccs_after_stop",
    )  # fmt: skip
