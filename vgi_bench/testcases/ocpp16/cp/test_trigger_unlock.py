"""OCPP 1.6J charge point: Remote Trigger profile (TriggerMessage) and UnlockConnector."""

from __future__ import annotations

import pytest

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_result, expect_status, is_call
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import (
    clause,
    next_status,
    start_local_transaction,
    transaction_id,
)
from vgi_bench.testcases.ocpp_steps import ANSWER_S, CONNECTOR, boot_accepted
from vgi_bench.timing import Latency

#: TC_054_CS: requested message, connectorId, whether the charge point may answer
#: NotImplemented ("will be sent if implemented").
TRIGGERS = (
    ("MeterValues", CONNECTOR, False),
    ("Heartbeat", None, False),
    ("StatusNotification", CONNECTOR, False),
    ("DiagnosticsStatusNotification", None, True),
    ("FirmwareStatusNotification", None, True),
)


def _on_connector(connector: int | None):
    if connector is None:
        return None
    return lambda e: e.payload.get("connectorId") == connector


def _trigger(rig: CpRig, message: str, connector: int | None):
    payload: dict = {"requestedMessage": message}
    if connector is not None:
        payload["connectorId"] = connector
    return rig.call("TriggerMessage", payload)


@case("TC_054_CS", clause("§5.17 Trigger Message", "TC_054_CS"), "Trigger Message")
def test_tc_054_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: each message the central system triggers follows the Accepted answer.

    Steps: TriggerMessage for MeterValues (connector 1), Heartbeat, StatusNotification
    (connector 1), DiagnosticsStatusNotification, FirmwareStatusNotification.
    Expected: TriggerMessage.conf Accepted (NotImplemented allowed for the last two), then
    the requested message, sent after the answer (§5.17: "the Charge Point SHALL first send
    the TriggerMessage response, before sending the requested message"); the status
    notifications say Idle (nothing is being uploaded or installed, §4.4, §4.5).
    """
    boot_accepted(rig)
    for message, connector, optional in TRIGGERS:
        exchange = _trigger(rig, message, connector)
        allowed = ("Accepted", "NotImplemented") if optional else ("Accepted",)
        status = expect_status(exchange, *allowed).get("status")
        if status != "Accepted":
            continue
        assert exchange.response is not None
        sent = expect_call(rig.log, message, since=exchange.request.seq, within=ANSWER_S,
                           where=_on_connector(connector),
                           what=f"{message} after TriggerMessage Accepted")  # fmt: skip
        check(sent.seq > exchange.response.seq, f"{message} after the TriggerMessage.conf",
              f"{message} before it")  # fmt: skip
        if message.endswith("StatusNotification") and message != "StatusNotification":
            idle = sent.payload.get("status")
            check(idle == "Idle", f"{message} status Idle", f"status {idle!r}")


@case("VGI_TRG_01_CS", "OCPP 1.6 §5.17 Trigger Message, §4.2 Boot Notification",
      "Trigger Message - BootNotification")  # fmt: skip
def test_vgi_trg_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a triggered BootNotification follows the Accepted answer.

    Expected: TriggerMessage.conf Accepted; a BootNotification after it (§5.17); the charge
    point stays connected and answers the next request.
    """
    boot_accepted(rig)
    exchange = _trigger(rig, "BootNotification", None)
    expect_status(exchange, "Accepted")
    assert exchange.response is not None
    what = "BootNotification after TriggerMessage Accepted"
    boot = expect_call(rig.log, "BootNotification", since=exchange.response.seq,
                       within=ANSWER_S, what=what)  # fmt: skip
    measurements.record("boot_after_trigger", Latency.between(exchange.request.mono, boot.mono))
    expect_result(rig.call("GetConfiguration", {"key": ["HeartbeatInterval"]}),
                  "an answer to GetConfiguration after the triggered boot")  # fmt: skip


@case("TC_055_CS", clause("§5.17 Trigger Message", "TC_055_CS"), "Trigger Message - Rejected")
def test_tc_055_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a trigger for a connector the charge point does not have is rejected.

    Steps: TriggerMessage MeterValues for connectorId NumberOfConnectors + 1.
    Expected: TriggerMessage.conf Rejected (or a CallError); no MeterValues (§5.17).
    """
    boot_accepted(rig)
    keys = expect_result(rig.call("GetConfiguration", {"key": ["NumberOfConnectors"]}))
    values = [k.get("value") for k in keys.get("configurationKey", [])]
    connectors = int(values[0]) if values and str(values[0]).isdigit() else 1
    mark = rig.mark()
    exchange = _trigger(rig, "MeterValues", connectors + 1)
    if exchange.error_code is None:
        expect_status(exchange, "Rejected")
    expect_no_call(rig.log, is_call("MeterValues"), since=mark, during=1.0,
                   what=f"no MeterValues for connector {connectors + 1}")  # fmt: skip


@case("TC_017_1_CS", clause("§5.18 Unlock Connector", "TC_017_1_CS"),
      "Unlock connector - no charging session running (Not fixed cable)")  # fmt: skip
def test_tc_017_1_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with no transaction, the charge point unlocks the connector on request.

    Expected: UnlockConnector.conf Unlocked (§5.18). A charge point with a fixed cable
    answers NotSupported: then this case is skipped (TC_017_2_CS is its case).
    """
    boot_accepted(rig)
    exchange = rig.call("UnlockConnector", {"connectorId": CONNECTOR})
    if expect_result(exchange).get("status") == "NotSupported":
        pytest.skip("UnlockConnector NotSupported: a fixed cable (TC_017_2_CS)")
    expect_status(exchange, "Unlocked")


@case("TC_018_1_CS", clause("§5.18 Unlock Connector, §4.10 Stop Transaction", "TC_018_1_CS"),
      "Unlock Connector - With Charging Session (Not fixed cable)")  # fmt: skip
def test_tc_018_1_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: unlocking a connector with a transaction ends the transaction first.

    Steps: charge; UnlockConnector for the connector.
    Expected: UnlockConnector.conf Unlocked; StopTransaction for the transaction with
    reason UnlockCommand (§5.18: "the Charge Point SHALL finish the transaction first");
    StatusNotification Finishing.
    """
    mark = boot_accepted(rig)
    start = start_local_transaction(rig, mark)
    tx = transaction_id(rig, start)
    next_status(rig, "StatusNotification", "Charging", start.seq, ANSWER_S)
    exchange = rig.call("UnlockConnector", {"connectorId": CONNECTOR})
    expect_status(exchange, "Unlocked")
    stop = expect_call(rig.log, "StopTransaction", since=exchange.request.seq, within=ANSWER_S,
                       what="StopTransaction after UnlockConnector")  # fmt: skip
    seen = stop.payload.get("transactionId"), stop.payload.get("reason")
    check(seen == (tx, "UnlockCommand"),
          f"StopTransaction for transactionId {tx} with reason UnlockCommand",
          f"transactionId {seen[0]!r}, reason {seen[1]!r}")  # fmt: skip
    next_status(rig, "StatusNotification", "Finishing", stop.seq, ANSWER_S)
