"""Every ocpp16.cp case proven both ways through the CLI: it passes against the conformant
reference charge point and fails, saying what it expected and what it saw, against
the fault it is written to catch. Each run listens on its own free port.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ocpp_helpers import assert_suite_passes, run_ocpp_case
from tests.proof import assert_caught, faults_caught, proof_params, suite_case_ids
from tests.test_ocpp_security_proof import SECURITY_CASE_FAULTS
from vgi_bench.reference.ocpp.cp16 import CP16_FAULTS

SUITE = "ocpp16.cp"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "TC_001_CS": ("invalid_boot_payload",),
    "TC_002_CS": ("sends_before_boot_accepted", "retries_boot_early"),
    "VGI_HB_01_CS": ("ignores_heartbeat_interval",),
    "TC_019_CS": ("config_missing_core_key",),
    "TC_021_CS": ("configuration_not_stored",),
    "TC_040_1_CS": ("unknown_key_accepted",),
    "TC_040_2_CS": ("accepts_invalid_config_value",),
    "TC_013_CS": ("reset_without_reboot",),
    "VGI_AV_01_CS": ("ignores_change_availability", "skips_status_notification"),
    "TC_003_CS": ("wrong_transaction_id", "skips_status_notification"),
    "TC_023_CS": ("accepts_unknown_idtag",),
    "TC_010_CS": ("ignores_remote_start",),
    "TC_012_CS": ("ignores_remote_stop",),
    "TC_028_CS": ("accepts_unknown_stop",),
    "TC_070_CS": ("no_meter_values",),
    "TC_057_CS": ("exceeds_charging_profile_limit",),
    "VGI_RPC_01_CS": ("unknown_action_not_supported",),
    "VGI_RPC_02_CS": ("drops_malformed_frames",),
    "VGI_RPC_03_CS": ("accepts_invalid_payload",),
    "TC_044_1_CS": ("firmware_status_skipped",),
    "TC_044_2_CS": ("firmware_download_failure_hidden",),
    "TC_045_1_CS": ("diagnostics_not_uploaded",),
    "TC_045_2_CS": ("diagnostics_not_uploaded",),
    "TC_042_2_CS": ("empty_list_version_nonzero",),
    "TC_043_CS": ("local_list_version_stale",),
    "TC_043_2_CS": ("accepts_stale_differential",),
    "TC_008_CS": ("ignores_local_list",),
    "TC_046_1_CS": ("ignores_reservation", "reservation_not_enforced"),
    "TC_048_2_CS": ("reserves_occupied_connector",),
    "TC_047_CS": ("reservation_never_expires",),
    "TC_051_CS": ("cancel_reservation_ignored",),
    "TC_052_CS": ("accepts_unknown_reservation",),
    "TC_054_CS": ("trigger_not_sent",),
    "VGI_TRG_01_CS": ("trigger_not_sent",),
    "TC_055_CS": ("trigger_unknown_connector_accepted",),
    "TC_017_1_CS": ("unlock_fails",),
    "TC_018_1_CS": ("unlock_keeps_transaction",),
    # certificates (vgi_bench/testcases/ocpp16/cp/test_certificates.py; the security profiles'
    # cases are proven in tests/test_ocpp_security_proof.py)
    "TC_074_CS": ("csr_wrong_common_name",),
    "TC_077_CS": ("accepts_foreign_certificate", "invalid_certificate_not_reported"),
    "TC_075_1_CS": ("wrong_certificate_hash",),
    "VGI_SEC_04_CS": ("wrong_certificate_hash",),
    "TC_076_CS": ("delete_certificate_ignored",),
    "VGI_SEC_05_CS": ("delete_unknown_certificate_accepted",),
}


def _run(tmp_path: Path, case_id: str, faults: tuple[str, ...] = ()):
    return run_ocpp_case(tmp_path, SUITE, case_id, "1.6", faults)


def test_case_passes_conformant_cp(tmp_path: Path) -> None:
    """Every case passes against the conformant reference DUT (one CLI run for all)."""
    assert_suite_passes(tmp_path, SUITE, "1.6", CASE_FAULTS)


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
    assert caught == set(CP16_FAULTS), f"no case catches {set(CP16_FAULTS) - caught}"
