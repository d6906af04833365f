"""OCPP 1.6J charge point: security profiles 1-3 ("Improved security for OCPP 1.6-J").

These run when the profile's ``[ocpp] security_profile`` fits (skipped otherwise, saying
so): Basic auth (``<charge point id>:<AuthorizationKey>``) on profiles 1/2, TLS >= 1.2 with
the Central System's certificate on 2/3, a client certificate on 3. The bench's Central
System uses the profile's ``cert``/``key``; VGI_SEC_01_CS swaps in a throwaway self-signed
certificate the charge point must refuse, VGI_SEC_02_CS offers only TLS 1.0/1.1 and
VGI_SEC_03_CS presents an expired certificate signed by the CA that issued ``cert`` (its
key: ``[ocpp] ca_key``, else next to ``ca_cert``). The steps are the 2.0.1 block A cases'
(:mod:`vgi_bench.testcases.ocpp_security_steps`).
"""

from __future__ import annotations

from pathlib import Path

from vgi_bench.cases import Measurements, case
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases import ocpp_security_steps as steps
from vgi_bench.testcases.ocpp16.cp.steps import OCTT, clause

WHITEPAPER = "security whitepaper (Improved security for OCPP 1.6-J)"


@case("TC_085_CS", clause(f"{WHITEPAPER}, security profile 1/2 (HTTP Basic Authentication)",
                          "TC_085_CS"),
      "Basic Authentication - Valid username/password combination")  # fmt: skip
def test_tc_085_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the charge point authenticates with HTTP Basic auth at the websocket upgrade.

    Expected: an Authorization header ``Basic base64(<id>:<password>)`` whose username is
    the charge point id of the URL and whose password is the configured AuthorizationKey.
    """
    steps.basic_auth_sent(rig, measurements)


@case("VGI_SEC_01_CS",
      f"OCPP 1.6 {WHITEPAPER}, security profile 2/3 (TLS server certificate); as {OCTT} "
      "TC_086_CS, with a certificate no trusted CA signed",
      "TLS - server-side certificate - Invalid certificate")  # fmt: skip
def test_vgi_sec_01_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point refuses a Central System whose certificate no trusted CA
    signed.

    Steps: the bench's Central System presents a self-signed certificate for 127.0.0.1.
    Expected: no websocket connection (no upgrade request) within 5 s.
    """
    steps.untrusted_server_cert_refused(rig, tmp_path)


@case("VGI_SEC_02_CS",
      f"OCPP 1.6 {WHITEPAPER}, security profile 2/3 (TLS 1.2 or higher); as {OCTT} "
      "TC_086_CS, offering only TLS 1.0/1.1",
      "TLS - server-side certificate - TLS version too low")  # fmt: skip
def test_vgi_sec_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the charge point refuses a Central System that offers only TLS below 1.2.

    Steps: the bench's Central System (its configured certificate) offers only TLS 1.0 and
    1.1 for 5 s, then TLS 1.2 and 1.3 again.
    Expected: no websocket upgrade request over TLS 1.0/1.1; then the charge point connects
    over TLS 1.2 or 1.3. Skipped when this OpenSSL cannot speak TLS 1.1.
    """
    steps.old_tls_refused(rig, measurements)


@case("VGI_SEC_03_CS",
      f"OCPP 1.6 {WHITEPAPER}, security profile 2/3 (TLS server certificate); as {OCTT} "
      "TC_086_CS, with an expired certificate of the trusted CA",
      "TLS - server-side certificate - Expired certificate")  # fmt: skip
def test_vgi_sec_03_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the charge point checks the validity period of the Central System's
    certificate.

    Steps: the bench's Central System presents a certificate for 127.0.0.1 signed by the CA
    that issued the profile's ``cert`` that expired a day ago, for 5 s; then its configured
    certificate again.
    Expected: no websocket upgrade request with the expired certificate; then the charge
    point connects. Skipped without the CA's key.
    """
    steps.expired_server_cert_refused(rig, measurements, tmp_path)


@case("TC_087_CS", clause(f"{WHITEPAPER}, security profile 3 (TLS client certificate)",
                          "TC_087_CS"),
      "TLS - Client-side certificate - valid certificate")  # fmt: skip
def test_tc_087_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with security profile 3 the charge point authenticates with its certificate.

    Expected: a TLS (>= 1.2) connection on which the charge point presented a client
    certificate the bench's CA verifies, and the websocket upgrade.
    """
    steps.client_cert_presented(rig, measurements)
