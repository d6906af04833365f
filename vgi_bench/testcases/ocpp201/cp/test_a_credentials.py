"""OCPP 2.0.1 charging station, functional block A: changing the Basic auth password (A01)
and the security profile (A05).

TC_A_09_CS runs on security profile 1 or 2 (skipped otherwise, saying so). The bench's CSMS
sends a new password, then expects only that one; afterwards it sends the profile's
``password`` back so the station still fits the profile (best effort, see
:func:`vgi_bench.testcases.ocpp_security_steps.new_password_used`).

TC_A_19_CS (profile 1 or 2, and the bench's ``cert``/``key``) moves the station one security
profile up: SetNetworkProfile for a free configuration slot with the bench's own address
(``[ocpp] listen``, so not a wildcard address), NetworkConfigurationPriority with that slot
first, Reset. A real station stays at the higher profile afterwards (A05 has no way down),
so the profile must then say so. TC_A_22_CS checks a lower profile is Rejected.
"""

from __future__ import annotations

import secrets
import time

import pytest

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_result, expect_status
from vgi_bench.rigs.ocpp_cp import DUT_CONNECT_TIMEOUT_S, SIM_CONNECT_TIMEOUT_S, CpRig
from vgi_bench.testcases import ocpp_security_steps as steps
from vgi_bench.testcases.ocpp201.cp.steps import clause, set_variable

PRIORITY = ("OCPPCommCtrlr", "NetworkConfigurationPriority")


def set_basic_auth_password(rig: CpRig, password: str) -> str:
    """SetVariables SecurityCtrlr.BasicAuthPassword: its attributeStatus."""
    payload = expect_result(rig.call("SetVariables", {"setVariableData": [{
        "component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"},
        "attributeValue": password,
    }]}))  # fmt: skip
    results = payload.get("setVariableResult") or [{}]
    return str(results[0].get("attributeStatus"))


@case("TC_A_09_CS",
      clause("A01 Update Charging Station Password for HTTP Basic Authentication", "TC_A_09_CS"),
      "Update Charging Station Password for HTTP Basic Authentication - Accepted")  # fmt: skip
def test_tc_a_09_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station takes a new Basic auth password from the CSMS and uses it.

    Steps: after the boot, SetVariables SecurityCtrlr.BasicAuthPassword with a new random
    24-character password (A01: 16-40 characters); the bench's CSMS then accepts only it.
    Expected: attributeStatus Accepted; the station disconnects and its next websocket
    upgrade carries ``Basic base64(<id>:<new password>)`` (A01).
    """
    new = "vgi-" + secrets.token_hex(10)
    steps.new_password_used(rig, measurements, new, lambda p: set_basic_auth_password(rig, p),
                            "SetVariables SecurityCtrlr.BasicAuthPassword")  # fmt: skip


def csms_url(rig: CpRig, profile: int) -> str:
    """The bench's CSMS as ocppCsmsUrl (without the station's identity) for ``profile``."""
    host, port = rig.csms.host, rig.csms.port
    if host in ("", "0.0.0.0", "::"):
        pytest.skip(f"[ocpp] listen is the wildcard address {host!r}: the bench cannot name "
                    "the address the station should reach it at")  # fmt: skip
    host = f"[{host}]" if ":" in host else host
    return f"{'wss' if profile >= 2 else 'ws'}://{host}:{port}"


def free_slot(rig: CpRig) -> tuple[int, str]:
    """(a configuration slot NetworkConfigurationPriority does not name, its value)."""
    payload = expect_result(rig.call("GetVariables", {"getVariableData": [{
        "component": {"name": PRIORITY[0]}, "variable": {"name": PRIORITY[1]},
    }]}))  # fmt: skip
    result = (payload.get("getVariableResult") or [{}])[0]
    value = str(result.get("attributeValue", ""))
    check(result.get("attributeStatus") == "Accepted" and value != "",
          f"GetVariables {'.'.join(PRIORITY)} Accepted with a value",
          f"attributeStatus {result.get('attributeStatus')!r}, value {value!r}")  # fmt: skip
    slots = [int(p) for p in value.split(",") if p.strip().isdigit()]
    return max(slots, default=0) + 1, value


def set_network_profile(rig: CpRig, slot: int, profile: int) -> str:
    """SetNetworkProfile ``slot`` -> the bench's CSMS at security ``profile``: its status."""
    connection = {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": csms_url(rig, profile),
        "messageTimeout": 30, "securityProfile": profile, "ocppInterface": "Wired0",
    }  # fmt: skip
    request = {"configurationSlot": slot, "connectionData": connection}
    return str(expect_result(rig.call("SetNetworkProfile", request)).get("status"))


