"""Every ocpp201.csms case proven both ways through the CLI: it passes against the conformant
reference CSMS and fails, saying what it expected and what it saw, against
the fault it is written to catch. Each run listens on its own free port.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ocpp_helpers import assert_suite_passes, run_ocpp_case
from tests.proof import assert_caught, faults_caught, proof_params, suite_case_ids
from tests.test_ocpp_security_proof import SECURITY_CASE_FAULTS
from vgi_bench.reference.ocpp.csms_ref import CSMS_FAULTS

SUITE = "ocpp201.csms"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "TC_B_01_CSMS": ("invalid_boot_response", "rejects_boot"),
    "VGI_G02_01_CSMS": ("bad_current_time", "slow_heartbeat_response"),
    "TC_C_02_CSMS": ("accepts_unknown_idtoken",),
    "TC_E_03_CSMS": ("no_idtokeninfo",),
    "VGI_RPC_01_CSMS": ("unknown_action_not_supported",),
    "VGI_RPC_02_CSMS": ("drops_malformed_frames",),
    "VGI_RPC_03_CSMS": ("accepts_invalid_payload",),
    # operator actions (vgi_bench/testcases/ocpp201/csms/test_operator.py)
    "VGI_F01_01_CSMS": ("remote_start_wrong_id_token",),
    "VGI_F03_01_CSMS": ("remote_stop_wrong_transaction",),
    "VGI_B11_01_CSMS": ("reset_wrong_type",),
    "VGI_G03_01_CSMS": ("availability_wrong_status",),
    "VGI_B05_01_CSMS": ("set_variables_wrong_value",),
    "VGI_K01_01_CSMS": ("charging_profile_wrong_limit", "sends_invalid_charging_profile"),
    "VGI_K01_02_CSMS": ("crashes_on_rejected_profile",),
    "VGI_K01_03_CSMS": ("tx_profile_wrong_transaction",),
    "VGI_K10_01_CSMS": ("clear_profile_wrong_id",),
    "VGI_F06_01_CSMS": ("trigger_wrong_message",),
    "VGI_F05_01_CSMS": ("unlock_wrong_connector",),
    # certificates (vgi_bench/testcases/ocpp201/csms/test_m_certificates.py)
    "VGI_A_02_CSMS": ("signs_wrong_key", "unverifiable_chain", "no_certificate_signed"),
}


def _run(tmp_path: Path, case_id: str, faults: tuple[str, ...] = ()):
    return run_ocpp_case(tmp_path, SUITE, case_id, "2.0.1", faults)


def test_case_passes_conformant_csms(tmp_path: Path) -> None:
    """Every case passes against the conformant reference DUT (one CLI run for all)."""
    assert_suite_passes(tmp_path, SUITE, "2.0.1", CASE_FAULTS)


@pytest.mark.parametrize(("case_id", "fault"), proof_params(CASE_FAULTS, set(), with_faults=True))
def test_case_fails_faulty_csms(case_id: str, fault: str, tmp_path: Path) -> None:
    outcome = _run(tmp_path, case_id, (fault,))
    assert_caught(outcome, case_id, fault)


def test_every_case_has_a_proof() -> None:
    ids = suite_case_ids(SUITE)
    proven = set(CASE_FAULTS) | {case for (suite, case, _) in SECURITY_CASE_FAULTS
                                 if suite == SUITE}  # fmt: skip
    assert ids == proven, f"unproven: {ids ^ proven}"


def test_every_fault_is_caught_by_a_case() -> None:
    security = (f for (suite, _, _), f in SECURITY_CASE_FAULTS.items() if suite == SUITE)
    caught = faults_caught(CASE_FAULTS.values(), security)
    assert caught == set(CSMS_FAULTS), f"no case catches {set(CSMS_FAULTS) - caught}"
