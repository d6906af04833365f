"""Every ocpp201.cp case proven both ways through the CLI: it passes against the conformant
reference charging station and fails, saying what it expected and what it saw, against
the fault it is written to catch. Each run listens on its own free port.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ocpp_helpers import assert_suite_passes, run_ocpp_case
from tests.proof import assert_caught, faults_caught, proof_params, suite_case_ids
from tests.test_ocpp_security_proof import SECURITY_CASE_FAULTS
from vgi_bench.reference.ocpp.cp201 import CP201_FAULTS

SUITE = "ocpp201.cp"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "TC_B_01_CS": ("invalid_boot_payload",),
    "TC_B_02_CS": ("sends_before_boot_accepted", "retries_boot_early"),
    "TC_B_03_CS": ("sends_before_boot_accepted", "retries_boot_early"),
    "VGI_G02_01_CS": ("ignores_heartbeat_interval",),
    "TC_B_06_CS": ("get_variables_no_value",),
    "TC_B_09_CS": ("set_variable_not_stored",),
    "TC_B_32_CS": ("unknown_component_accepted",),
    "TC_B_39_CS": ("accepts_readonly_write",),
    "TC_B_20_CS": ("reset_without_reboot",),
    "TC_C_02_CS": ("accepts_unknown_idtoken",),
    "TC_E_03_CS": ("seq_no_gap",),
    "TC_E_15_CS": ("wrong_transaction_id",),
    "TC_J_09_CS": ("no_meter_values",),
    "TC_F_01_CS": ("ignores_remote_start",),
    "TC_F_08_CS": ("ignores_remote_stop", "wrong_transaction_id"),
    "TC_F_09_CS": ("accepts_unknown_stop",),
    "TC_G_01_CS": ("skips_status_notification",),
    "TC_G_03_CS": ("ignores_change_availability", "skips_status_notification"),
    "TC_G_04_CS": ("ignores_change_availability",),
    "TC_K_60_CS": ("exceeds_charging_profile_limit",),
    "VGI_K_CAN_01_CS": ("exceeds_charging_profile_limit",),
    "VGI_RPC_01_CS": ("unknown_action_not_supported",),
    "VGI_RPC_02_CS": ("drops_malformed_frames",),
    "VGI_RPC_03_CS": ("accepts_invalid_payload",),
    "TC_B_12_CS": ("notify_report_missing",),
    "TC_B_13_CS": ("full_inventory_partial",),
    "TC_D_01_CS": ("local_list_version_stale",),
    "TC_D_02_CS": ("ignores_local_list",),
    "TC_D_06_CS": ("accepts_stale_differential",),
    "VGI_D_01_CS": ("starts_blocked_local_token",),
    "TC_F_05_CS": ("unlocks_during_transaction",),
    "TC_F_06_CS": ("unlock_fails",),
    "TC_F_23_CS": ("trigger_not_sent",),
    "TC_F_15_CS": ("trigger_not_sent",),
    "TC_F_18_CS": ("trigger_not_sent",),
    "TC_H_01_CS": ("ignores_reservation",),
    "TC_H_02_CS": ("reservation_not_enforced",),
    "TC_H_07_CS": ("reservation_never_expires",),
    "TC_H_17_CS": ("cancel_reservation_ignored",),
    "TC_H_18_CS": ("accepts_unknown_reservation",),
    "VGI_H_01_CS": ("reserves_unavailable_evse",),
    "TC_L_01_CS": ("firmware_status_skipped",),
    "TC_L_07_CS": ("firmware_fake_download",),
    "TC_L_06_CS": ("accepts_invalid_firmware_signature", "invalid_signature_not_reported"),
    "TC_L_08_CS": ("installs_unusable_image",),
    "TC_N_25_CS": ("log_request_id_mismatch", "log_upload_skipped"),
    "TC_N_26_CS": ("log_upload_skipped",),
    "TC_A_11_CS": ("csr_wrong_common_name",),
    "TC_A_14_CS": ("accepts_foreign_certificate", "invalid_certificate_not_reported"),
    "TC_M_01_CS": ("wrong_certificate_hash",),
    "TC_M_02_CS": ("wrong_certificate_hash",),
    "TC_M_20_CS": ("delete_certificate_ignored",),
    "TC_M_22_CS": ("delete_unknown_certificate_accepted",),
    "TC_A_15_CS": ("sign_certificate_retry_loop",),
    "TC_M_23_CS": ("deletes_station_certificate",),
}


def _run(tmp_path: Path, case_id: str, faults: tuple[str, ...] = ()):
    return run_ocpp_case(tmp_path, SUITE, case_id, "2.0.1", faults)


def test_case_passes_conformant_cp(tmp_path: Path) -> None:
    """Every case passes against the conformant reference DUT (one CLI run for all)."""
    assert_suite_passes(tmp_path, SUITE, "2.0.1", CASE_FAULTS)


@pytest.mark.parametrize(("case_id", "fault"), proof_params(CASE_FAULTS, set(), with_faults=True))
def test_case_fails_faulty_cp(case_id: str, fault: str, tmp_path: Path) -> None:
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
    assert caught == set(CP201_FAULTS), f"no case catches {set(CP201_FAULTS) - caught}"
