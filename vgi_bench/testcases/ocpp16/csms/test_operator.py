"""OCPP 1.6J central system under test: what it sends when its operator acts.

Each case asks for an operator action at the central system
(``vgi_bench.ocpp.operator.ACTIONS``: the reference CSMS performs it in-process; a real one
through the profile's ``[ocpp.operator]`` command, else the case is skipped naming the
key), then judges the CALL the bench's charge point receives: valid against its schema
and saying what the operator asked for (the idTag, the transactionId the central system
gave, the reset type, the limit). The charge point answers from a small script
(``vgi_bench.ocpp.cp_handlers``) and goes on as a charge point would.

Ids: OCTT 1.6 ``_CSMS`` ids where the case is OCTT's (remote start/stop, hard reset);
the bench's own (``VGI_...``) otherwise.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN, now_iso
from vgi_bench.rigs.ocpp_csms import CsmsRig
from vgi_bench.testcases.ocpp_operator_steps import limited, profile_request, same

BOOT = {"chargePointVendor": "vgi-bench", "chargePointModel": "VGI-BENCH-CP"}
LIMIT_A = 16.0
TX_LIMIT_A = 10.0


def clause(section: str, case_id: str = "") -> str:
    where = f"; OCA OCTT 1.6 {case_id}" if case_id else ""
    return f"OCPP 1.6 {section} (operator action at the central system){where}"


def booted(rig: CsmsRig) -> None:
    rig.connect()
    boot = expect_result(rig.call("BootNotification", BOOT))
    check(boot.get("status") == "Accepted", "BootNotification Accepted", f"{boot}")
    status(rig, "Available")


def status(rig: CsmsRig, value: str) -> None:
    payload = {"connectorId": 1, "errorCode": "NoError", "status": value, "timestamp": now_iso()}
    expect_result(rig.call("StatusNotification", payload))


def start(rig: CsmsRig, id_tag: str = VALID_TOKEN) -> int:
    """StartTransaction on connector 1: the transactionId the central system gives."""
    reply = expect_result(rig.call("StartTransaction", {"connectorId": 1, "idTag": id_tag,
                                   "meterStart": 0, "timestamp": now_iso()}))  # fmt: skip
    check(reply.get("idTagInfo", {}).get("status") == "Accepted",
          f"StartTransaction idTagInfo Accepted for {id_tag}", f"{reply}")  # fmt: skip
    status(rig, "Charging")
    return reply["transactionId"]


def stop(rig: CsmsRig, transaction_id: int, reason: str) -> None:
    payload = {"transactionId": transaction_id, "meterStop": 100, "timestamp": now_iso(),
               "reason": reason}  # fmt: skip
    expect_result(rig.call("StopTransaction", payload))
    status(rig, "Available")


@case("TC_010_CSMS", clause("§5.11 Remote Start Transaction", "TC_010_CSMS"),
      "Remote Start Charging Session – Cable Plugged in First")  # fmt: skip
def test_tc_010_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator starts a charging session remotely.

    Steps: the charge point is plugged in (Preparing); operator action ``remote_start``
    (idTag VGI-TOKEN-0001, connector 1); the charge point answers Accepted, starts
    (StartTransaction) and later stops the transaction.
    Expected: RemoteStartTransaction.req valid, with the operator's idTag, connectorId 1
    when given (§5.11); StartTransaction.conf idTagInfo Accepted with a transactionId.
    """
    booted(rig)
    status(rig, "Preparing")
    mark = len(rig.log)
    rig.operate("remote_start", id_token=VALID_TOKEN, evse_id=1)
    request = rig.expect_from_operator("remote_start", mark).payload
    same(request["idTag"], VALID_TOKEN, "RemoteStartTransaction idTag")
    if "connectorId" in request:
        same(request["connectorId"], 1, "RemoteStartTransaction connectorId")
    stop(rig, start(rig, request["idTag"]), "Local")


@case("TC_012_CSMS", clause("§5.12 Remote Stop Transaction", "TC_012_CSMS"),
      "Remote Stop Charging Session")  # fmt: skip
