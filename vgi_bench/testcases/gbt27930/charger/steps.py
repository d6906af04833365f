"""Steps shared by the charger cases: bring a session to a phase, find the key frames.

Kept apart from the cases so each case reads as its clause: script, steps, checks.
"""

from __future__ import annotations

from vgi_bench.can.capture import Record
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS
from vgi_bench.cases import Measurements, fail
from vgi_bench.gbt27930.bms_role import BmsRole, BmsScript, Phase
from vgi_bench.gbt27930.checks import (
    check_timeout_report,
    expect_first,
    reach_phase,
    seen_summary,
)
from vgi_bench.rigs.gbt27930 import DUT_READY_TIMEOUT_S, ChargerRig

CHARGER = CHARGER_ADDRESS
BMS = BMS_ADDRESS

#: Marks a case whose id is listed in GB/T 34658 but whose content is not public: the
#: steps and expected results are the bench's reading of GB/T 27930-2015 (README).
INTERPRETED = "content not public: bench interpretation"

#: Longest the insulation self-check may take before CRM(0x00): the BMS gives up on CRM
#: 30 s after CHM (reference timeout table, BEM SPN3901).
CRM_AFTER_CHM_S = 30.0
#: The BMS's own limits, used as the charger's latest answer (reference timeout table).
CRM_AA_AFTER_BRM_S = 5.0
CRO_AFTER_BRO_AA_S = 5.0
CRO_AA_AFTER_BRO_AA_S = 60.0
CML_AFTER_BCP_S = 5.0
CST_AFTER_BST_S = 5.0
CSD_AFTER_BST_S = 10.0


def begin(rig: ChargerRig, script: BmsScript | None = None) -> BmsRole:
    """Plug the bench BMS in and wait for the charger's CHM."""
    bms = rig.start_bms(script)
    if not bms.wait_phase(Phase.HANDSHAKE, DUT_READY_TIMEOUT_S):
        fail(f"CHM from the charger within {DUT_READY_TIMEOUT_S:g} s of plugging in", "no CHM")
    return bms


def reach(rig: ChargerRig, phase: Phase, within: float, what: str) -> float:
    """Wait until the bench's BMS enters ``phase``; its entry time, or fail naming ``what``."""
    return reach_phase(rig.bms, rig.capture, phase, within, what, CHARGER)


def first(
    rig: ChargerRig, name: str, src: int, *, since: float = 0.0, wait: float = 1.0, **values: float
) -> Record:
    """The first ``name`` from ``src`` with the given signal values (waits up to ``wait`` s)."""
    return expect_first(rig.capture, name, src, since=since, wait=wait, **values)


def charger_frames(rig: ChargerRig, name: str, since: float, until: float | None = None):
    return rig.capture.select(name, src=CHARGER, since=since, until=until)


def start_charging(rig: ChargerRig, script: BmsScript | None = None, settle: float = 0.5) -> float:
    """Run a normal session up to charging (CCS flowing); the time charging began."""
    begin(rig, script)
    t = reach(rig, Phase.CHARGING, CRM_AFTER_CHM_S + 30.0, "a session reaching CRO(0xAA)")
    ccs = rig.capture.wait_for("CCS", src=CHARGER, since=t, timeout=5.0)
    if ccs is None:
        fail("CCS within 5 s of BCL and BCS", f"{seen_summary(rig.capture, CHARGER, t)}")
    rig.capture.hold(settle)
    return ccs.timestamp


def cem_timeout(
    rig: ChargerRig, timer: str, earliest_start: float, latest_start: float | None = None
) -> Record:
    """The charger's CEM for ``timer`` (a name in the timeout table), checked and measured."""
    return check_timeout_report(
        rig.capture, rig.timing[timer], rig.timing.tolerance, rig.measurements,
        src=CHARGER, earliest_start=earliest_start, latest_start=latest_start,
    )  # fmt: skip


#: The current a charger may still report once it has stopped (reference timeout table).
DECAY_A = 5.0


def check_current_decayed(
    rig: ChargerRig, measurements: Measurements, deadline: float, origin: float, what: str,
    key: str,
) -> None:  # fmt: skip
    """No CCS later than ``deadline`` may report more than 5 A; ``what`` names the rule."""
    late = charger_frames(rig, "CCS", since=deadline)
    currents = [abs(float(r.values.get("output_current") or 0.0)) for r in late]
    measurements.record(key, {"count": len(late), "max_current_a": max(currents, default=0.0)})
    over = [(r, i) for r, i in zip(late, currents, strict=True) if i > DECAY_A]
    if over:
        rec, current = over[0]
        fail(f"output current <= {DECAY_A:g} A {what}", f"CCS with {current:g} A at "
             f"+{rec.timestamp - origin:.3f} s")  # fmt: skip
