"""OCPP 1.6J charge point: charging sessions, authorization, remote control, meter values,
smart charging. These need an operator at a real charge point (skipped in automated runs).
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail, require
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_status, is_call
from vgi_bench.ocpp.csms_handlers import UNKNOWN_TOKEN, VALID_TOKEN
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import (
    clause,
    configure,
    start_local_transaction,
    transaction_id,
)
from vgi_bench.testcases.ocpp_steps import ANSWER_S, METER_INTERVAL_S, TOLERANCE_S, boot_accepted
from vgi_bench.timing import Latency, period_stats

LIMIT_A = 6.0
CURRENT_TOLERANCE_A = 0.5


def _status(status: str):
    return lambda e: e.payload.get("connectorId") == 1 and e.payload.get("status") == status


@case("TC_003_CS", clause("§4.8 Start Transaction, §4.10 Stop Transaction", "TC_003_CS"),
      "Regular Charging Session - Plugin First")  # fmt: skip
def test_tc_003_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a whole session, plug-in first, locally started and stopped.

    Expected:
    1. StatusNotification Preparing on plug-in; Authorize and StartTransaction for the
       idTag; StatusNotification Charging (§4.1, §4.8, §4.9).
    2. Presenting the idTag again: StopTransaction with the transactionId the central
       system gave and meterStop >= meterStart (§4.10).
    """
    mark = boot_accepted(rig)
    start = start_local_transaction(rig, mark)
    expect_call(rig.log, "StatusNotification", since=mark, within=0.5, where=_status("Preparing"),
                what="StatusNotification Preparing")  # fmt: skip
    expect_call(rig.log, "StatusNotification", since=start.seq, within=ANSWER_S,
                where=_status("Charging"), what="StatusNotification Charging")  # fmt: skip
    tx = transaction_id(rig, start)
    rig.operator("present", VALID_TOKEN)
    stop = expect_call(rig.log, "StopTransaction", since=start.seq, within=ANSWER_S)
    seen_id = stop.payload.get("transactionId")
    check(seen_id == tx, f"StopTransaction for transactionId {tx}", f"transactionId {seen_id!r}")
    meter_start, meter_stop = start.payload.get("meterStart", 0), stop.payload.get("meterStop")
    check(isinstance(meter_stop, int) and meter_stop >= meter_start,
          f"meterStop >= meterStart ({meter_start})", f"meterStop {meter_stop!r}")  # fmt: skip
    measurements.record("session_s", round(stop.mono - start.mono, 3))


@case(
    "TC_023_CS", clause("§4.1 Authorize", "TC_023_CS"), "Start Charging Session – Authorize invalid"
)
def test_tc_023_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idTag the central system answers Invalid starts no transaction.

    Expected: Authorize for the idTag; no StartTransaction (§4.1, §3.5).
    """
    mark = boot_accepted(rig)
    rig.operator("plug_in")
    rig.operator("present", UNKNOWN_TOKEN)
    auth = expect_call(rig.log, "Authorize", since=mark, within=ANSWER_S)
    expect_no_call(rig.log, is_call("StartTransaction"), since=auth.seq, during=3.0,
                   what="no StartTransaction after Authorize answered Invalid")  # fmt: skip


@case("TC_010_CS", clause("§5.11 Remote Start Transaction", "TC_010_CS"),
      "Remote Start Charging Session – Cable Plugged in First")  # fmt: skip
def test_tc_010_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with the cable plugged in, RemoteStartTransaction starts a transaction.

    Expected: RemoteStartTransaction.conf Accepted; StartTransaction for the idTag on
    connector 1 (AuthorizeRemoteTxRequests false: no Authorize needed) (§5.11).
    """
    mark = boot_accepted(rig)
    rig.operator("plug_in")
    exchange = rig.call("RemoteStartTransaction", {"connectorId": 1, "idTag": VALID_TOKEN})
    expect_status(exchange, "Accepted")
    start = expect_call(rig.log, "StartTransaction", since=mark, within=ANSWER_S,
                        what="StartTransaction after RemoteStartTransaction")  # fmt: skip
    tag = start.payload.get("idTag")
    check(tag == VALID_TOKEN, f"StartTransaction for idTag {VALID_TOKEN}", f"{tag!r}")
    measurements.record("start_after_request", Latency.between(exchange.request.mono, start.mono))


@case("TC_012_CS", clause("§5.12 Remote Stop Transaction", "TC_012_CS"),
      "Remote Stop Charging Session")  # fmt: skip
