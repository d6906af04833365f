"""OCPP 1.6J central system under test; the bench plays the charge point.

Cases carry OCTT 1.6 ``_CSMS`` ids; the bench's own ids (``VGI_...``) cover the heartbeat
and the OCPP-J error paths.
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

BOOT = {"chargePointVendor": "vgi-bench", "chargePointModel": "VGI-BENCH-CP"}
OCPPJ = "OCPP-J 1.6 §4.2.3 CallError"


def clause(section: str, case_id: str) -> str:
    return f"OCPP 1.6 {section}; OCA OCTT 1.6 {case_id}"


def booted(rig: CsmsRig) -> dict:
    rig.connect()
    return expect_result(rig.call("BootNotification", BOOT))


def _status(status: str) -> dict:
    return {"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": now_iso()}


@case("TC_001_CSMS", clause("§4.2 Boot Notification", "TC_001_CSMS"), "Cold Boot Charge Point")
def test_tc_001_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the central system registers a booting charge point.

    Expected: BootNotification.conf valid, status Accepted, interval > 0 (§4.2);
    StatusNotification.conf valid (§4.9).
    """
    boot = booted(rig)
    check(boot.get("status") == "Accepted", "status Accepted", f"{boot.get('status')!r}")
    check(boot.get("interval", 0) > 0, "a heartbeat interval > 0", f"{boot.get('interval')!r}")
    expect_result(rig.call("StatusNotification", _status("Available")))


@case("VGI_HB_01_CSMS", "OCPP 1.6 §4.6 Heartbeat",
      "Heartbeat answered in time with the central system's clock")  # fmt: skip
def test_vgi_hb_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: Heartbeat.conf within 5 s with currentTime (RFC 3339) within 60 s of UTC."""
    booted(rig)
    heartbeat_in_time(rig, measurements)


@case("TC_023_1_CSMS", clause("§4.1 Authorize", "TC_023_1_CSMS"),
      "Start Charging Session – Authorize invalid")  # fmt: skip
def test_tc_023_1_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: an unknown idTag is not accepted. Expected: idTagInfo.status not Accepted."""
    booted(rig)
    reply = expect_result(rig.call("Authorize", {"idTag": UNKNOWN_TOKEN}))
    status = reply.get("idTagInfo", {}).get("status")
    check(status != "Accepted", f"idTagInfo.status not Accepted for {UNKNOWN_TOKEN}",
          f"{status!r}")  # fmt: skip


@case("TC_003_CSMS", clause("§4.8 Start Transaction, §4.10 Stop Transaction", "TC_003_CSMS"),
      "Regular Charging Session - Plugin First")  # fmt: skip
def test_tc_003_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: the central system runs a whole session.

    Steps: Preparing; Authorize; StartTransaction; Charging; MeterValues; StopTransaction;
    a second session the same way.
    Expected: Authorize and StartTransaction accepted for the known idTag; a transactionId
    per transaction, different for the two (§4.8); every answer valid.
    """
    booted(rig)
    ids = []
    for _ in range(2):
        expect_result(rig.call("StatusNotification", _status("Preparing")))
        auth = expect_result(rig.call("Authorize", {"idTag": VALID_TOKEN}))
        check(auth.get("idTagInfo", {}).get("status") == "Accepted",
              f"Authorize Accepted for {VALID_TOKEN}", f"{auth}")  # fmt: skip
        start = expect_result(
            rig.call(
                "StartTransaction",
                {"connectorId": 1, "idTag": VALID_TOKEN, "meterStart": 0, "timestamp": now_iso()},
            )
        )
        check(start.get("idTagInfo", {}).get("status") == "Accepted",
              "StartTransaction idTagInfo Accepted", f"{start}")  # fmt: skip
        tx = start.get("transactionId")
        ids.append(tx)
        expect_result(rig.call("StatusNotification", _status("Charging")))
        expect_result(
            rig.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": tx,
                    "meterValue": [{"timestamp": now_iso(), "sampledValue": [{"value": "100"}]}],
                },
            )
        )
        expect_result(
            rig.call(
                "StopTransaction",
                {
                    "transactionId": tx,
                    "meterStop": 100,
                    "timestamp": now_iso(),
                    "idTag": VALID_TOKEN,
                },
            )
        )
        expect_result(rig.call("StatusNotification", _status("Available")))
    check(ids[0] != ids[1], "a new transactionId for each transaction", f"transactionIds {ids}")


@case("VGI_RPC_01_CSMS", f"{OCPPJ} (NotImplemented: action not known)",
      "Unknown action answered with CallError NotImplemented")  # fmt: skip
def test_vgi_rpc_01_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a CALL with an unknown action gets NotImplemented (not NotSupported)."""
    booted(rig)
    unknown_action(rig)


@case("VGI_RPC_02_CSMS", f"{OCPPJ}; §4.1 (message structure)",
      "Malformed frame answered with a CallError, connection kept")  # fmt: skip
def test_vgi_rpc_02_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a frame that is not JSON is answered with a CallError; the system goes on."""
    booted(rig)
    malformed_frame(rig, "Heartbeat", {})


@case("VGI_RPC_03_CSMS", f"{OCPPJ} (payload errors)",
      "Schema-invalid CALL answered with a payload CallError")  # fmt: skip
def test_vgi_rpc_03_csms(rig: CsmsRig, measurements: Measurements) -> None:
    """Purpose: a BootNotification without chargePointModel is refused with a CallError."""
    rig.connect()
    invalid_payload(rig, "BootNotification", {"chargePointVendor": "vgi-bench"})
