"""OCPP 2.0.1 CSMS under test: what it sends when its operator acts.

Each case asks for an operator action at the CSMS (``vgi_bench.ocpp.operator.ACTIONS``: the
reference CSMS performs it in-process; a real one through the profile's
``[ocpp.operator]`` command, else the case is skipped naming the key), then judges the CALL
the bench's charging station receives: valid against its schema and saying what the
operator asked for (the idToken, the transactionId the station reported, the reset type,
the limit). The station answers from a small script (``vgi_bench.ocpp.cp_handlers``) and
goes on as a station would (a transaction, a reboot, a status), which the CSMS must take.

OCTT words these steps as manual actions; where the bench is not sure of OCTT's number
for a case, it carries the bench's own id (``VGI_<use case>_nn_CSMS``).
"""

from __future__ import annotations

import uuid

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN, now_iso
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases.ocpp_operator_steps import limited, profile_request, same

STATION = {"model": "VGI-BENCH-CS", "vendorName": "vgi-bench"}
EVSE = {"id": 1, "connectorId": 1}
LIMIT_A = 16.0
TX_LIMIT_A = 10.0


def clause(use_case: str) -> str:
    return f"OCPP 2.0.1 Part 2 {use_case} (operator action at the CSMS)"


def _token(token: str = VALID_TOKEN) -> dict:
    return {"idToken": token, "type": "ISO14443"}


def booted(rig: CsmsRig, reason: str = "PowerUp") -> None:
    rig.connect()
    boot = expect_result(rig.call("BootNotification", {"reason": reason,
                                                       "chargingStation": STATION}))  # fmt: skip
    check(boot.get("status") == "Accepted", "BootNotification Accepted", f"{boot}")
    status(rig, "Available")


def status(rig: CsmsRig, connector_status: str) -> None:
    expect_result(rig.call("StatusNotification", {"timestamp": now_iso(), "evseId": 1,
                  "connectorId": 1, "connectorStatus": connector_status}))  # fmt: skip


def event(rig: CsmsRig, kind: str, trigger: str, seq: int, info: dict, **extra: object) -> dict:
    """A TransactionEvent; the CSMS's answer (idTokenInfo Accepted when it carries one)."""
    payload = {"eventType": kind, "timestamp": now_iso(), "triggerReason": trigger, "seqNo": seq,
               "transactionInfo": info, "evse": EVSE, **extra}  # fmt: skip
    reply = expect_result(rig.call("TransactionEvent", payload))
    if "idToken" in extra:
        got = reply.get("idTokenInfo", {}).get("status")
        check(got == "Accepted",
              f"idTokenInfo Accepted in the answer to TransactionEvent {kind} ({trigger})",
              f"{reply}")  # fmt: skip
    return reply


def _tx_id() -> str:
    return f"VGI-TX-{uuid.uuid4().hex[:8]}"


@case("VGI_F01_01_CSMS", clause("F01 Remote Start Transaction - Cable Plugin First"),
      "Remote start transaction - the station starts it")  # fmt: skip
def test_vgi_f01_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator starts a transaction remotely.

    Steps: the station boots, is plugged in (Occupied); operator action ``remote_start``
    (idToken VGI-TOKEN-0001, EVSE 1); the station answers Accepted and reports the
    transaction (TransactionEvent Started, triggerReason RemoteStart, the remoteStartId),
    then ends it.
    Expected: RequestStartTransaction valid, with the operator's idToken, evseId 1 when
    given, a remoteStartId (F01); the CSMS answers the events, with idTokenInfo
    Accepted (F01, E01).
    """
    booted(rig)
    status(rig, "Occupied")
    mark = len(rig.log)
    rig.operate("remote_start", id_token=VALID_TOKEN, evse_id=1)
    request = rig.expect_from_operator("remote_start", mark).payload
    same(request["idToken"]["idToken"], VALID_TOKEN, "RequestStartTransaction idToken")
    if "evseId" in request:
        same(request["evseId"], 1, "RequestStartTransaction evseId")
    info = {"transactionId": _tx_id(), "remoteStartId": request["remoteStartId"],
            "chargingState": "Charging"}  # fmt: skip
    event(rig, "Started", "RemoteStart", 0, info, idToken=request["idToken"])
    event(rig, "Ended", "StopAuthorized", 1, {**info, "stoppedReason": "Local"})


@case("VGI_F03_01_CSMS", clause("F03 Remote Stop Transaction"),
      "Remote stop transaction - the transaction the station reported")  # fmt: skip
def test_vgi_f03_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator stops a running transaction remotely.

    Steps: the station reports a transaction (TransactionEvent Started with the idToken);
    operator action ``remote_stop`` of that transactionId; the station answers Accepted
    and ends it (triggerReason RemoteStop, stoppedReason Remote).
    Expected: RequestStopTransaction valid, naming the transactionId the station reported
    (F03); the CSMS answers the Ended event.
    """
    booted(rig)
    info = {"transactionId": _tx_id(), "chargingState": "Charging"}
    event(rig, "Started", "Authorized", 0, info, idToken=_token())
    mark = len(rig.log)
    rig.operate("remote_stop", transaction_id=info["transactionId"])
    request = rig.expect_from_operator("remote_stop", mark).payload
    same(request["transactionId"], info["transactionId"], "RequestStopTransaction transactionId")
    event(rig, "Ended", "RemoteStop", 1, {**info, "stoppedReason": "Remote"})