def test_tc_012_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: RemoteStopTransaction ends the running transaction.

    Expected: RemoteStopTransaction.conf Accepted; StopTransaction for that transactionId
    with reason Remote (§5.12, §4.10).
    """
    mark = boot_accepted(rig)
    start = start_local_transaction(rig, mark)
    tx = transaction_id(rig, start)
    exchange = rig.call("RemoteStopTransaction", {"transactionId": tx})
    expect_status(exchange, "Accepted")
    stop = expect_call(rig.log, "StopTransaction", since=start.seq, within=ANSWER_S,
                       what="StopTransaction after RemoteStopTransaction")  # fmt: skip
    check(stop.payload.get("transactionId") == tx, f"transactionId {tx}",
          f"{stop.payload.get('transactionId')!r}")  # fmt: skip
    reason = stop.payload.get("reason")
    check(reason == "Remote", "reason Remote", f"{reason!r}")


@case("TC_028_CS", clause("§5.12 Remote Stop Transaction", "TC_028_CS"),
      "Remote Stop Transaction – Rejected")  # fmt: skip
def test_tc_028_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a stop for a transaction the charge point does not run is rejected.

    Expected: RemoteStopTransaction.conf Rejected (§5.12).
    """
    boot_accepted(rig)
    expect_status(rig.call("RemoteStopTransaction", {"transactionId": 987654}), "Rejected")


def _values(entry, measurand: str) -> list[float]:
    return [
        float(sv["value"]) for mv in entry.payload.get("meterValue", [])
        for sv in mv.get("sampledValue", [])
        if sv.get("measurand", "Energy.Active.Import.Register") == measurand
    ]  # fmt: skip


def _meter_values(rig: CpRig, since: int, count: int, measurand: str) -> list[tuple[float, list]]:
    samples = []
    for _ in range(count):
        entry = expect_call(rig.log, "MeterValues", since=since,
                            within=METER_INTERVAL_S + TOLERANCE_S,
                            what=f"MeterValues every {METER_INTERVAL_S} s")  # fmt: skip
        values = _values(entry, measurand)
        if not values:
            fail(f"{measurand} in MeterValues", entry.frame.describe())
        samples.append((entry.mono, values))
        since = entry.seq + 1
    return samples


@case("TC_070_CS", clause("§4.7 Meter Values", "TC_070_CS"), "Sampled Meter Values")
def test_tc_070_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: during a transaction the charge point samples at MeterValueSampleInterval.

    Steps: MeterValueSampleInterval = 1; charge.
    Expected: MeterValues with the transactionId and Energy.Active.Import.Register every
    interval (+1 s) (§4.7, §9.1).
    """
    mark = boot_accepted(rig)
    configure(rig, "MeterValueSampleInterval", str(METER_INTERVAL_S))
    start = start_local_transaction(rig, mark)
    tx = transaction_id(rig, start)
    samples = _meter_values(rig, start.seq, 3, "Energy.Active.Import.Register")
    entries = [e for e in rig.log.snapshot(start.seq) if is_call("MeterValues")(e)]
    ids = {e.payload.get("transactionId") for e in entries}
    check(ids == {tx}, f"MeterValues for transactionId {tx}", f"transactionId {sorted(ids)}")
    measurements.record("meter_period", period_stats([t for t, _ in samples], METER_INTERVAL_S))


@case("TC_057_CS", clause("§5.16 Set Charging Profile, §3.13 Smart Charging", "TC_057_CS"),
      "Central Smart Charging - TxProfile")  # fmt: skip
def test_tc_057_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a TxProfile on the running transaction limits the current.

    Steps: sample Current.Import every 1 s; charge; SetChargingProfile TxProfile 6 A.
    Expected: SetChargingProfile.conf Accepted; from the second sample after the answer on,
    Current.Import <= 6 A (+0.5 A) (§3.13.4, §5.16).
    """
    mark = boot_accepted(rig)
    configure(rig, "MeterValueSampleInterval", str(METER_INTERVAL_S))
    configure(rig, "MeterValuesSampledData", "Energy.Active.Import.Register,Current.Import")
    start = start_local_transaction(rig, mark)
    tx = transaction_id(rig, start)
    profile = {
        "chargingProfileId": 57, "transactionId": tx, "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": {"chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT_A}]},
    }  # fmt: skip
    exchange = rig.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    expect_status(exchange, "Accepted")
    response = require(exchange.response, "a SetChargingProfile response", "none")
    samples = _meter_values(rig, response.seq + 1, 3, "Current.Import")
    currents = [max(v) for _, v in samples]
    measurements.record("current_a_after_profile", currents)
    worst = max(currents[1:])
    check(worst <= LIMIT_A + CURRENT_TOLERANCE_A,
          f"Current.Import <= {LIMIT_A:g} A (+{CURRENT_TOLERANCE_A:g} A) under the TxProfile",
          f"{worst:g} A")  # fmt: skip
