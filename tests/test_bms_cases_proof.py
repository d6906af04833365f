"""Every BMS case proven both ways: it passes against the conformant reference BMS and
fails, saying what it expected and what it saw, against the fault it is written to catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.proof import (
    assert_caught,
    case_timeout,
    faults_caught,
    proof_params,
    run_case,
    suite_case_ids,
)
from tests.test_charger_cases_proof import selector
from vgi_bench.reference.gbt27930.bms import BMS_FAULTS

SUITE = "gbt27930.bms"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "BP.1001": ("bhm_wrong_period",),
    "BP.1002": ("brm_bad_version",),
    "BP.1003": ("tp_ignores_flow_control",),
    "BN.1001": ("no_bem_on_crm_aa_timeout",),
    "BN.1002": ("tp_ignores_flow_control",),
    "BN.1003": ("tp_ignores_flow_control",),
    "BN.1004": ("tp_ignores_flow_control",),
    "BP.2001": ("bcp_inconsistent",),
    "BP.2002": ("bro_wrong_period",),
    "BN.2001": ("no_bem_on_cml_timeout",),
    "BN.2002": ("no_bem_on_cro_timeout",),
    "BN.2003": ("cro_aa_timeout_5s",),
    "BP.3001": ("bcl_wrong_period", "bsm_wrong_length"),
    "BP.3002": ("bcl_exceeds_bcp",),
    "BN.3001": ("no_bem_on_ccs_timeout",),
    "BP.4001": ("bst_wrong_period", "no_bsd"),
    "BP.4002": ("bst_no_charger_stopped",),
    "BN.4001": ("no_bem_on_cst_timeout",),
    "BN.4002": ("no_bem_on_csd_timeout",),
    "BN.4003": ("no_reconnect", "reconnects_forever"),
}

SLOW_CASES = {"BN.2003"}


def _timeout(case_id: str) -> float:
    return case_timeout(case_id, SLOW_CASES)


def _params(with_faults: bool) -> list:
    return proof_params(CASE_FAULTS, SLOW_CASES, with_faults=with_faults)


@pytest.mark.parametrize(("case_id", "fault"), _params(False))
def test_case_passes_conformant_bms(case_id: str, fault: None, tmp_path: Path) -> None:
    outcome = run_case(tmp_path, SUITE, selector(case_id), timeout=_timeout(case_id))
    assert outcome.verdict == "passed", f"{case_id}: {outcome.message}\n{outcome.output}"
    assert outcome.exit_code == 0


@pytest.mark.parametrize(("case_id", "fault"), _params(True))
def test_case_fails_faulty_bms(case_id: str, fault: str, tmp_path: Path) -> None:
    outcome = run_case(
        tmp_path, SUITE, selector(case_id), faults=(fault,), timeout=_timeout(case_id)
    )
    assert_caught(outcome, case_id, fault)


def test_every_case_has_a_proof() -> None:
    ids = suite_case_ids(SUITE)
    assert ids == set(CASE_FAULTS), f"unproven: {ids - set(CASE_FAULTS)}"


def test_every_fault_is_caught_by_a_case() -> None:
    caught = faults_caught(CASE_FAULTS.values())
    assert caught == set(BMS_FAULTS), f"no case catches {set(BMS_FAULTS) - caught}"
