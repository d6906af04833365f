"""OCPP 2.0.1 charging station, functional block A (security profiles 1-3).

These run when the profile's ``[ocpp] security_profile`` is high enough (skipped otherwise):
Basic auth from 1 on, TLS from 2 on. The bench's CSMS uses the profile's ``cert``/``key``;
TC_A_05_CS swaps in a throwaway self-signed certificate the station must refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cases import Measurements, case, check, fail
from bench.ocpp.pki import make_leaf
from fixtures.ocpp.rig import CpRig
from testcases.ocpp201.cp.steps import clause

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