@case("TC_A_19_CS",
      clause("A05 Upgrade Charging Station Security Profile", "TC_A_19_CS"),
      "Upgrade Charging Station Security Profile - Accepted")  # fmt: skip
def test_tc_a_19_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station moves to a higher security profile when the CSMS asks.

    Steps: after the boot, SetNetworkProfile for a free configuration slot with the bench's
    CSMS at the next security profile (wss://), SetVariables NetworkConfigurationPriority
    with that slot first, Reset Immediate; once the station has disconnected, the bench's
    CSMS listens at the higher profile (TLS with its ``cert``; client certificates on 3).
    Expected: Accepted three times; the station reconnects over TLS 1.2/1.3 at the higher
    profile (its Basic auth still right on 2; its client certificate verified on 3) (A05).
    """
    steps.needs(rig, 1, 2)
    if not (rig.security.cert and rig.security.key):
        pytest.skip("needs [ocpp] cert and key: the bench's CSMS serves TLS at the higher "
                    "profile")  # fmt: skip
    target = rig.security.profile + 1
    rig.boot()
    slot, priority = free_slot(rig)
    status = set_network_profile(rig, slot, target)
    check(status == "Accepted", f"SetNetworkProfile slot {slot}, securityProfile {target} "
          "Accepted", f"status {status!r}")  # fmt: skip
    set_variable(rig, *PRIORITY, f"{slot},{priority}")
    expect_status(rig.call("Reset", {"type": "Immediate"}), "Accepted")
    sent = time.monotonic()
    timeout = SIM_CONNECT_TIMEOUT_S if rig.sim is not None else DUT_CONNECT_TIMEOUT_S
    while rig.csms.session is not None and time.monotonic() - sent < timeout:
        time.sleep(0.02)
    if rig.csms.session is not None:
        fail(f"the station to reboot (disconnect) within {timeout:g} s of Reset Immediate",
             "still connected")  # fmt: skip
    rig.restart_csms(rig.security.with_(profile=target))
    attempt = rig.wait_attempt(timeout)
    if attempt is None:
        fail(f"a reconnection at security profile {target} (TLS) within {timeout:g} s",
             f"no websocket upgrade request (no TLS handshake at profile {target} "
             "completed)")  # fmt: skip
    measurements.record("reconnected_after_s", round(time.monotonic() - sent, 3))
    measurements.record("tls", attempt.tls)
    check(attempt.tls in ("TLSv1.2", "TLSv1.3"), "the reconnection over TLS 1.2 or 1.3",
          f"{attempt.tls}")  # fmt: skip
    check(attempt.refused is None, f"the connection accepted at security profile {target}",
          f"{attempt.refused}")  # fmt: skip


@case("TC_A_22_CS",
      clause("A05 Upgrade Charging Station Security Profile", "TC_A_22_CS"),
      "Upgrade Charging Station Security Profile - Downgrade security profile - "
      "Rejected")  # fmt: skip
def test_tc_a_22_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station refuses a network profile below the security profile in use.

    Steps: after the boot, SetNetworkProfile for a free configuration slot with the bench's
    CSMS at the security profile one below the profile's.
    Expected: status Rejected (A05: the security profile is never lowered this way).
    """
    steps.needs(rig, 1, 2, 3)
    lower = rig.security.profile - 1
    rig.boot()
    slot, _ = free_slot(rig)
    status = set_network_profile(rig, slot, lower)
    check(status == "Rejected", f"SetNetworkProfile slot {slot} with securityProfile {lower} "
          f"(below the {rig.security.profile} in use) Rejected", f"status {status!r}")  # fmt: skip
