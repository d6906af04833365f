"""Every tcec102.platform case proven both ways through the CLI: all pass against the
conformant reference platform, and each fails, saying what it expected and what it saw,
against every fault it is written to catch. One CLI run per fault (its cases together),
each on its own free ports."""

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
from vgi_bench.reference.platform.tcec102 import TCEC102_FAULTS

SUITE = "tcec102.platform"

#: case id -> the faults it must catch.
CASE_FAULTS: dict[str, tuple[str, ...]] = {
    "TCEC.T.01": ("bad_response_signature",),
    "TCEC.T.02": ("issues_token_to_bad_secret",),
    "TCEC.T.03": ("accepts_unknown_operator",),
    "TCEC.T.04": ("never_expires_tokens",),
    "TCEC.I.01": ("drops_fields",),
    "TCEC.I.02": ("wrong_paging",),
    "TCEC.I.03": ("wrong_status_enum",),
    "TCEC.I.04": ("accepts_bad_business_params",),
    "TCEC.I.05": ("stats_wrong_totals",),
    "TCEC.N.01": ("no_status_notification", "late_notifications"),
    "TCEC.N.02": ("no_retransmission",),
    "TCEC.C.01": ("no_start_result",),
    "TCEC.C.02": ("no_order_notification", "order_money_inconsistent", "ignores_stop"),
    "TCEC.C.03": ("starts_unknown_connector",),
    "TCEC.C.04": ("equip_auth_ignores_unknown",),
    "TCEC.C.05": ("policy_missing_fields",),
    "TCEC.C.06": ("no_stop_result",),
    "TCEC.C.07": ("no_charge_status_push",),
    "TCEC.C.08": ("check_orders_mismatch", "no_order_notification"),
    "TCEC.E.01": ("accepts_bad_signature", "wrong_ret_codes"),
    "TCEC.E.02": ("accepts_bad_token",),
    "TCEC.E.03": ("accepts_malformed_envelope",),
    "TCEC.E.04": ("accepts_malformed_envelope",),
    "TCEC.E.05": ("garbage_on_malformed_json",),
    "TCEC.E.06": ("accepts_bad_business_params",),
    "TCEC.E.07": ("accepts_bad_business_params",),
    "TCEC.E.08": ("accepts_replayed_seq",),
    "TCEC.E.09": ("accepts_oversized_body",),
    "TCEC.E.10": ("token_not_bound_to_operator",),
}


#: Cases that exercise every envelope path both ways: token, queries, the DUT's pushes to
#: the bench, a refused signature, a refused malformed body.
ALGORITHM_CASES = ("TCEC.T.01", "TCEC.I.01", "TCEC.N.01", "TCEC.C.02", "TCEC.E.01", "TCEC.E.05")


def test_every_case_passes_the_reference_platform(tmp_path: Path) -> None:
    assert_all_pass(tmp_path, SUITE, CASE_FAULTS)


@pytest.mark.parametrize("fault", sorted(TCEC102_FAULTS))
def test_cases_fail_against_the_fault(fault: str, tmp_path: Path) -> None:
    assert_fault_caught(tmp_path, SUITE, CASE_FAULTS, fault)


def test_every_case_has_a_proof() -> None:
    ids = suite_case_ids(SUITE)
    assert ids == set(CASE_FAULTS), f"unproven: {ids ^ set(CASE_FAULTS)}"


def test_every_fault_is_caught_by_a_case() -> None:
    caught = faults_caught(CASE_FAULTS.values())
    assert caught == set(TCEC102_FAULTS), f"no case catches {set(TCEC102_FAULTS) - caught}"


@pytest.mark.parametrize(
    "overrides",
    [
        {"cipher": "sm4-cbc", "signature": "hmac-sm3"},
        {
            "cipher": "sm4-cbc",
            "signature": "sm2",
            "sig_secret": "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8",
        },
        {"field_names": {"Ret": "ret", "Msg": "msg", "Data": "data", "Sig": "sig"}},
    ],
    ids=["sm4-hmac-sm3", "sm4-sm2", "lower-case-fields"],
)
def test_suite_passes_with_other_algorithms_and_names(overrides: dict, tmp_path: Path) -> None:
    """Both roles take their algorithms and field names from the profile (a generous
    ack_limit_s: pure-Python SM2 costs ~40 ms of CPU a signature on a loaded machine)."""
    outcome = run_cases(tmp_path, SUITE, selector(list(ALGORITHM_CASES)),
                        section=platform_section(ack_limit_s=5.0, **overrides))  # fmt: skip
    failed = {c: r["message"] for c, r in outcome.results.items() if r["verdict"] != "passed"}
    assert len(outcome.results) == len(ALGORITHM_CASES) and not failed, failed or outcome.output
