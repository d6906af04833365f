"""OCPP 2.0.1 charging station, functional block F (remote control)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_status
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    boot_accepted,
    clause,
    is_charging,
    start_local_transaction,
    transaction_id,
)
from vgi_bench.timing import Latency

REMOTE_START_ID = 4711


@case("TC_F_01_CS", clause("F01 Remote Start Transaction - Cable Plugin First", "TC_F_01_CS"),
      "Remote start transaction - Cable plugin first")  # fmt: skip
def test_tc_f_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with the EV plugged in, RequestStartTransaction starts charging.

    Steps: plug in; RequestStartTransaction(idToken, remoteStartId 4711, evseId 1).
    Expected:
    1. RequestStartTransactionResponse Accepted (F01).
    2. TransactionEvent with triggerReason RemoteStart and remoteStartId 4711, and
       chargingState Charging (F01; OCTT: the first event after a remote start).
    """
    mark = boot_accepted(rig)
    rig.operator("plug_in")
    request = {"idToken": {"idToken": VALID_TOKEN, "type": "ISO14443"},
               "remoteStartId": REMOTE_START_ID, "evseId": 1}  # fmt: skip
    exchange = rig.call("RequestStartTransaction", request)
    expect_status(exchange, "Accepted")
    event = expect_call(
        rig.log, "TransactionEvent", since=mark, within=ANSWER_S,
        what="TransactionEvent after RequestStartTransaction",
    )  # fmt: skip
    trigger = event.payload.get("triggerReason")
    check(trigger == "RemoteStart", "triggerReason RemoteStart", f"{trigger!r}")
    rsid = event.payload.get("transactionInfo", {}).get("remoteStartId")
    check(rsid == REMOTE_START_ID, f"remoteStartId {REMOTE_START_ID}", f"{rsid!r}")
    expect_call(rig.log, "TransactionEvent", since=mark, within=ANSWER_S, where=is_charging,
                what="chargingState Charging")  # fmt: skip
    measurements.record("event_after_request", Latency.between(exchange.request.mono, event.mono))


@case("TC_F_08_CS", clause("F03 Remote Stop Transaction", "TC_F_08_CS"),
      "Remote stop transaction - Success")  # fmt: skip
def test_tc_f_08_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: RequestStopTransaction ends the running transaction.

    Expected:
    1. RequestStopTransactionResponse Accepted (F03).
    2. TransactionEvent Ended for that transactionId, triggerReason RemoteStop,
       stoppedReason Remote (F03).
    """
    mark = boot_accepted(rig)
    started = start_local_transaction(rig, mark)
    tx = transaction_id(started)
    exchange = rig.call("RequestStopTransaction", {"transactionId": tx})
    expect_status(exchange, "Accepted")
    ended = expect_call(
        rig.log, "TransactionEvent", since=started.seq + 1, within=ANSWER_S,
        where=lambda e: e.payload.get("eventType") == "Ended", what="TransactionEvent Ended",
    )  # fmt: skip
    check(transaction_id(ended) == tx, f"Ended for transactionId {tx}",
          f"{transaction_id(ended)!r}")  # fmt: skip
    trigger = ended.payload.get("triggerReason")
    check(trigger == "RemoteStop", "triggerReason RemoteStop", f"{trigger!r}")
    reason = ended.payload.get("transactionInfo", {}).get("stoppedReason")
    check(reason == "Remote", "stoppedReason Remote", f"{reason!r}")
    measurements.record("ended_after_request", Latency.between(exchange.request.mono, ended.mono))


@case("TC_F_09_CS", clause("F03 Remote Stop Transaction", "TC_F_09_CS"),
      "Remote stop transaction - Rejected")  # fmt: skip
def test_tc_f_09_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a RequestStopTransaction for a transaction the station does not have fails.

    Expected: RequestStopTransactionResponse Rejected (F03).
    """
    boot_accepted(rig)
    exchange = rig.call("RequestStopTransaction", {"transactionId": "VGI-NO-SUCH-TX"})
    expect_status(exchange, "Rejected")
