"""OCPP 2.0.1 charging station, functional block A (security profiles 1-3).

These run when the profile's ``[ocpp] security_profile`` is high enough (skipped otherwise):
Basic auth from 1 on, TLS from 2 on. The bench's CSMS uses the profile's ``cert``/``key``;
TC_A_05_CS swaps in a throwaway self-signed certificate the station must refuse, TC_A_06_CS
offers only TLS 1.0/1.1 and VGI_A_01_CS presents an expired certificate signed by the CA
that issued ``cert`` (its key: ``[ocpp] ca_key``, else next to ``ca_cert``; see
:func:`bench.ocpp.pki.issuing_ca`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cases import Measurements, case, check, fail
from bench.ocpp.pki import issuing_ca, make_leaf
from bench.ocpp.security import Security, old_tls_unavailable
from fixtures.ocpp.rig import DUT_CONNECT_TIMEOUT_S, SIM_CONNECT_TIMEOUT_S, CpRig
from testcases.ocpp201.cp.steps import OCTT, clause

NO_CONNECTION_S = 5.0


def _needs(rig: CpRig, *profiles: int) -> None:
    if rig.security.profile not in profiles:
        pytest.skip(f"needs [ocpp] security_profile in {profiles}, "
                    f"the profile has {rig.security.profile}")  # fmt: skip


@case("TC_A_01_CS", clause("A00 Security profile 1/2 (HTTP Basic Authentication)", "TC_A_01_CS"),
      "Basic Authentication - Valid username/password combination")  # fmt: skip
def test_tc_a_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station authenticates with HTTP Basic auth at the websocket upgrade.

    Expected: an Authorization header ``Basic base64(<id>:<password>)`` whose username is
    the charge point id of the URL and whose password is the configured one (A00).
    """
    _needs(rig, 1, 2)
    rig.start_dut()
    attempt = rig.wait_attempt(10)
    if attempt is None:
        fail("a websocket upgrade request within 10 s", "none")
    measurements.record("tls", attempt.tls)
    check(attempt.refused is None,
          f"Basic auth as {rig.security.charge_point_id} with the configured password",
          attempt.refused or "")  # fmt: skip


@case("TC_A_05_CS", clause("A00 Security profile 2/3 (TLS server certificate)", "TC_A_05_CS"),
      "TLS - server-side certificate - Invalid certificate")  # fmt: skip
def test_tc_a_05_cs(rig: CpRig, measurements: Measurements, tmp_path: Path) -> None:
    """Purpose: the station refuses a CSMS whose certificate no trusted CA signed.

    Steps: the bench's CSMS presents a self-signed certificate for 127.0.0.1.
    Expected: no websocket connection (no upgrade request) within 5 s (A00).
    """
    _needs(rig, 2, 3)
    rogue = make_leaf(tmp_path / "rogue", "rogue", "vgi-bench rogue CSMS")
    rig.restart_csms(rig.security.with_(cert=str(rogue.cert), key=str(rogue.key)))
    rig.start_dut()
    attempt = rig.wait_attempt(NO_CONNECTION_S)
    if attempt is not None:
        fail("no connection to a CSMS with an untrusted certificate",
             f"websocket upgrade request over {attempt.tls} ({attempt.path})")  # fmt: skip


def _refuses_then_connects(rig: CpRig, measurements: Measurements, weak: Security,
                           what: str) -> None:  # fmt: skip
    """The bench's CSMS with ``weak`` settings: no upgrade request within 5 s; then with the
    profile's settings again: the station connects over TLS >= 1.2 (it is alive and was
    refusing ``what``, not the bench)."""
    rig.restart_csms(weak)
    rig.start_dut()
    attempt = rig.wait_attempt(NO_CONNECTION_S)
    if attempt is not None:
        measurements.record("tls", attempt.tls)
        fail(f"no connection to a CSMS with {what}",
             f"websocket upgrade request over {attempt.tls} ({attempt.path})")  # fmt: skip
    rig.restart_csms(rig.security)
    timeout = SIM_CONNECT_TIMEOUT_S if rig.sim is not None else DUT_CONNECT_TIMEOUT_S
    attempt = rig.wait_attempt(timeout)
    if attempt is None:
        fail(f"a connection within {timeout:g} s once the bench's CSMS is conformant again",
             "no websocket upgrade request")  # fmt: skip
    measurements.record("tls", attempt.tls)
    check(attempt.tls in ("TLSv1.2", "TLSv1.3"), "the reconnection over TLS 1.2 or 1.3",
          f"{attempt.tls}")  # fmt: skip


@case("TC_A_06_CS", clause("A00 Security profile 2/3 (TLS 1.2 or higher)", "TC_A_06_CS"),
      "TLS - server-side certificate - TLS version too low")  # fmt: skip
def test_tc_a_06_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station refuses a CSMS that offers only TLS below 1.2.

    Steps: the bench's CSMS (its configured certificate) offers only TLS 1.0 and 1.1 for
    5 s, then TLS 1.2 and 1.3 again.
    Expected: no websocket upgrade request over TLS 1.0/1.1; then the station connects over
    TLS 1.2 or 1.3 (A00: TLS 1.2 or above). Skipped when this OpenSSL cannot speak TLS 1.1.
    """
    _needs(rig, 2, 3)
    unavailable = old_tls_unavailable()
    if unavailable:
        pytest.skip(f"the bench cannot offer TLS 1.1 to the station: {unavailable}")
    _refuses_then_connects(rig, measurements, rig.security.old_tls_only(), "only TLS 1.0/1.1")


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
    _needs(rig, 2, 3)
    try:
        ca = issuing_ca(rig.security.cert, rig.security.ca_cert, rig.security.ca_key)
    except LookupError as exc:
        pytest.skip(f"cannot sign an expired certificate the station trusts: {exc}")
    expired = make_leaf(tmp_path / "expired", "expired", "vgi-bench expired CSMS", ca,
                        expired=True)  # fmt: skip
    measurements.record("certificate", "signed by the trusted CA, expired a day ago")
    weak = rig.security.with_(cert=str(expired.cert), key=str(expired.key))
    _refuses_then_connects(rig, measurements, weak, "an expired certificate")


@case("TC_A_07_CS", clause("A00 Security profile 3 (TLS client certificate)", "TC_A_07_CS"),
      "TLS - Client-side certificate - valid certificate")  # fmt: skip
def test_tc_a_07_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with security profile 3 the station authenticates with its certificate.

    Expected: a TLS (>= 1.2) connection on which the station presented a client
    certificate the bench's CA verifies, and the websocket upgrade (A00).
    """
    _needs(rig, 3)
    rig.start_dut()
    attempt = rig.wait_attempt(10)
    if attempt is None:
        fail("a TLS connection with a client certificate the CA verifies, within 10 s",
             "no websocket upgrade (TLS handshake refused)")  # fmt: skip
    measurements.record("tls", attempt.tls)
    check(attempt.tls in ("TLSv1.2", "TLSv1.3"), "TLS 1.2 or 1.3", f"{attempt.tls}")
