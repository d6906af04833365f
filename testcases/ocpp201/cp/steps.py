"""Steps shared by the OCPP 2.0.1 charging-station cases (limits: ``testcases.ocpp_steps``)."""

from __future__ import annotations

from bench.cases import check
from bench.ocpp.checks import expect_call, expect_result, expect_status
from bench.ocpp.csms_handlers import VALID_TOKEN
from bench.ocpp.log import Entry
from bench.ocpp.session import Exchange
from fixtures.ocpp.rig import CpRig
from testcases.ocpp_steps import (
    ANSWER_S,
    INTERVAL_S,
    METER_INTERVAL_S,
    TOLERANCE_S,
    boot_accepted,
)

__all__ = [
    "ANSWER_S",
    "INTERVAL_S",
    "METER_INTERVAL_S",
    "TOLERANCE_S",
    "boot_accepted",
]

OCTT = "OCA OCTT 2.0.1"


def clause(use_case: str, case_id: str) -> str:
    return f"OCPP 2.0.1 Part 2 {use_case}; {OCTT} {case_id}"


def set_variable(rig: CpRig, component: str, variable: str, value: str) -> None:
    exchange = rig.call(
        "SetVariables",
        {"setVariableData": [{"component": {"name": component}, "variable": {"name": variable},
                              "attributeValue": value}]},
    )  # fmt: skip
    results = expect_status_list(exchange, "setVariableResult")
    status = results[0].get("attributeStatus")
    check(status == "Accepted", f"SetVariables {component}.{variable}={value} Accepted",
          f"attributeStatus {status!r}")  # fmt: skip


def expect_status_list(exchange: Exchange, key: str) -> list[dict]:
    """The non-empty result list ``key`` of a CALLRESULT."""
    payload = expect_result(exchange)
    items = payload.get(key) or []
    check(len(items) >= 1, f"{exchange.action} response with {key}", str(payload))
    return items


def is_charging(entry: Entry) -> bool:
    return entry.payload.get("transactionInfo", {}).get("chargingState") == "Charging"


def start_local_transaction(rig: CpRig, mark: int) -> Entry:
    """EV plugged in, valid idToken presented: the TransactionEvent that reports Charging."""
    rig.operator("plug_in")
    rig.operator("present", VALID_TOKEN)
    return expect_call(
        rig.log, "TransactionEvent", since=mark, within=ANSWER_S, where=is_charging,
        what="TransactionEvent with chargingState Charging",
    )  # fmt: skip


def transaction_id(entry: Entry) -> str:
    return entry.payload.get("transactionInfo", {}).get("transactionId", "")


def remote_stop(rig: CpRig, tx_id: str) -> None:
    expect_status(rig.call("RequestStopTransaction", {"transactionId": tx_id}), "Accepted")
