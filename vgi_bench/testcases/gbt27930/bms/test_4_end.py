"""GB/T 34658-2017 §7.4 — BMS under test, end of charging and error handling (BP/BN.4xxx)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.gbt27930.charger_role import ChargerScript
from vgi_bench.gbt27930.checks import (
    check_decoded,
    check_lengths,
    expect_message,
    seen_summary,
)
from vgi_bench.rigs.gbt27930 import BmsRig
from vgi_bench.testcases.gbt27930.bms.steps import (
    BMS,
    CHARGER,
    SESSION_S,
    begin,
    bem_timeout,
    charging,
    first,
)

CLAUSE = "GB/T 34658-2017 §7.4 (end of charging)"
BST_WAIT_S = 30.0  # how long the bench lets the BMS charge before it must end the charge
BST_AFTER_CST_S = 5.0  # the charger's BST timeout
BSD_AFTER_CST_S = 10.0  # the charger's BSD timeout
REPLY_S = 5.0  # a re-handshake must be answered within the BRM timeout
MAX_RECONNECTS = 3


def _bms_ends(rig: BmsRig, script: ChargerScript) -> float:
    """Charge until the BMS sends BST on its own; the first BST's time."""
    start = charging(rig, script, settle=0.0)
    bst = rig.capture.wait_for("BST", src=BMS, since=start, timeout=BST_WAIT_S)
    if bst is None:
        fail(f"BST from the BMS within {BST_WAIT_S:g} s of charging", "none")
    return bst.timestamp


@case("BP.4001", f"{CLAUSE}; GB/T 27930-2015 BST, BSD (PGN 0x1900, 0x1C00)", "BMS ends the charge")
def test_bp4001_bst_bsd(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS ends the charge with BST and closes it with BSD.

    Steps: charge until the BMS stops; the bench answers CST 0.3 s after the first BST.
    Expected:
    1. BST is 4 bytes with a stop reason set (SPN3511), every 10 ms until CST.
    2. BSD within 10 s of CST; 7 bytes, every field in range.
    """
    bst_t = _bms_ends(rig, ChargerScript(cst_delay_s=0.3))
    cst = first(rig, "CST", CHARGER, since=bst_t, wait=2.0)
    frames = rig.capture.select("BST", src=BMS, since=bst_t, until=cst.timestamp)
    check_lengths(frames, "BST", 4)
    check_decoded(frames, "BST")
    reasons = ("soc_target_reached", "total_voltage_reached", "cell_voltage_reached")
    check(
        any(frames[0].values.get(r) == 1 for r in reasons),
        "a BST stop reason (SPN3511) set",
        frames[0].describe(),
    )
    rig.check_period(frames, "BST", 0.01, min_count=10)
    bsd = expect_message(
        rig.capture, "BSD", src=BMS, since=cst.timestamp, within=BSD_AFTER_CST_S,
        what="BSD after CST",
        measurements=measurements, key="bsd_after_cst",
    )  # fmt: skip
    check_lengths([bsd], "BSD", 7)
    check_decoded([bsd], "BSD")


@case("BP.4002", f"{CLAUSE}; GB/T 27930-2015 CST, BST SPN3511", "Charger ends the charge")
def test_bp4002_charger_stop(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS answers the charger's stop and closes the session.

    Steps: charge 0.5 s; the bench sends CST (manual stop).
    Expected:
    1. BST with SPN3511 "charger stopped" = 01 within 5 s of CST.
    2. BSD within 10 s of CST.
    """
    charging(rig, settle=0.5)
    rig.charger.stop_charging()
    cst = first(rig, "CST", CHARGER, wait=2.0)
    bst = expect_message(
        rig.capture, "BST", src=BMS, since=cst.timestamp, within=BST_AFTER_CST_S,
        what="BST after CST",
        measurements=measurements, key="bst_after_cst",
    )  # fmt: skip
    check(
        bst.values.get("charger_stopped") == 1,
        'BST with SPN3511 "charger stopped" = 01',
        bst.describe(),
    )
    expect_message(
        rig.capture, "BSD", src=BMS, since=cst.timestamp, within=BSD_AFTER_CST_S,
        what="BSD after CST",
        measurements=measurements, key="bsd_after_cst",
    )  # fmt: skip


@case("BN.4001", f"{CLAUSE}; GB/T 27930-2015 BEM SPN3906", "CST timeout")
def test_bn4001_cst_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS detects a charger that ignores its BST.

    Steps: charge until the BMS stops; the bench ignores BST (CCS goes on, no CST).
    Expected:
    1. BEM with SPN3906 (CST timeout) = 01, 5 s after the first BST.
    """
    bst_t = _bms_ends(rig, ChargerScript(ignore_bst=True))
    bem_timeout(rig, "cst", bst_t)


@case("BN.4002", f"{CLAUSE}; GB/T 27930-2015 BEM SPN3907", "CSD timeout")
def test_bn4002_csd_timeout(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: the BMS detects a charger that never sends its statistics.

    Steps: charge until the BMS stops; the bench answers with CST but never sends CSD.
    Expected:
    1. BEM with SPN3907 (CSD timeout) = 01, 10 s after the first BST.
    """
    bst_t = _bms_ends(rig, ChargerScript(csd=False))
    bem_timeout(rig, "csd", bst_t)


@case("BN.4003", f"{CLAUSE}; GB/T 27930-2015 error handling", "Three reconnections, no more")
def test_bn4003_reconnection(rig: BmsRig, measurements: Measurements) -> None:
    """Purpose: after an error the BMS answers the charger's re-handshake, three times only.

    Steps: the bench never sends CRM(0xAA), so every identification ends in BEM; 1 s
    after each BEM it re-handshakes with CRM(0x00).
    Expected:
    1. After each of the first three BEM the BMS identifies again (BRM within 5 s).
    2. After the fourth it does not (the operator must re-plug).
    """
    charger = begin(rig, ChargerScript(recognise_after_s=1e6, restart_after_s=1.0))
    per_round = rig.timing["crm_aa"].limit_s + 4.0
    for attempt in range(1, MAX_RECONNECTS + 2):
        if not charger.wait_restarts(attempt, per_round + (SESSION_S if attempt == 1 else 0)):
            fail(
                f"BEM {attempt} (CRM(0xAA) timeout) after identification {attempt}",
                f"none; the BMS sent {seen_summary(rig.capture, BMS, 0.0)}",
            )
        restart = charger.restart_times[attempt - 1]
        remaining = max(0.0, restart + REPLY_S - rig.capture.now())
        brm = rig.capture.wait_for("TP.RTS", src=BMS, since=restart, timeout=remaining)
        measurements.record(f"reconnect_{attempt}", brm is not None)
        if attempt <= MAX_RECONNECTS:
            check(
                brm is not None,
                f"BRM after re-handshake {attempt} (reconnection {attempt} of {MAX_RECONNECTS})",
                f"none within {REPLY_S:g} s",
            )
        else:
            check(
                brm is None,
                f"no BRM after re-handshake {attempt}: {MAX_RECONNECTS} reconnections at most",
                f"BRM {brm.timestamp - restart:.3f} s after it" if brm else "",
            )