def test_tc_012_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator stops a running session remotely.

    Steps: a transaction starts (StartTransaction); operator action ``remote_stop`` of its
    transactionId; the charge point answers Accepted and stops (reason Remote).
    Expected: RemoteStopTransaction.req valid, naming the transactionId the central system
    gave (§5.12); StopTransaction.conf.
    """
    booted(rig)
    transaction_id = start(rig)
    mark = len(rig.log)
    rig.operate("remote_stop", transaction_id=transaction_id)
    request = rig.expect_from_operator("remote_stop", mark).payload
    same(request["transactionId"], transaction_id, "RemoteStopTransaction transactionId")
    stop(rig, transaction_id, "Remote")


@case("TC_013_CSMS", clause("§5.14 Reset", "TC_013_CSMS"), "Hard Reset Without transaction")
def test_tc_013_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator resets the charge point.

    Steps: operator action ``reset`` (Hard); the charge point answers Accepted, closes the
    connection and boots again.
    Expected: Reset.req valid with type Hard (§5.14); the new boot Accepted.
    """
    booted(rig)
    mark = len(rig.log)
    rig.operate("reset", reset_type="Hard")
    request = rig.expect_from_operator("reset", mark).payload
    same(request["type"], "Hard", "Reset type")
    rig.cp.close()
    booted(rig)


@case("VGI_AV_01_CSMS", clause("§5.2 Change Availability"),
      "Change Availability of a connector - Inoperative and back")  # fmt: skip
def test_vgi_av_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator takes connector 1 out of service and back.

    Steps: operator action ``change_availability`` (connector 1, Inoperative); the charge
    point answers Accepted and reports Unavailable; the same with Operative.
    Expected: ChangeAvailability.req valid, type as asked, connectorId 1 (§5.2).
    """
    booted(rig)
    for wanted, value in (("Inoperative", "Unavailable"), ("Operative", "Available")):
        mark = len(rig.log)
        rig.operate("change_availability", evse_id=1, availability=wanted)
        request = rig.expect_from_operator("change_availability", mark).payload
        same(request["type"], wanted, "ChangeAvailability type")
        same(request["connectorId"], 1, "ChangeAvailability connectorId")
        status(rig, value)


@case("VGI_CFG_01_CSMS", clause("§5.3 Change Configuration, §5.8 Get Configuration"),
      "Change Configuration then Get Configuration - the operator's value")  # fmt: skip
def test_vgi_cfg_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator writes a configuration key and reads it back.

    Steps: operator action ``set_variables`` (key HeartbeatInterval = 30); the charge point
    answers Accepted; operator action ``get_variables`` (HeartbeatInterval).
    Expected: ChangeConfiguration.req valid with key HeartbeatInterval, value "30" (§5.3);
    GetConfiguration.req valid, asking for HeartbeatInterval or for every key (§5.8).
    """
    booted(rig)
    where = {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}
    mark = len(rig.log)
    rig.operate("set_variables", **where, value="30")
    request = rig.expect_from_operator("set_variables", mark).payload
    same(request["key"], "HeartbeatInterval", "ChangeConfiguration key")
    same(request["value"], "30", "ChangeConfiguration value")
    mark = len(rig.log)
    rig.operate("get_variables", **where)
    keys = rig.expect_from_operator("get_variables", mark).payload.get("key")
    check(not keys or "HeartbeatInterval" in keys,
          "GetConfiguration asking for HeartbeatInterval (or every key)",
          f"key {keys}")  # fmt: skip


@case("VGI_SC_01_CSMS", clause("§5.16 Set Charging Profile, §3.13 Smart Charging"),
      "Set Charging Profile - TxDefaultProfile with the operator's current limit")  # fmt: skip
def test_vgi_sc_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator limits connector 1 to 16 A by a default transaction profile.

    Steps: operator action ``set_charging_profile`` (connector 1, profile 101,
    TxDefaultProfile, stack level 0, 16 A); the charge point answers Accepted.
    Expected: SetChargingProfile.req valid against its schema, connectorId 1,
    chargingProfileId 101, purpose TxDefaultProfile, stackLevel 0, chargingRateUnit A, no
    period above 16 A and 16 A from startPeriod 0 (§5.16, §3.13.4).
    """
    booted(rig)
    request = profile_request(rig, 101, LIMIT_A)
    profile = request["csChargingProfiles"]
    same(request["connectorId"], 1, "SetChargingProfile connectorId")
    same(profile["chargingProfileId"], 101, "chargingProfileId")
    same(profile["chargingProfilePurpose"], "TxDefaultProfile", "chargingProfilePurpose")
    same(profile["stackLevel"], 0, "stackLevel")
    limited([profile["chargingSchedule"]], LIMIT_A, measurements)


@case("VGI_SC_02_CSMS", clause("§5.16 Set Charging Profile (status Rejected)"),
      "Set Charging Profile - the charge point rejects it, the central system goes on")  # fmt: skip
def test_vgi_sc_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a central system copes with a charge point that rejects a profile.

    Steps: the charge point answers SetChargingProfile.req with status Rejected.
    Expected: the connection kept for 2 s and a Heartbeat answered on it.
    """
    booted(rig)
    assert rig.handlers is not None
    rig.handlers.replies["SetChargingProfile"] = {"status": "Rejected"}
    profile_request(rig, 103, LIMIT_A)
    rig.connection_kept(2.0, "the connection kept after SetChargingProfile was Rejected")
    expect_result(rig.call("Heartbeat", {}), "a Heartbeat.conf after the Rejected profile")


