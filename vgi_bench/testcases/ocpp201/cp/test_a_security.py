"""OCPP 2.0.1 charging station, functional block A (security profiles 1-3).

These run when the profile's ``[ocpp] security_profile`` is high enough (skipped otherwise):
Basic auth from 1 on, TLS from 2 on. The bench's CSMS uses the profile's ``cert``/``key``;
TC_A_05_CS swaps in a throwaway self-signed certificate the station must refuse, TC_A_06_CS
offers only TLS 1.0/1.1 and VGI_A_01_CS presents an expired certificate signed by the CA
that issued ``cert`` (its key: ``[ocpp] ca_key``, else next to ``ca_cert``; see
:func:`vgi_bench.ocpp.pki.issuing_ca`).
"""

from __future__ import annotations

from pathlib import Path

from vgi_bench.cases import Measurements, case
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases import ocpp_security_steps as steps
from vgi_bench.testcases.ocpp201.cp.steps import OCTT, clause


@case("TC_A_01_CS", clause("A00 Security profile 1/2 (HTTP Basic Authentication)", "TC_A_01_CS"),
      "Basic Authentication - Valid username/password combination")  # fmt: skip
def test_tc_a_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station authenticates with HTTP Basic auth at the websocket upgrade.

    Expected: an Authorization header ``Basic base64(<id>:<password>)`` whose username is
    the charge point id of the URL and whose password is the configured one (A00).
    """
    steps.basic_auth_sent(rig, measurements)


@case("TC_A_05_CS", clause("A00 Security profile 2/3 (TLS server certificate)", "TC_A_05_CS"),
      "TLS - server-side certificate - Invalid certificate")  # fmt: skip
def test_tc_a_05_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station refuses a CSMS whose certificate no trusted CA signed.

    Steps: the bench's CSMS presents a self-signed certificate for 127.0.0.1.
    Expected: no websocket connection (no upgrade request) within 5 s (A00).
    """
    steps.untrusted_server_cert_refused(rig, tmp_path)


@case("TC_A_06_CS", clause("A00 Security profile 2/3 (TLS 1.2 or higher)", "TC_A_06_CS"),
      "TLS - server-side certificate - TLS version too low")  # fmt: skip
def test_tc_a_06_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station refuses a CSMS that offers only TLS below 1.2.

    Steps: the bench's CSMS (its configured certificate) offers only TLS 1.0 and 1.1 for
    5 s, then TLS 1.2 and 1.3 again.
    Expected: no websocket upgrade request over TLS 1.0/1.1; then the station connects over
    TLS 1.2 or 1.3 (A00: TLS 1.2 or above). Skipped when this OpenSSL cannot speak TLS 1.1.
    """
    steps.old_tls_refused(rig, measurements)


@case("VGI_A_01_CS",
      f"OCPP 2.0.1 Part 2 A00 Security profile 2/3 (TLS server certificate); as {OCTT} "
      "TC_A_05_CS, with an expired certificate of the trusted CA",
      "TLS - server-side certificate - Expired certificate")  # fmt: skip
def test_vgi_a_01_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station checks the validity period of the CSMS certificate.

    Steps: the bench's CSMS presents a certificate for 127.0.0.1 signed by the CA that
    issued the profile's ``cert`` (so trusted by the station) that expired a day ago, for
    5 s; then its configured certificate again.
    Expected: no websocket upgrade request with the expired certificate; then the station
    connects (A00: the server certificate must be valid). Skipped without the CA's key.
    """
    steps.expired_server_cert_refused(rig, measurements, tmp_path)


@case("TC_A_07_CS", clause("A00 Security profile 3 (TLS client certificate)", "TC_A_07_CS"),
      "TLS - Client-side certificate - valid certificate")  # fmt: skip
def test_tc_a_07_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with security profile 3 the station authenticates with its certificate.

    Expected: a TLS (>= 1.2) connection on which the station presented a client
    certificate the bench's CA verifies, and the websocket upgrade (A00).
    """
    steps.client_cert_presented(rig, measurements)
