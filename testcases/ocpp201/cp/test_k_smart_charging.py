"""OCPP 2.0.1 charging station, functional block K (smart charging).

The bench judges the limit from the station's own meter values (Current.Import); with a
power analyzer in the profile a later suite can measure it at the cable instead.
"""

from __future__ import annotations

from bench.cases import Measurements, case, check, fail
from bench.ocpp.checks import expect_call, expect_status
from fixtures.ocpp.rig import CpRig
from testcases.ocpp201.cp.steps import (
    METER_INTERVAL_S,
    TOLERANCE_S,
    boot_accepted,
    clause,
    set_variable,
    start_local_transaction,
    transaction_id,
)

LIMIT_A = 6.0
CURRENT_TOLERANCE_A = 0.5
CURRENT = "Current.Import"


def _currents(entry) -> list[float]:
    return [
        float(sv["value"]) for mv in entry.payload.get("meterValue", [])
        for sv in mv.get("sampledValue", []) if sv.get("measurand") == CURRENT
        and sv.get("phase") in (None, "L1", "L2", "L3")
    ]  # fmt: skip


@case(
    "TC_K_60_CS",
    clause("K01 SetChargingProfile", "TC_K_60_CS"),
    "Set Charging Profile - TxProfile with ongoing transaction on the specified EVSE",
)
def test_tc_k_60_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a TxProfile on the running transaction limits the charging current.

    Steps: sample Current.Import every 1 s; charge; SetChargingProfile TxProfile for the
    transaction with a 6 A limit from now on.
    Expected:
    1. SetChargingProfileResponse Accepted (K01).
    2. From the second sample after the answer on, Current.Import <= 6 A (+0.5 A) (K01).
    """
    mark = boot_accepted(rig)
    set_variable(rig, "SampledDataCtrlr", "TxUpdatedInterval", str(METER_INTERVAL_S))
    set_variable(rig, "SampledDataCtrlr", "TxUpdatedMeasurands",
                 f"Energy.Active.Import.Register,{CURRENT}")  # fmt: skip
    tx = transaction_id(start_local_transaction(rig, mark))
    profile = {
        "id": 601, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative", "transactionId": tx,
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT_A}]}],
    }  # fmt: skip
    exchange = rig.call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
    expect_status(exchange, "Accepted")
    since, samples = exchange.response.seq + 1, []
    for _ in range(3):
        event = expect_call(
            rig.log, "TransactionEvent", since=since, within=METER_INTERVAL_S + TOLERANCE_S,
            where=lambda e: e.payload.get("eventType") == "Updated",
            what=f"TransactionEvent Updated with {CURRENT}",
        )  # fmt: skip
        currents = _currents(event)
        if not currents:
            fail(f"{CURRENT} in the meter values", event.frame.describe())
        samples.append(max(currents))
        since = event.seq + 1
    measurements.record("current_a_after_profile", samples)
    worst = max(samples[1:])
    check(worst <= LIMIT_A + CURRENT_TOLERANCE_A,
          f"{CURRENT} <= {LIMIT_A:g} A (+{CURRENT_TOLERANCE_A:g} A) under the TxProfile",
          f"{worst:g} A")  # fmt: skip
