"""OCPP 2.0.1 charging station: authorization (C), transactions (E) and meter values (J).

The reference station runs TxStartPoint/TxStopPoint PowerPathClosed: a transaction
starts once the EV is connected and the idToken authorized. Against a real station these
cases need an operator (plug in, present a card) and are skipped in an automated run.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import calls, expect_call, expect_no_call, is_call
from vgi_bench.ocpp.csms_handlers import UNKNOWN_TOKEN, VALID_TOKEN
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    METER_INTERVAL_S,
    TOLERANCE_S,
    boot_accepted,
    clause,
    is_charging,
    set_variable,
    start_local_transaction,
    transaction_id,
)
from vgi_bench.timing import Latency, period_stats

ENERGY = "Energy.Active.Import.Register"


@case("TC_C_02_CS", clause("C01 EV Driver Authorization using RFID", "TC_C_02_CS"),
      "Local start transaction - Authorization Invalid/Unknown")  # fmt: skip
def test_tc_c_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idToken the CSMS does not accept does not start charging.

    Steps: plug in; present an unknown idToken; the CSMS answers Authorize with Invalid.
    Expected:
    1. AuthorizeRequest for the presented idToken (C01).
    2. No energy transfer: no TransactionEvent reporting chargingState Charging (C01).
    """
    mark = boot_accepted(rig)
    rig.operator("plug_in")
    rig.operator("present", UNKNOWN_TOKEN)
    auth = expect_call(rig.log, "Authorize", since=mark, within=ANSWER_S)
    token = auth.payload.get("idToken", {}).get("idToken")
    check(token == UNKNOWN_TOKEN, f"Authorize for idToken {UNKNOWN_TOKEN}", f"idToken {token!r}")
    expect_no_call(
        rig.log, is_call("TransactionEvent", is_charging), since=auth.seq, during=3.0,
        what="no charging after Authorize answered Invalid",
    )  # fmt: skip


@case("TC_E_03_CS", clause("E02 Start Transaction - Cable Plugin First", "TC_E_03_CS"),
      "Local start transaction - Cable plugin first - Success")  # fmt: skip
def test_tc_e_03_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: plug in, then present a valid idToken: the transaction starts and charges.

    Expected:
    1. StatusNotification Occupied on plug-in; AuthorizeRequest for the idToken (E02, C01).
    2. TransactionEvent Started, then chargingState Charging, carrying the idToken (E02).
    3. seqNo counts up by one per TransactionEvent of the transaction (E01/E02).
    """
    mark = boot_accepted(rig)
    charging = start_local_transaction(rig, mark)
    expect_call(rig.log, "Authorize", since=mark, within=0.1)
    events = calls(rig.log, "TransactionEvent", mark)
    first = events[0]
    check(first.payload.get("eventType") == "Started", "the first TransactionEvent Started",
          first.frame.describe())  # fmt: skip
    tokens = {e.payload.get("idToken", {}).get("idToken") for e in events} - {None}
    check(VALID_TOKEN in tokens, f"the idToken {VALID_TOKEN} in the TransactionEvents",
          f"idTokens {sorted(tokens)}")  # fmt: skip
    measurements.record("charging_after_authorize", Latency.between(first.mono, charging.mono))
    for _ in range(2):  # two Updated events to see seqNo go on
        expect_call(rig.log, "TransactionEvent", since=rig.mark(), within=5)
    tx = transaction_id(first)
    seq = [e.payload.get("seqNo") for e in calls(rig.log, "TransactionEvent", mark)
           if transaction_id(e) == tx]  # fmt: skip
    expected = list(range(seq[0], seq[0] + len(seq))) if seq else []
    check(seq == expected, "seqNo counting up by one per TransactionEvent", f"seqNo {seq}")


@case("TC_E_15_CS", clause("E07 Transaction locally stopped by IdToken", "TC_E_15_CS"),
      "Stop transaction options - StopAuthorized - Local")  # fmt: skip
def test_tc_e_15_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: presenting the same idToken again ends the transaction.

    Expected: TransactionEvent Ended for the same transactionId, triggerReason
    StopAuthorized, stoppedReason Local (E07; Local is the default, may be omitted).
    """
    mark = boot_accepted(rig)
    started = start_local_transaction(rig, mark)
    tx = transaction_id(started)
    rig.operator("present", VALID_TOKEN)
    ended = expect_call(
        rig.log, "TransactionEvent", since=started.seq + 1, within=ANSWER_S,
        where=lambda e: e.payload.get("eventType") == "Ended", what="TransactionEvent Ended",
    )  # fmt: skip
    check(transaction_id(ended) == tx, f"Ended for transactionId {tx}",
          f"transactionId {transaction_id(ended)!r}")  # fmt: skip
    trigger = ended.payload.get("triggerReason")
    check(trigger == "StopAuthorized", "triggerReason StopAuthorized", f"{trigger!r}")
    reason = ended.payload.get("transactionInfo", {}).get("stoppedReason", "Local")
    check(reason == "Local", "stoppedReason Local", f"{reason!r}")


def _sampled(entry, measurand: str) -> list[dict]:
    return [
        sv for mv in entry.payload.get("meterValue", []) for sv in mv.get("sampledValue", [])
        if sv.get("measurand", ENERGY) == measurand
    ]  # fmt: skip


@case("TC_J_09_CS", clause("J02 Sending transaction related Meter Values", "TC_J_09_CS"),
      "Sampled Meter Values - EventType Updated")  # fmt: skip
def test_tc_j_09_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: during a transaction, sampled meter values come with Updated events.

    Steps: SampledDataCtrlr.TxUpdatedInterval = 1 s, TxUpdatedMeasurands = energy; charge.
    Expected: TransactionEvent Updated carrying meterValue with
    Energy.Active.Import.Register every interval (+1 s) (J02).
    """
    mark = boot_accepted(rig)
    set_variable(rig, "SampledDataCtrlr", "TxUpdatedInterval", str(METER_INTERVAL_S))
    set_variable(rig, "SampledDataCtrlr", "TxUpdatedMeasurands", ENERGY)
    charging = start_local_transaction(rig, mark)
    since, times = charging.seq + 1, []
    for _ in range(3):
        updated = expect_call(
            rig.log, "TransactionEvent", since=since, within=METER_INTERVAL_S + TOLERANCE_S,
            where=lambda e: e.payload.get("eventType") == "Updated",
            what=f"TransactionEvent Updated every {METER_INTERVAL_S} s",
        )  # fmt: skip
        if not _sampled(updated, ENERGY):
            fail(f"meterValue with {ENERGY} in TransactionEvent Updated",
                 updated.frame.describe())  # fmt: skip
        times.append(updated.mono)
        since = updated.seq + 1
    measurements.record("meter_period", period_stats(times, METER_INTERVAL_S))
