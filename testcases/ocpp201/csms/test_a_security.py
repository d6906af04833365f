"""OCPP 2.0.1 CSMS, functional block A (security profiles 1/2: HTTP Basic auth).

Run when the profile's ``[ocpp] security_profile`` is 1 or 2 (skipped otherwise). The
bench connects with deliberately wrong credentials; the CSMS must refuse the upgrade.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cases import Measurements, case, fail
from bench.ocpp.cp_role import BenchChargePoint
from bench.ocpp.pki import make_leaf
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
