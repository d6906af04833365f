"""The V2G draft cases proven both ways, like the charger suite's (see its proof module)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.proof import assert_caught, faults_caught, proof_params, run_case, suite_case_ids
from vgi_bench.cli import collect_cases
from vgi_bench.reference.gbt27930.charger import CHARGER_FAULTS
from vgi_bench.suites import all_suites

SUITE = "gbt27930.v2g-draft"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "V2G.DP.1001": ("v2g_no_cdc",),
    "V2G.DP.1002": ("v2g_exceeds_discharge_limit", "v2g_wrong_sign"),
    "V2G.DN.1001": ("v2g_discharges_without_agreement",),
    "V2G.DN.1002": ("v2g_discharges_without_agreement",),
}


def selector(case_id: str) -> str:
    """The -k expression for a case id (V2G.DP.1001 -> test_v2g_dp1001_...)."""
    return "test_v2g_" + case_id.split(".", 1)[1].replace(".", "").lower() + "_"


@pytest.mark.parametrize(("case_id", "fault"), proof_params(CASE_FAULTS, set(), with_faults=False))
def test_case_passes_conformant_charger(case_id: str, fault: None, tmp_path: Path) -> None:
    outcome = run_case(tmp_path, SUITE, selector(case_id))
    assert outcome.verdict == "passed", f"{case_id}: {outcome.message}\n{outcome.output}"


@pytest.mark.parametrize(("case_id", "fault"), proof_params(CASE_FAULTS, set(), with_faults=True))
def test_case_fails_faulty_charger(case_id: str, fault: str, tmp_path: Path) -> None:
    outcome = run_case(tmp_path, SUITE, selector(case_id), faults=(fault,))
    assert_caught(outcome, case_id, fault)


def test_every_case_has_a_proof() -> None:
    assert suite_case_ids(SUITE) == set(CASE_FAULTS)


def test_every_v2g_fault_is_caught_by_a_case() -> None:
    caught = faults_caught(CASE_FAULTS.values())
    assert caught == {f for f in CHARGER_FAULTS if f.startswith("v2g_")}


def test_draft_cases_are_marked_as_draft() -> None:
    """A draft verdict must never pass for a standard's: every title and clause says so."""
    for _, case_id, clause, title in collect_cases([all_suites()[SUITE].path()]):
        assert title.startswith("[DRAFT]"), case_id
        assert "not a standard" in clause, case_id
