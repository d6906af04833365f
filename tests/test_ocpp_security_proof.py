"""The security cases (block A) proven both ways with a throwaway PKI (``cryptography``):
security profiles 1 (Basic auth over ws://), 2 (TLS + Basic auth) and 3 (mutual TLS), for
the charge-point and CSMS suites, each run on its own ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ocpp_helpers import run_ocpp_case, security_keys

#: (suite, case id, security profile) -> the faults it must catch.
SECURITY_CASE_FAULTS: dict[tuple[str, str, int], tuple[str, ...]] = {
    ("ocpp201.cp", "TC_A_01_CS", 1): ("no_basic_auth",),
    ("ocpp201.cp", "TC_A_01_CS", 2): ("no_basic_auth",),
    ("ocpp201.cp", "TC_A_05_CS", 2): ("accepts_any_server_cert",),
    ("ocpp201.csms", "TC_A_02_CSMS", 1): ("ignores_username",),
    ("ocpp201.csms", "TC_A_03_CSMS", 2): ("accepts_any_password",),
    ("ocpp201.cp", "TC_A_07_CS", 3): ("no_client_cert",),
    ("ocpp201.csms", "TC_A_08_CSMS", 3): ("accepts_any_client_cert",),
}


def _params(with_faults: bool) -> list:
    params = []
    for (suite, case_id, profile), faults in SECURITY_CASE_FAULTS.items():
        for fault in faults if with_faults else (None,):
            name = f"{case_id}-sp{profile}" + (f"-{fault}" if fault else "")
            params.append(pytest.param(suite, case_id, profile, fault, id=name))
    return params


def _run(tmp_path: Path, suite: str, case_id: str, profile: int, faults: tuple[str, ...] = ()):
    keys = security_keys(tmp_path / "pki", profile)
    return run_ocpp_case(tmp_path, suite, case_id, "2.0.1", faults, security=keys)


@pytest.mark.parametrize(("suite", "case_id", "profile", "fault"), _params(False))
def test_security_case_passes(suite: str, case_id: str, profile: int, fault: None,
                              tmp_path: Path) -> None:  # fmt: skip
    outcome = _run(tmp_path, suite, case_id, profile)
    assert outcome.verdict == "passed", f"{case_id}: {outcome.message}\n{outcome.output}"


@pytest.mark.parametrize(("suite", "case_id", "profile", "fault"), _params(True))
def test_security_case_fails(suite: str, case_id: str, profile: int, fault: str,
                             tmp_path: Path) -> None:  # fmt: skip
    outcome = _run(tmp_path, suite, case_id, profile, (fault,))
    assert outcome.verdict == "failed", f"{case_id} vs {fault}: {outcome.verdict} {outcome.message}"
    assert outcome.message.startswith("expected ") and "; saw " in outcome.message


def test_security_cases_skip_without_security(tmp_path: Path) -> None:
    outcome = run_ocpp_case(tmp_path, "ocpp201.cp", "TC_A_05_CS", "2.0.1")
    assert outcome.verdict == "skipped" and "security_profile" in outcome.message
