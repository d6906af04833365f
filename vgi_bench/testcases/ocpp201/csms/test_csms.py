"""OCPP 2.0.1 CSMS under test; the bench plays the charging station.

Cases carry OCTT ``_CSMS`` ids; the bench's own ids (``VGI_...``) cover the heartbeat and
the OCPP-J error paths, which OCTT does not test on its own.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.ocpp.csms_handlers import UNKNOWN_TOKEN, VALID_TOKEN, now_iso
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases.ocpp_csms_steps import (
    heartbeat_in_time,
    invalid_payload,
    malformed_frame,
    unknown_action,
)

STATION = {"model": "VGI-BENCH-CS", "vendorName": "vgi-bench"}
PART4 = "OCPP 2.0.1 Part 4 (OCPP-J) §4.2.3 CALLERROR"


def clause(use_case: str, case_id: str) -> str:
    return f"OCPP 2.0.1 Part 2 {use_case}; OCA OCTT 2.0.1 {case_id}"


def _token(token: str) -> dict:
    return {"idToken": token, "type": "ISO14443"}


def booted(rig: CsmsRig) -> dict:
    rig.connect()
    return expect_result(rig.call("BootNotification", {"reason": "PowerUp",
                                                       "chargingStation": STATION}))  # fmt: skip


@case("TC_B_01_CSMS", clause("B01 Cold Boot Charging Station", "TC_B_01_CSMS"),
      "Cold Boot Charging Station - Accepted")  # fmt: skip
def test_tc_b_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the CSMS registers a booting station.

    Expected:
    1. BootNotificationResponse valid against its schema, status Accepted, interval > 0 (B01).
    2. StatusNotificationResponse to the connector's Available (B01, G01).
    """
    boot = booted(rig)
    check(boot.get("status") == "Accepted", "status Accepted", f"{boot.get('status')!r}")
    check(boot.get("interval", 0) > 0, "a heartbeat interval > 0", f"{boot.get('interval')!r}")
    status = {"timestamp": now_iso(), "connectorStatus": "Available", "evseId": 1,
              "connectorId": 1}  # fmt: skip
    expect_result(rig.call("StatusNotification", status))


@case("VGI_G02_01_CSMS", "OCPP 2.0.1 Part 2 G02 Heartbeat",
      "Heartbeat answered in time with the CSMS's clock")  # fmt: skip
def test_vgi_g02_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the CSMS answers Heartbeat promptly with its current time.

    Expected: HeartbeatResponse within 5 s; currentTime an RFC 3339 date-time (schema)
    within 60 s of UTC (G02: the station may synchronise its clock from it).
    """
    booted(rig)
    heartbeat_in_time(rig, measurements)


@case("TC_C_02_CSMS", clause("C01 EV Driver Authorization using RFID", "TC_C_02_CSMS"),
      "Local start transaction - Authorization Invalid/Unknown")  # fmt: skip
def test_tc_c_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: an idToken the CSMS does not know is not accepted.

    Expected: AuthorizeResponse idTokenInfo.status other than Accepted (C01).
    """
    booted(rig)
    reply = expect_result(rig.call("Authorize", {"idToken": _token(UNKNOWN_TOKEN)}))
    status = reply.get("idTokenInfo", {}).get("status")
    check(status != "Accepted", f"idTokenInfo.status not Accepted for {UNKNOWN_TOKEN}",
          f"{status!r}")  # fmt: skip


@case("TC_E_03_CSMS", clause("E02 Start Transaction - Cable Plugin First", "TC_E_03_CSMS"),
      "Local start transaction - Cable plugin first - Success")  # fmt: skip
def test_tc_e_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the CSMS follows a transaction from plug-in to the end.

    Steps: StatusNotification Occupied; Authorize; TransactionEvent Started
    (CablePluggedIn), Updated (Authorized, with idToken), Updated (meter values), Ended.
    Expected: AuthorizeResponse Accepted for the known idToken; every answer valid; the
    answer to an event carrying an idToken carries idTokenInfo Accepted (E02, E03).
    """
    booted(rig)
    expect_result(rig.call("StatusNotification", {"timestamp": now_iso(),
                  "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}))  # fmt: skip
    auth = expect_result(rig.call("Authorize", {"idToken": _token(VALID_TOKEN)}))
    status = auth.get("idTokenInfo", {}).get("status")
    check(status == "Accepted", f"Authorize Accepted for {VALID_TOKEN}", f"{status!r}")
    tx = {"transactionId": "VGI-TX-0001"}
    meter = [{"timestamp": now_iso(), "sampledValue": [{"value": 10.0}]}]
    events = [
        ("Started", "CablePluggedIn", {"chargingState": "EVConnected"}, None),
        ("Updated", "Authorized", {"chargingState": "Charging"}, _token(VALID_TOKEN)),
        ("Updated", "MeterValuePeriodic", {"chargingState": "Charging"}, None),
        ("Ended", "StopAuthorized", {"stoppedReason": "Local"}, _token(VALID_TOKEN)),
    ]
    for seq, (event, trigger, info, token) in enumerate(events):
        payload = {"eventType": event, "timestamp": now_iso(), "triggerReason": trigger,
                   "seqNo": seq, "transactionInfo": {**tx, **info}, "evse": {"id": 1,
                   "connectorId": 1}, "meterValue": meter}  # fmt: skip
        if token:
            payload["idToken"] = token
        reply = expect_result(rig.call("TransactionEvent", payload))
        if token:
            status = reply.get("idTokenInfo", {}).get("status")
            check(status == "Accepted",
                  f"idTokenInfo Accepted in the answer to TransactionEvent {event} ({trigger})",
                  f"{reply}")  # fmt: skip


@case("VGI_RPC_01_CSMS", f"{PART4}, §4.3 (NotImplemented)",
      "Unknown action answered with CALLERROR NotImplemented")  # fmt: skip
def test_vgi_rpc_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a CALL with an unknown action gets NotImplemented (not NotSupported)."""
    booted(rig)
    unknown_action(rig)


@case("VGI_RPC_02_CSMS", f"{PART4} (RpcFrameworkError)",
      "Malformed frame answered with CALLERROR, connection kept")  # fmt: skip
def test_vgi_rpc_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a frame that is not JSON is answered with a CALLERROR; the CSMS goes on."""
    booted(rig)
    malformed_frame(rig, "Heartbeat", {})


@case("VGI_RPC_03_CSMS", f"{PART4}, §4.3 (payload errors)",
      "Schema-invalid CALL answered with a payload CALLERROR")  # fmt: skip
def test_vgi_rpc_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a BootNotification with reason "Sideways" is refused with a CALLERROR."""
    rig.connect()
    invalid_payload(rig, "BootNotification", {"reason": "Sideways", "chargingStation": STATION})