@case("VGI_SC_04_CSMS", clause("§5.16 Set Charging Profile (TxProfile), §3.13.2"),
      "Set Charging Profile - TxProfile for the running transaction")  # fmt: skip
def test_vgi_sc_04_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator limits a running transaction to 10 A.

    Steps: a transaction starts (StartTransaction); operator action
    ``set_charging_profile`` (connector 1, profile 104, TxProfile for that transactionId,
    10 A); the charge point answers Accepted; the transaction stops.
    Expected: SetChargingProfile.req valid, purpose TxProfile, connectorId 1 (a TxProfile
    is never for connector 0, §3.13.2), transactionId, when given, the one the central
    system gave; in A, 10 A from startPeriod 0, none above.
    """
    booted(rig)
    transaction_id = start(rig)
    request = profile_request(rig, 104, TX_LIMIT_A, transaction_id)
    profile = request["csChargingProfiles"]
    same(request["connectorId"], 1, "SetChargingProfile connectorId")
    same(profile["chargingProfilePurpose"], "TxProfile", "chargingProfilePurpose")
    same(profile.get("transactionId", transaction_id), transaction_id,
         "csChargingProfiles.transactionId")  # fmt: skip
    limited([profile["chargingSchedule"]], TX_LIMIT_A, measurements)
    stop(rig, transaction_id, "Local")


@case("VGI_SC_03_CSMS", clause("§5.5 Clear Charging Profile"),
      "Clear Charging Profile - the profile the operator installed")  # fmt: skip
def test_vgi_sc_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator removes a profile it installed.

    Steps: operator actions ``set_charging_profile`` (profile 102) then
    ``clear_charging_profile`` (102); the charge point answers Accepted to both.
    Expected: ClearChargingProfile.req valid, id 102 (§5.5).
    """
    booted(rig)
    profile_request(rig, 102, LIMIT_A)
    mark = len(rig.log)
    rig.operate("clear_charging_profile", profile_id=102)
    request = rig.expect_from_operator("clear_charging_profile", mark).payload
    same(request.get("id"), 102, "ClearChargingProfile id")


@case("VGI_TRG_01_CSMS", clause("§5.17 Trigger Message"),
      "Trigger Message - StatusNotification of a connector")  # fmt: skip
def test_vgi_trg_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator asks the charge point for the status of connector 1.

    Steps: operator action ``trigger_message`` (StatusNotification, connector 1); the
    charge point answers Accepted and sends the StatusNotification.
    Expected: TriggerMessage.req valid, requestedMessage StatusNotification, connectorId 1
    when given (§5.17); StatusNotification.conf.
    """
    booted(rig)
    mark = len(rig.log)
    rig.operate("trigger_message", requested_message="StatusNotification", evse_id=1)
    request = rig.expect_from_operator("trigger_message", mark).payload
    same(request["requestedMessage"], "StatusNotification", "TriggerMessage requestedMessage")
    if "connectorId" in request:
        same(request["connectorId"], 1, "TriggerMessage connectorId")
    status(rig, "Available")


@case("VGI_UNL_01_CSMS", clause("§5.18 Unlock Connector"),
      "Unlock Connector - the connector the operator chose")  # fmt: skip
def test_vgi_unl_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the operator unlocks connector 1 (no transaction on it).

    Steps: operator action ``unlock_connector`` (connector 1); the charge point answers
    Unlocked.
    Expected: UnlockConnector.req valid, connectorId 1 (§5.18).
    """
    booted(rig)
    mark = len(rig.log)
    rig.operate("unlock_connector", evse_id=1)
    request = rig.expect_from_operator("unlock_connector", mark).payload
    same(request["connectorId"], 1, "UnlockConnector connectorId")
