"""OCPP 1.6J charge point: changing the Basic auth password (security whitepaper).

Runs on security profile 1 or 2 (skipped otherwise, saying so). The bench's Central System
sends a new AuthorizationKey, then expects only that password; afterwards it sends the
profile's ``password`` back so the charge point still fits the profile (best effort, see
:func:`vgi_bench.testcases.ocpp_security_steps.new_password_used`).

Encoding (the bench's reading of the whitepaper): the AuthorizationKey value is the
password's bytes hex-encoded (at least 16 bytes); the charge point decodes it and sends the
decoded password in the Basic auth header. The bench's password is 20 printable ASCII
characters, so its bytes are its characters whichever way a charge point reads them.
"""

from __future__ import annotations

import secrets

from vgi_bench.cases import Measurements, case
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases import ocpp_security_steps as steps
from vgi_bench.testcases.ocpp16.cp.steps import clause
from vgi_bench.testcases.ocpp16.cp.test_security import WHITEPAPER


def set_authorization_key(rig: CpRig, password: str) -> str:
    """ChangeConfiguration AuthorizationKey (hex of the password's UTF-8): its status."""
    change = {"key": "AuthorizationKey", "value": password.encode().hex()}
    return str(expect_result(rig.call("ChangeConfiguration", change)).get("status"))


@case("TC_073_CS", clause(f"{WHITEPAPER}, security profile 1/2 (AuthorizationKey)", "TC_073_CS"),
      "Update Charge Point Password for HTTP Basic Authentication")  # fmt: skip
def test_tc_073_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the charge point takes a new Basic auth password from the Central System and
    uses it.

    Steps: after the boot, ChangeConfiguration AuthorizationKey with a new random 20-byte
    password, hex-encoded (40 hex digits); the bench's Central System then accepts only it.
    Expected: Accepted; the charge point disconnects and its next websocket upgrade carries
    ``Basic base64(<id>:<new password>)``.
    """
    new = "vgi-" + secrets.token_hex(8)
    steps.new_password_used(rig, measurements, new, lambda p: set_authorization_key(rig, p),
                            "ChangeConfiguration AuthorizationKey")  # fmt: skip
