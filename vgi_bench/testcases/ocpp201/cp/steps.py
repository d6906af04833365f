"""Steps shared by the OCPP 2.0.1 charging-station cases (limits:
``vgi_bench.testcases.ocpp_steps``)."""

from __future__ import annotations

from collections.abc import Callable

from vgi_bench.cases import check, fail
from vgi_bench.ocpp.checks import expect_call, expect_result, expect_status, is_call, seen
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.ocpp.log import Entry
from vgi_bench.ocpp.session import Exchange
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp_steps import (
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


def set_variable_if_implemented(rig: CpRig, component: str, variable: str, value: str) -> str:
    """SetVariables ``component.variable=value`` as OCTT's "(If implemented)" preparations:
    the attributeStatus, whatever it is (UnknownComponent/UnknownVariable: not implemented)."""
    exchange = rig.call(
        "SetVariables",
        {"setVariableData": [{"component": {"name": component}, "variable": {"name": variable},
                              "attributeValue": value}]},
    )  # fmt: skip
    status = str(expect_status_list(exchange, "setVariableResult")[0].get("attributeStatus"))
    rig.log.note(f"bench: SetVariables {component}.{variable}={value} (if implemented): {status}")
    return status


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


def id_token(token: str) -> dict[str, str]:
    return {"idToken": token, "type": "ISO14443"}


def statuses_until(
    rig: CpRig, action: str, since: int, *, within: float, final: set[str],
    where: Callable[[Entry], bool] | None = None,
) -> list[Entry]:  # fmt: skip
    """The ``action`` CALLs (FirmwareStatusNotification, LogStatusNotification) from ``since``
    up to the first whose status is in ``final``; fails naming what came when none did."""
    last = rig.log.wait_for(
        is_call(action, lambda e: e.payload.get("status") in final and (where is None
                                                                       or where(e))),
        within, since,
    )  # fmt: skip
    if last is None:
        fail(f"{action} with status {' or '.join(sorted(final))} within {within:g} s",
             seen(rig.log, since))  # fmt: skip
    return [e for e in rig.log.snapshot(since) if is_call(action)(e) and e.seq <= last.seq]


def expect_in_order(entries: list[Entry], wanted: list[str], what: str) -> None:
    """``wanted`` statuses appear in this order among ``entries`` (others may come between)."""
    got = [e.payload.get("status") for e in entries]
    position = 0
    for status in got:
        if position < len(wanted) and status == wanted[position]:
            position += 1
    check(position == len(wanted), f"{what} {' -> '.join(wanted)}", " -> ".join(map(str, got)))


def expect_request_id(entries: list[Entry], request_id: int, what: str) -> None:
    wrong = [e for e in entries if e.payload.get("requestId") != request_id]
    if wrong:
        fail(f"every {what} with requestId {request_id}",
             f"{wrong[0].payload.get('status')} with requestId "
             f"{wrong[0].payload.get('requestId')!r}")  # fmt: skip
