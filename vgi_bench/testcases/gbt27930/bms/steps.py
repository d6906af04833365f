"""Steps shared by the BMS cases: run the bench charger to a phase, find the key frames."""

from __future__ import annotations

from vgi_bench.can.capture import Record
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS
from vgi_bench.cases import fail
from vgi_bench.gbt27930.charger_role import ChargerPhase, ChargerRole, ChargerScript
from vgi_bench.gbt27930.checks import (
    check_timeout_report,
    expect_first,
    reach_phase,
)
from vgi_bench.rigs.gbt27930 import DUT_READY_TIMEOUT_S, BmsRig

CHARGER = CHARGER_ADDRESS
BMS = BMS_ADDRESS
#: Longest the whole session may take to reach charging on the bench's own timings.
SESSION_S = 20.0


def begin(rig: BmsRig, script: ChargerScript | None = None) -> ChargerRole:
    """Start the bench charger (CHM) and wait for the BMS's BHM."""
    charger = rig.start_charger(script)
    start = rig.capture.now()
    if rig.capture.wait_for("BHM", src=BMS, since=start - 0.1, timeout=DUT_READY_TIMEOUT_S) is None:
        fail(f"BHM from the BMS within {DUT_READY_TIMEOUT_S:g} s of CHM", "no BHM")
    return charger


def reach(rig: BmsRig, phase: ChargerPhase, within: float, what: str) -> float:
    """Wait until the bench's charger enters ``phase``; its entry time, or fail naming ``what``."""
    return reach_phase(rig.charger, rig.capture, phase, within, what, BMS)


def first(
    rig: BmsRig, name: str, src: int, *, since: float = 0.0, wait: float = 1.0, **values: float
) -> Record:
    """The first ``name`` from ``src`` with the given signal values (waits up to ``wait`` s)."""
    return expect_first(rig.capture, name, src, since=since, wait=wait, **values)


def bms_frames(rig: BmsRig, name: str, since: float, until: float | None = None) -> list[Record]:
    return rig.capture.select(name, src=BMS, since=since, until=until)


def transfer_starts(rig: BmsRig, pgn: int, since: float, until: float | None = None):
    """The RTS frames the BMS sent for ``pgn``: one per transfer of a long message."""
    return rig.capture.select(
        "TP.RTS", src=BMS, since=since, until=until,
        where=lambda r: int.from_bytes(r.frame.data[5:8], "little") == pgn,
    )  # fmt: skip


def bem_timeout(
    rig: BmsRig, timer: str, earliest_start: float, latest_start: float | None = None
) -> Record:
    """The BMS's BEM for ``timer`` (a name in the timeout table), checked and measured."""
    return check_timeout_report(
        rig.capture, rig.timing[timer], rig.timing.tolerance, rig.measurements,
        src=BMS, earliest_start=earliest_start, latest_start=latest_start,
    )  # fmt: skip


def charging(rig: BmsRig, script: ChargerScript | None = None, settle: float = 0.5) -> float:
    """Run a normal session to charging (CCS flowing); when the bench started CCS."""
    begin(rig, script)
    t = reach(rig, ChargerPhase.CHARGING, SESSION_S, "BCL and BCS after CRO(0xAA)")
    rig.capture.hold(settle)
    return t
