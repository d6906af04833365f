"""Charging business: start, status, stop, pushed results and orders (T/CEC 102.3)."""

from __future__ import annotations

from vgi_bench.cases import case, check
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.tcec102.platform.steps import (
    STATUS_CHARGING,
    conforms,
    not_charging,
    ok,
    start_charge,
    start_request,
    waited,
)
from vgi_bench.timing import Latency

CLAUSE = "T/CEC 102.3-2016"


@case("TCEC.N.01", "T/CEC 102.2-2016 notification_stationStatus",
      "A status change is pushed as notification_stationStatus")  # fmt: skip
def test_tcec_n01_status_notification(rig) -> None:
    """Purpose: the platform pushes connector status changes to its partner.

    Steps: start a charge on a free connector.
    Expected: 1. notification_stationStatus with that connector's Status 3 within
    ``ack_limit_s`` (bench interpretation: the standard gives no figure); 2. its
    ConnectorStatusInfo valid against connector_status_info.json.
    """
    _, connector_id, _, mark = start_charge(rig)
    sent_at = rig.extra["start_sent_at"]
    push = waited(rig, "notification_stationStatus", mark,
                  lambda d: d["ConnectorStatusInfo"]["ConnectorID"] == connector_id
                  and d["ConnectorStatusInfo"]["Status"] == STATUS_CHARGING,
                  f"notification_stationStatus {connector_id} Status 3")  # fmt: skip
    rig.measurements.record(
        "push_latency", Latency.between(sent_at, push.t, rig.config.ack_limit_s)
    )
    conforms("connector_status_info", push.data["ConnectorStatusInfo"], "ConnectorStatusInfo")


@case(
    "TCEC.C.01",
    f"{CLAUSE} query_start_charge, notification_start_charge_result, query_equip_charge_status",
    "A charge starts and its result is pushed",
)
def test_tcec_c01_start_charge(rig) -> None:
    """Purpose: the partner starts a charge on a connector.

    Steps: query_start_charge on a free connector; wait for the pushed result;
    query_equip_charge_status.
    Expected: 1. Ret 0, SuccStat 0, StartChargeSeqStat 1 or 2; 2. notification_start_charge_result
    for that StartChargeSeq within ``ack_limit_s``, valid, StartChargeSeqStat 2;
    3. query_equip_charge_status valid, StartChargeSeqStat 2 (charging).
    """
    _, _, request, mark = start_charge(rig)
    seq = request["StartChargeSeq"]
    push = waited(rig, "notification_start_charge_result", mark,
                  lambda d: d["StartChargeSeq"] == seq,
                  f"notification_start_charge_result for {seq}")  # fmt: skip
    conforms("start_charge_result", push.data, "notification_start_charge_result Data")
    check(push.data["StartChargeSeqStat"] == 2, "pushed StartChargeSeqStat 2 (charging)",
          str(push.data))  # fmt: skip
    status = ok(rig.call("query_equip_charge_status", {"StartChargeSeq": seq}), "charge status")
    conforms("charge_status", status, "query_equip_charge_status Data")
    check(status["StartChargeSeqStat"] == 2, "StartChargeSeqStat 2 (charging)", str(status))


@case("TCEC.C.02", f"{CLAUSE} query_stop_charge, notification_charge_order_info, "
      "query_equip_charge_status",
      "A charge stops and its order is pushed, money adding up")  # fmt: skip
def test_tcec_c02_stop_and_order(rig) -> None:
    """Purpose: the partner stops a charge; the platform pushes the charge order.

    Steps: start a charge; query_stop_charge; wait for the order; query_equip_charge_status.
    Expected: 1. stop Ret 0, SuccStat 0; 2. notification_charge_order_info for that
    StartChargeSeq within ``ack_limit_s``, valid against charge_order.json, TotalMoney =
    TotalElecMoney + TotalSeviceMoney (±0.01 元); 3. the charge no longer charging
    (StartChargeSeqStat 3 or 4) within ``ack_limit_s``.
    """
    station_id, connector_id, request, _ = start_charge(rig)
    seq = request["StartChargeSeq"]
    mark = rig.inbox.mark()
    stop = rig.call("query_stop_charge", {"StartChargeSeq": seq, "ConnectorID": connector_id})
    data = ok(stop, "query_stop_charge")
    check(data.get("SuccStat") == 0, "query_stop_charge SuccStat 0", stop.seen())
    order = waited(rig, "notification_charge_order_info", mark,
                   lambda d: d["StartChargeSeq"] == seq,
                   f"notification_charge_order_info for {seq}").data  # fmt: skip
    rig.measurements.record("order", order)
    conforms("charge_order", order, "notification_charge_order_info Data")
    total = order["TotalElecMoney"] + order["TotalSeviceMoney"]
    check(abs(order["TotalMoney"] - total) <= 0.01,
          f"TotalMoney = TotalElecMoney + TotalSeviceMoney = {total:.2f}",
          f"TotalMoney {order['TotalMoney']}")  # fmt: skip
    status = rig.call("query_equip_charge_status", {"StartChargeSeq": seq}, name="after_stop")
    stat = status.data.get("StartChargeSeqStat") if isinstance(status.data, dict) else None
    check(status.ret == Ret.OK and stat in (3, 4), "StartChargeSeqStat 3 or 4 after the stop",
          status.seen())  # fmt: skip
    not_charging(rig, station_id, connector_id, "the stop")


@case("TCEC.C.03", f"{CLAUSE} query_start_charge", "A start on an unknown connector fails")
def test_tcec_c03_unknown_connector(rig) -> None:
    """Purpose: a start on a connector the platform does not have fails cleanly.

    Steps: query_start_charge on ConnectorID ``VGI-NO-SUCH-CONNECTOR``.
    Expected: 1. SuccStat 1 with FailReason 1 (此设备不存在), or Ret 4004.
    """
    request = start_request(rig, "VGI-NO-SUCH-CONNECTOR")
    exchange = rig.call("query_start_charge", request)
    rig.measurements.record("sent", "query_start_charge on unknown ConnectorID")
    if exchange.ret == Ret.BUSINESS_PARAMS:
        return
    data = ok(exchange, "query_start_charge")
    check(data.get("SuccStat") == 1 and data.get("FailReason") == 1,
          "SuccStat 1, FailReason 1 for an unknown connector", exchange.seen())  # fmt: skip
