"""OCPP 2.0.1 CSMS, functional block A (security profiles 1-3).

Run when the profile's ``[ocpp] security_profile`` fits (skipped otherwise). The bench
connects with deliberately wrong credentials (Basic auth, client certificate) or weak TLS
(1.0/1.1 only); the CSMS must refuse the handshake or the upgrade.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cases import Measurements, case, fail
from bench.ocpp.cp_role import BenchChargePoint
from bench.ocpp.pki import issuing_ca, make_leaf
from bench.ocpp.security import old_tls_unavailable
from fixtures.ocpp.csms_rig import CsmsRig
from testcases.ocpp201.csms.test_csms import clause


def _needs_basic_auth(rig: CsmsRig) -> None:
    if rig.cp.security.profile not in (1, 2):
        pytest.skip(f"needs [ocpp] security_profile 1 or 2, the profile has "
                    f"{rig.cp.security.profile}")  # fmt: skip


def _expect_refused(rig: CsmsRig, what: str, **security: object) -> None:
    intruder = BenchChargePoint(
        rig.loop, rig.version, rig.cp.url, rig.log, security=rig.cp.security.with_(**security)
    )
    try:
        intruder.connect(timeout=5)
    except Exception as exc:  # websockets' InvalidStatus (401/403), a closed socket...
        rig.measurements.record("refusal", f"{type(exc).__name__}: {exc}")
        return
    intruder.close()
    fail(f"the CSMS to refuse a connection with {what}", "the websocket upgrade succeeded")


BASIC_AUTH = "A00 Security profile 1/2 (HTTP Basic Authentication)"


@case(
    "TC_A_02_CSMS",
    clause(BASIC_AUTH, "TC_A_02_CSMS"),
    "Basic Authentication - Username does not equal ChargingStationId",
)
def test_tc_a_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: Basic auth whose username is not the id in the URL is refused (A00).

    Steps: connect to /<id> with username ``VGI_OTHER`` and the right password.
    """
    _needs_basic_auth(rig)
    _expect_refused(rig, "username VGI_OTHER on the URL of another id",
                    charge_point_id="VGI_OTHER")  # fmt: skip


@case("TC_A_03_CSMS", clause(BASIC_AUTH, "TC_A_03_CSMS"), "Basic Authentication - Invalid password")
def test_tc_a_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: Basic auth with a wrong password is refused (A00)."""
    _needs_basic_auth(rig)
    _expect_refused(rig, "a wrong password", password="vgi-bench-wrong-password")


@case("TC_A_08_CSMS", clause("A00 Security profile 3 (TLS client certificate)", "TC_A_08_CSMS"),
      "TLS - Client-side certificate - Invalid certificate")  # fmt: skip
def test_tc_a_08_csms(rig: CsmsRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: with security profile 3 the CSMS refuses a client certificate no trusted CA
    signed (A00). Steps: connect with a throwaway self-signed certificate."""
    if rig.cp.security.profile != 3:
        pytest.skip(f"needs [ocpp] security_profile 3, the profile has {rig.cp.security.profile}")
    rogue = make_leaf(tmp_path / "rogue", "rogue", rig.cp.security.charge_point_id)
    _expect_refused(rig, "a self-signed client certificate", cert=str(rogue.cert),
                    key=str(rogue.key))  # fmt: skip


def _then_accepted(rig: CsmsRig) -> None:
    """The CSMS accepts the bench with the profile's own settings (it refused the weak
    attempt, not everything)."""
    rig.connect()
    rig.measurements.record("then", "accepted the profile's own settings")


@case("TC_A_06_CSMS", clause("A00 Security profile 2/3 (TLS 1.2 or higher)", "TC_A_06_CSMS"),
      "TLS - server-side certificate - TLS version too low")  # fmt: skip
def test_tc_a_06_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the CSMS refuses a TLS handshake below version 1.2 (A00: TLS 1.2 or above).

    Steps: connect offering only TLS 1.0 and 1.1 (otherwise the profile's credentials);
    then connect as configured (TLS 1.2 or 1.3).
    Expected: the first connection fails (handshake refused); the second is accepted.
    Skipped when this OpenSSL cannot speak TLS 1.1.
    """
    security = rig.cp.security
    if security.profile not in (2, 3):
        pytest.skip(f"needs [ocpp] security_profile 2 or 3, the profile has {security.profile}")
    unavailable = old_tls_unavailable()
    if unavailable:
        pytest.skip(f"the bench cannot offer TLS 1.1 to the CSMS: {unavailable}")
    old = security.old_tls_only()
    _expect_refused(rig, "only TLS 1.0/1.1 offered", tls_min=old.tls_min, tls_max=old.tls_max)
    _then_accepted(rig)


@case("VGI_A_01_CSMS",
      "OCPP 2.0.1 Part 2 A00 Security profile 3 (TLS client certificate); as OCA OCTT 2.0.1 "
      "TC_A_08_CSMS, with an expired certificate of the trusted CA",
      "TLS - Client-side certificate - Expired certificate")  # fmt: skip
def test_vgi_a_01_csms(rig: CsmsRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: with security profile 3 the CSMS checks the validity period of client
    certificates (A00).

    Steps: connect with a client certificate for the charge point id signed by the CA that
    issued the profile's ``cert`` (its key next to ``ca_cert``) that expired a day ago;
    then with the profile's own certificate.
    Expected: the first connection fails; the second is accepted. Skipped without the CA's
    key.
    """
    security = rig.cp.security
    if security.profile != 3:
        pytest.skip(f"needs [ocpp] security_profile 3, the profile has {security.profile}")
    try:
        ca = issuing_ca(security.cert, security.ca_cert, security.ca_key)
    except LookupError as exc:
        pytest.skip(f"cannot sign an expired certificate the CSMS trusts: {exc}")
    expired = make_leaf(tmp_path / "expired", "expired", security.charge_point_id, ca,
                        expired=True)  # fmt: skip
    _expect_refused(rig, "an expired client certificate of the trusted CA",
                    cert=str(expired.cert), key=str(expired.key))  # fmt: skip
    _then_accepted(rig)
