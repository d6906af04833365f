"""OCPP 2.0.1 charging station, functional block F: UnlockConnector (F05) and
TriggerMessage (F06)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_status, is_call
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    boot_accepted,
    clause,
    start_local_transaction,
    transaction_id,
)
from vgi_bench.timing import Latency

UNLOCK = {"evseId": 1, "connectorId": 1}


@case("TC_F_05_CS", clause("F05 Remotely Unlock Connector", "TC_F_05_CS"),
      "Remote unlock Connector - With ongoing transaction")  # fmt: skip
def test_tc_f_05_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the connector of an authorized transaction is not unlocked remotely.

    Steps: start a transaction (plug in, valid idToken); UnlockConnector EVSE 1 connector 1.
    Expected:
    1. UnlockConnectorResponse OngoingAuthorizedTransaction (F05).
    2. The transaction goes on: no TransactionEvent Ended.
    """
    mark = boot_accepted(rig)
    started = start_local_transaction(rig, mark)
    tx = transaction_id(started)
    expect_status(rig.call("UnlockConnector", UNLOCK), "OngoingAuthorizedTransaction")
    expect_no_call(
        rig.log, is_call("TransactionEvent", lambda e: e.payload.get("eventType") == "Ended"),
        since=started.seq + 1, during=2.0, what=f"transaction {tx} still running",
    )  # fmt: skip


@case("TC_F_06_CS", clause("F05 Remotely Unlock Connector", "TC_F_06_CS"),
      "Remote unlock Connector - Without ongoing transaction - Accepted")  # fmt: skip
def test_tc_f_06_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idle connector is unlocked on request.

    Expected: UnlockConnectorResponse Unlocked (F05).
    """
    boot_accepted(rig)
    expect_status(rig.call("UnlockConnector", UNLOCK), "Unlocked")


@case("TC_F_23_CS", clause("F06 Trigger Message", "TC_F_23_CS"),
      "Trigger message - StatusNotification - Specific EVSE - Available")  # fmt: skip
def test_tc_f_23_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station sends the StatusNotification the CSMS triggers.

    Steps: TriggerMessage requestedMessage StatusNotification, evse 1 connector 1, on an
    idle station.
    Expected:
    1. TriggerMessageResponse Accepted (F06).
    2. StatusNotification Available for EVSE 1 connector 1, the triggered message, after
       the response (F06).
    """
    mark = boot_accepted(rig)
    request = {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}}
    exchange = rig.call("TriggerMessage", request)
    expect_status(exchange, "Accepted")
    status = expect_call(
        rig.log, "StatusNotification", since=mark, within=ANSWER_S,
        where=lambda e: e.payload.get("evseId") == 1 and e.payload.get("connectorId") == 1
        and e.payload.get("connectorStatus") == "Available",
        what="the triggered StatusNotification Available (EVSE 1, connector 1)",
    )  # fmt: skip
    measurements.record("status_after_trigger", Latency.between(exchange.request.mono,
                                                                status.mono))  # fmt: skip


def _trigger_idle(rig: CpRig, message: str, measurements: Measurements) -> None:
    """TriggerMessage ``message`` on a station with nothing under way: Accepted, then the
    message with status Idle."""
    mark = boot_accepted(rig)
    exchange = rig.call("TriggerMessage", {"requestedMessage": message})
    expect_status(exchange, "Accepted")
    sent = expect_call(rig.log, message, since=mark, within=ANSWER_S,
                       what=f"the triggered {message}")  # fmt: skip
    status = sent.payload.get("status")
    check(status == "Idle", f"{message} status Idle (nothing under way)", f"status {status!r}")
    measurements.record("sent_after_trigger", Latency.between(exchange.request.mono, sent.mono))


@case("TC_F_15_CS", clause("F06 Trigger Message", "TC_F_15_CS"),
      "Trigger message - LogStatusNotification - Idle")  # fmt: skip
def test_tc_f_15_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a triggered LogStatusNotification reports Idle when no upload is under way.

    Expected: TriggerMessageResponse Accepted; LogStatusNotification status Idle (F06,
    N01: requestId may be left out when triggered and Idle).
    """
    _trigger_idle(rig, "LogStatusNotification", measurements)


@case("TC_F_18_CS", clause("F06 Trigger Message", "TC_F_18_CS"),
      "Trigger message - FirmwareStatusNotification - Idle")  # fmt: skip
def test_tc_f_18_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a triggered FirmwareStatusNotification reports Idle when no update is under
    way.

    Expected: TriggerMessageResponse Accepted; FirmwareStatusNotification status Idle (F06,
    L01: requestId may be left out when triggered and Idle).
    """
    _trigger_idle(rig, "FirmwareStatusNotification", measurements)
