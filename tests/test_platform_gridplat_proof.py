"""Every gridplat.platform case proven both ways through the CLI: all pass against the
conformant reference operator platform, and each fails, saying what it expected and what
it saw, against every fault it is written to catch. One CLI run per fault (its cases
together), each on its own free ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.platform_helpers import (
    assert_all_pass,
    assert_fault_caught,
    platform_section,
    run_cases,
    selector,
)
from tests.proof import faults_caught, suite_case_ids
from vgi_bench.reference.platform.gridplat import GRIDPLAT_FAULTS

SUITE = "gridplat.platform"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "GP.A.01": ("no_archive_push", "drops_archive_fields"),
    "GP.R.01": ("late_uploads",),
    "GP.C.01": ("slow_ack",),
    "GP.C.02": ("ignores_regulation", "slow_ramp", "ignores_duration", "no_regulation_result"),
    "GP.C.03": ("no_status_push",),
    "GP.C.04": ("accepts_invalid_command",),
    "GP.M.01": ("rejects_clearing",),
    "GP.M.02": ("no_settlement_ack",),
    "GP.S.01": ("accepts_bad_signature",),
    "GP.S.02": ("accepts_bad_token",),
}


def test_every_case_passes_the_reference_platform(tmp_path: Path) -> None:
    assert_all_pass(tmp_path, SUITE, CASE_FAULTS)


@pytest.mark.parametrize("fault", sorted(GRIDPLAT_FAULTS))
def test_cases_fail_against_the_fault(fault: str, tmp_path: Path) -> None:
    assert_fault_caught(tmp_path, SUITE, CASE_FAULTS, fault)


def test_every_case_has_a_proof() -> None:
    ids = suite_case_ids(SUITE)
    assert ids == set(CASE_FAULTS), f"unproven: {ids ^ set(CASE_FAULTS)}"


def test_every_fault_is_caught_by_a_case() -> None:
    caught = faults_caught(CASE_FAULTS.values())
    assert caught == set(GRIDPLAT_FAULTS), f"no case catches {set(GRIDPLAT_FAULTS) - caught}"


def test_suite_passes_with_the_dut_under_its_own_identity(tmp_path: Path) -> None:
    """The DUT's pushes come under [platform] peer_operator_id, not the bench's."""
    section = platform_section(peer_operator_id="VGIDUTOPER000001",
                               peer_operator_secret="DUTOPSECRET00001")  # fmt: skip
    outcome = run_cases(tmp_path, SUITE, selector(list(CASE_FAULTS)), section=section)
    failed = {c: r["message"] for c, r in outcome.results.items() if r["verdict"] != "passed"}
    assert len(outcome.results) == len(CASE_FAULTS) and not failed, failed or outcome.output
