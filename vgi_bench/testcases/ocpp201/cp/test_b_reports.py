"""OCPP 2.0.1 charging station, functional block B: base reports (B07 Get Base Report)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_status, is_call, seen
from vgi_bench.ocpp.log import Entry
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import INTERVAL_S, boot_accepted, clause
from vgi_bench.timing import Latency

REPORT_S = 10.0


def base_report(rig: CpRig, request_id: int, base: str) -> list[dict]:
    """GetBaseReport ``base``: Accepted, then NotifyReport parts with ``request_id``, seqNo
    0, 1, ... until the one with tbc false; their reportData, joined."""
    mark = rig.mark()
    exchange = rig.call("GetBaseReport", {"requestId": request_id, "reportBase": base})
    expect_status(exchange, "Accepted")

    def last_part(entry: Entry) -> bool:
        return entry.payload.get("requestId") == request_id and not entry.payload.get("tbc")

    last = rig.log.wait_for(is_call("NotifyReport", last_part), REPORT_S, mark)
    if last is None:
        fail(f"NotifyReport for requestId {request_id} ending with tbc false within "
             f"{REPORT_S:g} s", seen(rig.log, mark))  # fmt: skip
    parts = [e for e in rig.log.snapshot(mark) if is_call("NotifyReport")(e)
             and e.seq <= last.seq]  # fmt: skip
    ids = [p.payload.get("requestId") for p in parts]
    check(all(i == request_id for i in ids), f"every NotifyReport with requestId {request_id}",
          f"requestIds {ids}")  # fmt: skip
    seq_nos = [p.payload.get("seqNo") for p in parts]
    check(seq_nos == list(range(len(parts))), "NotifyReport seqNo 0, 1, 2, ... without a gap",
          f"seqNo {seq_nos}")  # fmt: skip
    rig.measurements.record("report_after_request",
                            Latency.between(exchange.request.mono, last.mono))  # fmt: skip
    rig.measurements.record("report_parts", len(parts))
    return [item for p in parts for item in p.payload.get("reportData") or []]


def find(items: list[dict], component: str, variable: str, instance: str | None = None):
    for item in items:
        if (item.get("component", {}).get("name") == component
                and item.get("variable", {}).get("name") == variable
                and item.get("variable", {}).get("instance") == instance):  # fmt: skip
            return item
    return None


def actual(item: dict | None) -> str | None:
    for attribute in (item or {}).get("variableAttribute", []):
        if attribute.get("type", "Actual") == "Actual":
            return attribute.get("value")
    return None


def _expect_heartbeat_interval(items: list[dict]) -> None:
    value = actual(find(items, "OCPPCommCtrlr", "HeartbeatInterval"))
    check(value == str(INTERVAL_S), f"OCPPCommCtrlr.HeartbeatInterval reported as {INTERVAL_S} "
          "(the boot response's interval)", f"{value!r} among {len(items)} variables")  # fmt: skip


@case("TC_B_12_CS", clause("B07 Get Base Report", "TC_B_12_CS"),
      "Get Base Report - ConfigurationInventory")  # fmt: skip
def test_tc_b_12_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station reports its configuration variables.

    Steps: GetBaseReport requestId 8101, reportBase ConfigurationInventory.
    Expected:
    1. GetBaseReportResponse Accepted (B07).
    2. NotifyReport messages with requestId 8101, seqNo 0, 1, ... and tbc false on the
       last (B07); the report holds OCPPCommCtrlr.HeartbeatInterval with its Actual value
       (the boot response's interval), which the operator can set.
    """
    boot_accepted(rig)
    _expect_heartbeat_interval(base_report(rig, 8101, "ConfigurationInventory"))


@case("TC_B_13_CS", clause("B07 Get Base Report", "TC_B_13_CS"),
      "Get Base Report - FullInventory")  # fmt: skip
def test_tc_b_13_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station reports every variable, read-only ones included.

    Steps: GetBaseReport requestId 8102, reportBase FullInventory.
    Expected:
    1. GetBaseReportResponse Accepted; NotifyReport parts with requestId 8102, seqNo
       without a gap, the last with tbc false (B07).
    2. The report holds OCPPCommCtrlr.HeartbeatInterval and the required read-only
       DeviceDataCtrlr.ItemsPerMessage[GetVariables] with their Actual values.
    """
    boot_accepted(rig)
    items = base_report(rig, 8102, "FullInventory")
    _expect_heartbeat_interval(items)
    value = actual(find(items, "DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"))
    check(value is not None, "DeviceDataCtrlr.ItemsPerMessage[GetVariables] in the "
          "FullInventory", f"not among {len(items)} variables")  # fmt: skip