@case("VGI_B11_01_CSMS", clause("B11 Reset - Without Ongoing Transaction"),
      "Reset Immediate - the station reboots")  # fmt: skip
def test_vgi_b11_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator resets the station.

    Steps: operator action ``reset`` (Immediate); the station answers Accepted, closes
    the connection and boots again (reason RemoteReset).
    Expected: Reset valid with type Immediate (B11); the CSMS accepts the new boot.
    """
    booted(rig)
    mark = len(rig.log)
    rig.operate("reset", reset_type="Immediate")
    request = rig.expect_from_operator("reset", mark).payload
    same(request["type"], "Immediate", "Reset type")
    check("evseId" not in request, "a Reset of the whole station (no evseId)", f"{request}")
    rig.cp.close()
    booted(rig, reason="RemoteReset")


@case("VGI_G03_01_CSMS", clause("G03 Change Availability EVSE/Connector"),
      "Change availability of an EVSE - Inoperative and back")  # fmt: skip
def test_vgi_g03_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator takes EVSE 1 out of service and back.

    Steps: operator action ``change_availability`` (EVSE 1, Inoperative); the station
    answers Accepted and reports Unavailable; the same with Operative, then Available.
    Expected: ChangeAvailability valid, operationalStatus as asked, evse.id 1 (G03); the
    CSMS answers the StatusNotifications.
    """
    booted(rig)
    for wanted, connector_status in (("Inoperative", "Unavailable"), ("Operative", "Available")):
        mark = len(rig.log)
        rig.operate("change_availability", evse_id=1, availability=wanted)
        request = rig.expect_from_operator("change_availability", mark).payload
        same(request["operationalStatus"], wanted, "ChangeAvailability operationalStatus")
        same(request.get("evse", {}).get("id"), 1, "ChangeAvailability evse.id")
        status(rig, connector_status)


@case("VGI_B05_01_CSMS", clause("B05 Set Variables, B06 Get Variables"),
      "Set Variables then Get Variables - the operator's value")  # fmt: skip
def test_vgi_b05_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator writes a variable and reads it back.

    Steps: operator action ``set_variables`` (OCPPCommCtrlr.HeartbeatInterval = 30); the
    station stores it and answers Accepted; operator action ``get_variables`` of the same.
    Expected: SetVariables valid, naming the component and variable with attributeValue
    "30" (B05); GetVariables valid, naming them (B06).
    """
    booted(rig)
    where = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}
    mark = len(rig.log)
    rig.operate("set_variables", **where, value="30")
    data = rig.expect_from_operator("set_variables", mark).payload["setVariableData"]
    wanted = [d for d in data if d["component"]["name"] == where["component"]
              and d["variable"]["name"] == where["variable"]]  # fmt: skip
    check(len(wanted) == 1, "one setVariableData entry for OCPPCommCtrlr.HeartbeatInterval",
          f"{data}")  # fmt: skip
    same(wanted[0]["attributeValue"], "30", "SetVariables attributeValue")
    mark = len(rig.log)
    rig.operate("get_variables", **where)
    data = rig.expect_from_operator("get_variables", mark).payload["getVariableData"]
    names = [(d["component"]["name"], d["variable"]["name"]) for d in data]
    check((where["component"], where["variable"]) in names,
          "GetVariables naming OCPPCommCtrlr.HeartbeatInterval", f"{names}")  # fmt: skip


@case("VGI_K01_01_CSMS", clause("K01 SetChargingProfile"),
      "Set charging profile - TxDefaultProfile with the operator's current limit")  # fmt: skip
def test_vgi_k01_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator limits EVSE 1 to 16 A by a default transaction profile.

    Steps: operator action ``set_charging_profile`` (EVSE 1, profile 101, TxDefaultProfile,
    stack level 0, 16 A); the station answers Accepted.
    Expected: SetChargingProfile valid against its schema (K01), evseId 1, profile
    id 101, purpose TxDefaultProfile, stackLevel 0, chargingRateUnit A and no period
    above 16 A, the first (startPeriod 0) at 16 A.
    """
    booted(rig)
    request = profile_request(rig, 101, LIMIT_A)
    profile = request["chargingProfile"]
    same(request["evseId"], 1, "SetChargingProfile evseId")
    same(profile["id"], 101, "chargingProfile.id")
    same(profile["chargingProfilePurpose"], "TxDefaultProfile", "chargingProfilePurpose")
    same(profile["stackLevel"], 0, "stackLevel")
    limited(profile["chargingSchedule"], LIMIT_A, measurements)


