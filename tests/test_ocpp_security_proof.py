"""The security-profile cases (2.0.1 block A; 1.6 through the security whitepaper) proven
both ways with a throwaway PKI (``cryptography``): security profiles 1 (Basic auth over
ws://), 2 (TLS + Basic auth) and 3 (mutual TLS), for the charge-point and CSMS suites of
both versions (the suite names the version), each run on its own ports; and the weak
material the cases use (TLS 1.0/1.1 only, expired certificates) checked on its own."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from tests.ocpp_helpers import run_ocpp_case, security_keys
from vgi_bench.ocpp.pki import Issued, issuing_ca, make_ca, make_leaf
from vgi_bench.ocpp.security import Security, handshake, old_tls_unavailable

#: (suite, case id, security profile) -> the faults it must catch; the suite (ocpp201.*,
#: ocpp16.*) gives the OCPP version (:func:`version_of`).
SECURITY_CASE_FAULTS: dict[tuple[str, str, int], tuple[str, ...]] = {
    ("ocpp201.cp", "TC_A_01_CS", 1): ("no_basic_auth",),
    ("ocpp201.cp", "TC_A_01_CS", 2): ("no_basic_auth",),
    ("ocpp201.cp", "TC_A_05_CS", 2): ("accepts_any_server_cert",),
    ("ocpp201.csms", "TC_A_02_CSMS", 1): ("ignores_username",),
    ("ocpp201.csms", "TC_A_03_CSMS", 2): ("accepts_any_password",),
    ("ocpp201.cp", "TC_A_07_CS", 3): ("no_client_cert",),
    ("ocpp201.csms", "TC_A_08_CSMS", 3): ("accepts_any_client_cert",),
    ("ocpp201.cp", "TC_A_06_CS", 2): ("accepts_tls_below_1_2",),
    ("ocpp201.cp", "VGI_A_01_CS", 3): ("accepts_expired_server_cert",),
    ("ocpp201.csms", "TC_A_06_CSMS", 2): ("accepts_tls_below_1_2",),
    ("ocpp201.csms", "VGI_A_01_CSMS", 3): ("accepts_expired_client_cert",),
    # changing the Basic auth password (vgi_bench/testcases/ocpp201/cp/test_a_credentials.py,
    # vgi_bench/testcases/ocpp16/cp/test_credentials.py)
    ("ocpp201.cp", "TC_A_09_CS", 1): ("keeps_old_password", "password_change_no_reconnect"),
    ("ocpp201.cp", "TC_A_09_CS", 2): ("keeps_old_password",),
    ("ocpp201.cp", "TC_A_19_CS", 1): ("ignores_network_profile",),
    ("ocpp201.cp", "TC_A_19_CS", 2): ("ignores_network_profile",),
    ("ocpp201.cp", "TC_A_22_CS", 1): ("accepts_security_downgrade",),
    ("ocpp201.cp", "TC_A_22_CS", 3): ("accepts_security_downgrade",),
    ("ocpp16.cp", "TC_073_CS", 1): ("keeps_old_password", "password_change_no_reconnect"),
    ("ocpp16.cp", "TC_073_CS", 2): ("keeps_old_password",),
    # OCPP 1.6J (vgi_bench/testcases/ocpp16/cp/test_security.py,
    # vgi_bench/testcases/ocpp16/csms/test_security.py)
    ("ocpp16.cp", "TC_085_CS", 1): ("no_basic_auth",),
    ("ocpp16.cp", "TC_085_CS", 2): ("no_basic_auth",),
    ("ocpp16.cp", "VGI_SEC_01_CS", 2): ("accepts_any_server_cert",),
    ("ocpp16.cp", "VGI_SEC_02_CS", 2): ("accepts_tls_below_1_2",),
    ("ocpp16.cp", "VGI_SEC_03_CS", 3): ("accepts_expired_server_cert",),
    ("ocpp16.cp", "TC_087_CS", 3): ("no_client_cert",),
    ("ocpp16.csms", "VGI_SEC_01_CSMS", 1): ("ignores_username",),
    ("ocpp16.csms", "VGI_SEC_02_CSMS", 2): ("accepts_any_password",),
    ("ocpp16.csms", "VGI_SEC_03_CSMS", 3): ("accepts_any_client_cert",),
    ("ocpp16.csms", "VGI_SEC_04_CSMS", 2): ("accepts_tls_below_1_2",),
    ("ocpp16.csms", "VGI_SEC_05_CSMS", 3): ("accepts_expired_client_cert",),
}


def version_of(suite: str) -> str:
    """The OCPP version a suite speaks (``ocpp16.*``: 1.6, ``ocpp201.*``: 2.0.1)."""
    return "1.6" if suite.startswith("ocpp16.") else "2.0.1"


def _params(with_faults: bool) -> list:
    params = []
    for (suite, case_id, profile), faults in SECURITY_CASE_FAULTS.items():
        for fault in faults if with_faults else (None,):
            name = f"{case_id}-sp{profile}" + (f"-{fault}" if fault else "")
            params.append(pytest.param(suite, case_id, profile, fault, id=name))
    return params


#: Cases whose bench side speaks TLS 1.1 (skipped, not proven, where OpenSSL cannot).
OLD_TLS_CASES = {"TC_A_06_CS", "TC_A_06_CSMS", "VGI_SEC_02_CS", "VGI_SEC_04_CSMS"}


def _run(tmp_path: Path, suite: str, case_id: str, profile: int, faults: tuple[str, ...] = ()):
    if case_id in OLD_TLS_CASES and old_tls_unavailable():
        pytest.skip(f"{case_id}: {old_tls_unavailable()}")
    keys = security_keys(tmp_path / "pki", profile)
    return run_ocpp_case(tmp_path, suite, case_id, version_of(suite), faults, security=keys)


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


@pytest.mark.parametrize(("suite", "case_id"), [("ocpp201.cp", "TC_A_05_CS"),
                                                ("ocpp16.csms", "VGI_SEC_02_CSMS"),
                                                ("ocpp16.cp", "TC_073_CS")])  # fmt: skip
def test_security_cases_skip_without_security(suite: str, case_id: str, tmp_path: Path) -> None:
    outcome = run_ocpp_case(tmp_path, suite, case_id, version_of(suite))
    assert outcome.verdict == "skipped" and "security_profile" in outcome.message


def test_expired_leaf_and_the_ca_that_signs_it(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    expired = make_leaf(tmp_path / "leaf", "expired", "CP_1", ca, expired=True)
    cert = x509.load_pem_x509_certificate(expired.cert.read_bytes())
    assert cert.not_valid_after_utc < datetime.datetime.now(datetime.timezone.utc)
    assert issuing_ca(expired.cert, ca.cert) == Issued(ca.cert, ca.key)
    with pytest.raises(LookupError, match="did not issue"):
        issuing_ca(expired.cert, make_ca(tmp_path / "other").cert)
    moved = ca.key.rename(tmp_path / "elsewhere.key")  # [ocpp] ca_key names it
    assert issuing_ca(expired.cert, ca.cert, moved) == Issued(ca.cert, moved)
    with pytest.raises(LookupError, match="ca_key"):
        issuing_ca(expired.cert, ca.cert)


def test_conformant_tls_refuses_what_the_faults_accept(tmp_path: Path) -> None:
    """Default settings refuse TLS 1.1 and an expired certificate; ``tls_min`` 1.0 and
    ``check_expiry=False`` (the faulty references) accept them."""
    ca = make_ca(tmp_path)
    good = make_leaf(tmp_path, "good", "CSMS", ca)
    expired = make_leaf(tmp_path, "expired", "CSMS", ca, expired=True)
    client = Security(profile=2, ca_cert=str(ca.cert))
    old_server = Security(profile=2, cert=str(good.cert), key=str(good.key)).old_tls_only()
    expired_server = Security(profile=2, cert=str(expired.cert), key=str(expired.key))

    with pytest.raises(ssl.SSLError, match="expired"):
        handshake(expired_server.server_ssl(), client.client_ssl())
    lax = client.with_(check_expiry=False).client_ssl()
    assert handshake(expired_server.server_ssl(), lax) in ("TLSv1.2", "TLSv1.3")
    if old_tls_unavailable():
        pytest.skip(str(old_tls_unavailable()))
    with pytest.raises(ssl.SSLError):
        handshake(old_server.server_ssl(), client.client_ssl())
    lax = client.with_(tls_min=ssl.TLSVersion.TLSv1).client_ssl()
    assert handshake(old_server.server_ssl(), lax) == "TLSv1.1"
