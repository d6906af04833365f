"""OCPP 2.0.1 CSMS, functional block A (security profiles 1-3).

Run when the profile's ``[ocpp] security_profile`` fits (skipped otherwise). The bench
connects with deliberately wrong credentials (Basic auth, client certificate) or weak TLS
(1.0/1.1 only); the CSMS must refuse the handshake or the upgrade.
"""

from __future__ import annotations

from pathlib import Path

from vgi_bench.cases import Measurements, case
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases import ocpp_security_steps as steps
from vgi_bench.testcases.ocpp201.csms.test_csms import clause

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
    steps.wrong_username_refused(rig)


@case("TC_A_03_CSMS", clause(BASIC_AUTH, "TC_A_03_CSMS"), "Basic Authentication - Invalid password")
def test_tc_a_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: Basic auth with a wrong password is refused (A00)."""
    steps.wrong_password_refused(rig)


@case("TC_A_08_CSMS", clause("A00 Security profile 3 (TLS client certificate)", "TC_A_08_CSMS"),
      "TLS - Client-side certificate - Invalid certificate")  # fmt: skip
def test_tc_a_08_csms(rig: CsmsRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: with security profile 3 the CSMS refuses a client certificate no trusted CA
    signed (A00). Steps: connect with a throwaway self-signed certificate."""
    steps.untrusted_client_cert_refused(rig, tmp_path)


@case("TC_A_06_CSMS", clause("A00 Security profile 2/3 (TLS 1.2 or higher)", "TC_A_06_CSMS"),
      "TLS - server-side certificate - TLS version too low")  # fmt: skip
def test_tc_a_06_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the CSMS refuses a TLS handshake below version 1.2 (A00: TLS 1.2 or above).

    Steps: connect offering only TLS 1.0 and 1.1 (otherwise the profile's credentials);
    then connect as configured (TLS 1.2 or 1.3).
    Expected: the first connection fails (handshake refused); the second is accepted.
    Skipped when this OpenSSL cannot speak TLS 1.1.
    """
    steps.old_tls_refused_by_csms(rig)


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
    steps.expired_client_cert_refused(rig, tmp_path)
