"""Every charger case proven both ways: it passes against the conformant reference charger
and fails, saying what it expected and what it saw, against the fault it is written to catch.

The table below is the proof plan; two further tests keep it honest: every case of the
suite is in it, and every named fault of the reference charger is caught by some case.
"""

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
from vgi_bench.reference.gbt27930.charger import CHARGER_FAULTS

SUITE = "gbt27930.charger"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "DP.1001": ("chm_wrong_period",),
    "DP.1002": ("crm_wrong_period",),
    "DP.1003": ("no_crm_aa", "no_cts_for_rts"),
    "DN.1001": ("no_cem_on_brm_timeout",),
    "DN.1002": ("tp_accepts_partial",),
    "DN.1003": ("no_cem_on_brm_timeout",),
    "DN.1004": ("no_cem_on_bcp_timeout",),
    "DP.2001": ("wrong_cml_encoding",),
    "DP.2002": ("cro_before_bro",),
    "DP.2003": ("cro_wrong_period",),
    "DN.2001": ("no_cem_on_bcp_timeout",),
    "DN.2002": ("tp_accepts_partial",),
    "DN.2003": ("no_cem_on_bro_timeout",),
    "DN.2004": ("no_cem_on_bro_timeout",),
    "DN.2005": ("bro_aa_timeout_5s",),
    "DN.2006": ("no_cem_on_bro_timeout",),
    "DN.2007": ("cro_needs_continuous_bro",),
    "DN.2008": ("cro_needs_continuous_bro",),
    "DN.2009": ("cro_needs_continuous_bro",),
    "DN.2010": ("ignores_bcp_mismatch",),
    "DP.3001": ("ccs_wrong_period", "ccs_wrong_length", "ccs_before_bcs"),
    "DP.3002": ("exceeds_bcl_current",),
    "DP.3003": ("ignores_bsm_pause",),
    "DP.3004": ("ignores_bsm_fault", "current_after_cst"),
    "DP.3005": ("pause_limit_60s",),
    "DP.3006": ("rejects_optional_messages",),
    "DP.3007": ("ignores_demand_increase",),
    "DN.3001": ("ccs_before_bcs", "no_cem_on_bcs_timeout"),
    "DN.3002": ("no_cem_on_bcl_timeout",),
    "DN.3003": ("no_cem_on_bcl_timeout",),
    "DN.3004": ("tp_accepts_partial",),
    "DN.3005": ("no_cem_on_bcs_timeout",),
    "DN.3006": ("no_cem_on_bcl_timeout",),
    "DN.3007": ("tp_accepts_partial",),
    "DN.3008": ("accepts_wrong_length",),
    "DN.3009": ("ignores_bcp_current_limit",),
    "DN.3010": ("no_output_limit",),
    "DP.4001": ("ignores_bst", "cst_wrong_period", "cst_stops_before_bsd"),
    "DP.4002": ("no_csd",),
    "DN.4001": ("no_cem_on_bst_timeout",),
    "DN.4002": ("no_cem_on_bsd_timeout", "cst_stops_before_bsd"),
    "DN.4003": ("no_cem_on_bsd_timeout",),
    "DN.4004": ("current_after_bst",),
}

SLOW_CASES = {"DN.2005", "DP.3005"}


def selector(case_id: str) -> str:
    """The -k expression for a case id (test functions are named test_dp1001_...)."""
    return "test_" + case_id.replace(".", "").lower() + "_"


def _timeout(case_id: str) -> float:
    return case_timeout(case_id, SLOW_CASES)


def _params(with_faults: bool) -> list:
    return proof_params(CASE_FAULTS, SLOW_CASES, with_faults=with_faults)


@pytest.mark.parametrize(("case_id", "fault"), _params(False))
def test_case_passes_conformant_charger(case_id: str, fault: None, tmp_path: Path) -> None:
    outcome = run_case(tmp_path, SUITE, selector(case_id), timeout=_timeout(case_id))
    assert outcome.verdict == "passed", f"{case_id}: {outcome.message}\n{outcome.output}"
    assert outcome.exit_code == 0


@pytest.mark.parametrize(("case_id", "fault"), _params(True))
def test_case_fails_faulty_charger(case_id: str, fault: str, tmp_path: Path) -> None:
    outcome = run_case(
        tmp_path, SUITE, selector(case_id), faults=(fault,), timeout=_timeout(case_id)
    )
    assert_caught(outcome, case_id, fault)


def test_every_case_has_a_proof() -> None:
    ids = suite_case_ids(SUITE)
    assert ids == set(CASE_FAULTS), f"unproven: {ids - set(CASE_FAULTS)}"


def test_every_fault_is_caught_by_a_case() -> None:
    caught = faults_caught(CASE_FAULTS.values())
    faults = {f for f in CHARGER_FAULTS if not f.startswith("v2g_")}  # V2G draft: own proof
    assert caught == faults, f"no case catches {faults - caught}"
