"""OCPP 1.6J central system: security profiles 1-3 ("Improved security for OCPP 1.6-J").

Run when the profile's ``[ocpp] security_profile`` fits (skipped otherwise, saying so).
The bench connects as the charge point with deliberately wrong credentials (Basic auth,
client certificate) or weak TLS (1.0/1.1 only); the Central System must refuse the
handshake or the upgrade, and (for the TLS cases) accept the profile's own settings
afterwards. The steps are the 2.0.1 block A cases' (:mod:`vgi_bench.testcases.ocpp_security_steps`).
"""

from __future__ import annotations

from pathlib import Path

from vgi_bench.cases import Measurements, case
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases import ocpp_security_steps as steps

WHITEPAPER = "OCPP 1.6 security whitepaper (Improved security for OCPP 1.6-J)"
BASIC_AUTH = f"{WHITEPAPER}, security profile 1/2 (HTTP Basic Authentication)"
OCTT = "OCA OCTT 1.6"
OCTT_201 = "OCA OCTT 2.0.1"


@case("VGI_SEC_01_CSMS", f"{BASIC_AUTH}; as {OCTT} TC_085_CSMS, with another username",
      "Basic Authentication - Username does not equal ChargePointId")  # fmt: skip
def test_vgi_sec_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: Basic auth whose username is not the charge point id in the URL is refused.

    Steps: connect to /<id> with username ``VGI_OTHER`` and the right password.
    Expected: the Central System refuses the websocket upgrade.
    """
    steps.wrong_username_refused(rig)


@case("VGI_SEC_02_CSMS", f"{BASIC_AUTH}; as {OCTT} TC_085_CSMS, with a wrong password",
      "Basic Authentication - Invalid password")  # fmt: skip
def test_vgi_sec_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: Basic auth with a wrong password (AuthorizationKey) is refused.

    Expected: the Central System refuses the websocket upgrade.
    """
    steps.wrong_password_refused(rig)


@case("VGI_SEC_03_CSMS",
      f"{WHITEPAPER}, security profile 3 (TLS client certificate); as {OCTT_201} "
      "TC_A_08_CSMS",
      "TLS - Client-side certificate - Invalid certificate")  # fmt: skip
def test_vgi_sec_03_csms(rig: CsmsRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: with security profile 3 the Central System refuses a client certificate no
    trusted CA signed. Steps: connect with a throwaway self-signed certificate."""
    steps.untrusted_client_cert_refused(rig, tmp_path)


@case("VGI_SEC_04_CSMS",
      f"{WHITEPAPER}, security profile 2/3 (TLS 1.2 or higher); as {OCTT} TC_086_CSMS, "
      "offering only TLS 1.0/1.1",
      "TLS - server-side certificate - TLS version too low")  # fmt: skip
def test_vgi_sec_04_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the Central System refuses a TLS handshake below version 1.2.

    Steps: connect offering only TLS 1.0 and 1.1 (otherwise the profile's credentials);
    then connect as configured (TLS 1.2 or 1.3).
    Expected: the first connection fails (handshake refused); the second is accepted.
    Skipped when this OpenSSL cannot speak TLS 1.1.
    """
    steps.old_tls_refused_by_csms(rig)


@case("VGI_SEC_05_CSMS",
      f"{WHITEPAPER}, security profile 3 (TLS client certificate); as {OCTT_201} "
      "TC_A_08_CSMS, with an expired certificate of the trusted CA",
      "TLS - Client-side certificate - Expired certificate")  # fmt: skip
def test_vgi_sec_05_csms(rig: CsmsRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: with security profile 3 the Central System checks the validity period of
    client certificates.

    Steps: connect with a client certificate for the charge point id signed by the CA that
    issued the profile's ``cert`` that expired a day ago; then with the profile's own
    certificate.
    Expected: the first connection fails; the second is accepted. Skipped without the CA's
    key.
    """
    steps.expired_client_cert_refused(rig, tmp_path)