@case("VGI_K01_02_CSMS", clause("K01 SetChargingProfile (status Rejected)"),
      "Set charging profile - the station rejects it, the CSMS goes on")  # fmt: skip
def test_vgi_k01_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a CSMS copes with a station that rejects a charging profile.

    Steps: the station answers SetChargingProfile with status Rejected.
    Expected: the CSMS keeps the connection for 2 s and answers a Heartbeat on it.
    """
    booted(rig)
    assert rig.handlers is not None
    rig.handlers.replies["SetChargingProfile"] = {"status": "Rejected"}
    profile_request(rig, 103, LIMIT_A)
    rig.connection_kept(2.0, "the connection kept after SetChargingProfile was Rejected")
    expect_result(rig.call("Heartbeat", {}), "a HeartbeatResponse after the Rejected profile")


@case("VGI_K01_03_CSMS", clause("K01 SetChargingProfile (TxProfile)"),
      "Set charging profile - TxProfile for the running transaction")  # fmt: skip
def test_vgi_k01_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator limits a running transaction to 10 A.

    Steps: the station reports a transaction (TransactionEvent Started); operator action
    ``set_charging_profile`` (EVSE 1, profile 104, TxProfile for that transactionId,
    10 A); the station answers Accepted; the transaction ends.
    Expected: SetChargingProfile valid, purpose TxProfile, chargingProfile.transactionId
    the one the station reported (K01), in A, 10 A from startPeriod 0, none above.
    """
    booted(rig)
    info = {"transactionId": _tx_id(), "chargingState": "Charging"}
    event(rig, "Started", "Authorized", 0, info, idToken=_token())
    profile = profile_request(rig, 104, TX_LIMIT_A, info["transactionId"])["chargingProfile"]
    same(profile["chargingProfilePurpose"], "TxProfile", "chargingProfilePurpose")
    same(profile.get("transactionId"), info["transactionId"], "chargingProfile.transactionId")
    limited(profile["chargingSchedule"], TX_LIMIT_A, measurements)
    event(rig, "Ended", "StopAuthorized", 1, {**info, "stoppedReason": "Local"})


@case("VGI_K10_01_CSMS", clause("K10 Clear Charging Profile"),
      "Clear charging profile - the profile the operator installed")  # fmt: skip
def test_vgi_k10_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator removes a profile it installed.

    Steps: operator actions ``set_charging_profile`` (profile 102) then
    ``clear_charging_profile`` (102); the station answers Accepted to both.
    Expected: ClearChargingProfile valid, chargingProfileId 102 (K10).
    """
    booted(rig)
    profile_request(rig, 102, LIMIT_A)
    mark = len(rig.log)
    rig.operate("clear_charging_profile", profile_id=102)
    request = rig.expect_from_operator("clear_charging_profile", mark).payload
    same(request.get("chargingProfileId"), 102, "ClearChargingProfile chargingProfileId")


@case("VGI_F06_01_CSMS", clause("F06 Trigger Message"),
      "Trigger message - StatusNotification of an EVSE")  # fmt: skip
def test_vgi_f06_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator asks the station for the status of EVSE 1.

    Steps: operator action ``trigger_message`` (StatusNotification, EVSE 1); the station
    answers Accepted and sends the StatusNotification.
    Expected: TriggerMessage valid, requestedMessage StatusNotification, evse.id 1 when
    given (F06); the CSMS answers the StatusNotification.
    """
    booted(rig)
    mark = len(rig.log)
    rig.operate("trigger_message", requested_message="StatusNotification", evse_id=1)
    request = rig.expect_from_operator("trigger_message", mark).payload
    same(request["requestedMessage"], "StatusNotification", "TriggerMessage requestedMessage")
    if "evse" in request:
        same(request["evse"]["id"], 1, "TriggerMessage evse.id")
    status(rig, "Available")


@case("VGI_F05_01_CSMS", clause("F05 Remotely Unlock Connector"),
      "Unlock connector - the EVSE the operator chose")  # fmt: skip
def test_vgi_f05_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator unlocks the connector of EVSE 1 (no transaction on it).

    Steps: operator action ``unlock_connector`` (EVSE 1); the station answers Unlocked.
    Expected: UnlockConnector valid, evseId 1, connectorId 1 (F05).
    """
    booted(rig)
    mark = len(rig.log)
    rig.operate("unlock_connector", evse_id=1)
    request = rig.expect_from_operator("unlock_connector", mark).payload
    same(request["evseId"], 1, "UnlockConnector evseId")
    same(request["connectorId"], 1, "UnlockConnector connectorId")
