"""Every power case proven both ways on simulated instruments: it passes against the
conformant power stage and fails, with expected/seen, against the fault it targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.proof import assert_caught, faults_caught, proof_params, run_case, suite_case_ids
from vgi_bench.instruments.sim.plant import PLANT_FAULTS

SUITE = "power.charger"

#: The default profile's simulated instruments and power settings.
INSTRUMENTS = """
[instruments.supply]
driver = "ea-psb"
resource = "sim"
serial = "T-PSB"
calibration_due = 2099-12-31
[instruments.supply.limits]
max_voltage_v = 800
max_sink_current_a = 300
max_source_current_a = 150
max_power_w = 120000
max_slew_v_per_s = 4000
[instruments.analyzer]
driver = "yokogawa-wt"
resource = "sim"
serial = "T-WT"
calibration_due = 2099-12-31
accuracy = { voltage = [0.0005, 0.1], current = [0.0005, 0.05], power = [0.001, 10.0] }
[instruments.relay]
driver = "relay-ascii"
resource = "sim"
channels = { estop = 1, imd_fault = 2, imd_warning = 3 }
resistors_ohm = { imd_fault = 37500, imd_warning = 225000 }
[power]
rated_power_w = 90000
battery_voltage_v = 380.0
"""

CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "PS.4101": ("power_offset",),
    "PS.4102": ("power_offset",),
    "PS.4103": ("power_slow_response",),
    "PS.5101": ("power_no_decay",),
    "PS.Q01": ("power_ripple",),
    "PS.Q02": ("power_poor_efficiency", "power_poor_pf"),
    "PS.V01": ("power_offset",),
    "PS.2501": ("power_imd_blind",),
    "PS.E01": ("power_estop_unwired",),
}


def selector(case_id: str) -> str:
    return "test_" + case_id.replace(".", "").lower() + "_"


def _run(tmp_path: Path, case_id: str, faults: tuple[str, ...] = ()):
    return run_case(tmp_path, SUITE, selector(case_id), faults=faults, extra=INSTRUMENTS)


@pytest.mark.parametrize(("case_id", "fault"), proof_params(CASE_FAULTS, set(), with_faults=False))
def test_case_passes_conformant_power_stage(case_id: str, fault: None, tmp_path: Path) -> None:
    outcome = _run(tmp_path, case_id)
    assert outcome.verdict == "passed", f"{case_id}: {outcome.message}\n{outcome.output}"
    evidence = outcome.measurements["evidence"]
    assert (tmp_path / "out" / evidence["plot"]).stat().st_size > 10_000
    assert (tmp_path / "out" / evidence["samples_csv"]).read_text().count("\n") > 20


@pytest.mark.parametrize(("case_id", "fault"), proof_params(CASE_FAULTS, set(), with_faults=True))
def test_case_fails_faulty_power_stage(case_id: str, fault: str, tmp_path: Path) -> None:
    outcome = _run(tmp_path, case_id, (fault,))
    assert_caught(outcome, case_id, fault)


def test_every_case_has_a_proof_and_every_fault_is_caught() -> None:
    assert suite_case_ids(SUITE) == set(CASE_FAULTS)
    assert faults_caught(CASE_FAULTS.values()) == set(PLANT_FAULTS)


def test_an_expired_calibration_refuses_the_run(tmp_path: Path) -> None:
    expired = INSTRUMENTS.replace("serial = \"T-WT\"\ncalibration_due = 2099-12-31",
                                  "serial = \"T-WT\"\ncalibration_due = 2020-01-01")  # fmt: skip
    outcome = run_case(tmp_path, SUITE, selector("PS.4102"), extra=expired)
    assert outcome.verdict in ("failed", "error")
    assert "calibration due 2020-01-01 has passed" in outcome.message, outcome.message
