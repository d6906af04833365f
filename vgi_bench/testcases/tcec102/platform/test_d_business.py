"""Business beyond start and stop: equipment authentication, price policy, pushed stop
results and charge status, order reconciliation (T/CEC 102.3)."""

from __future__ import annotations

from vgi_bench.cases import case, check
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.tcec102.platform.steps import (
    ENERGY_TOLERANCE_KWH,
    MONEY_TOLERANCE,
    STATUS_CHARGING,
    charge_seq,
    conforms,
    free_connector,
    ok,
    start_charge,
    waited,
)

CLAUSE = "T/CEC 102.3-2016"
UNKNOWN_CONNECTOR = "VGI-NO-SUCH-CONNECTOR"


def _money_adds_up(data: dict, elec: str, service: str, total: str, what: str) -> None:
    expected = data[elec] + data[service]
    check(abs(data[total] - expected) <= MONEY_TOLERANCE,
          f"{what}: {total} = {elec} + {service} = {expected:.2f}",
          f"{total} {data[total]}")  # fmt: skip


@case("TCEC.C.04", f"{CLAUSE} query_equip_auth", "Equipment authentication, known and unknown")
def test_tcec_c04_equip_auth(rig) -> None:
    """Purpose: the partner asks whether a connector can be charged from before starting.

    Steps: query_equip_auth on a free connector (EquipAuthSeq: OperatorID + unique,
    27 characters); then on ConnectorID ``VGI-NO-SUCH-CONNECTOR``.
    Expected: 1. Ret 0, Data valid against equip_auth.json, EquipAuthSeq and ConnectorID
    as sent; 2. SuccStat 0, or SuccStat 1 with FailReason 1 (此设备尚未插枪: no vehicle
    plugged in is a sound answer too); 3. the unknown connector: SuccStat 1 with a
    FailReason other than 0, or Ret 4004 -- never SuccStat 0.
    """
    _, connector_id = free_connector(rig)
    asked = {"EquipAuthSeq": charge_seq(rig.client.operator_id), "ConnectorID": connector_id}
    exchange = rig.call("query_equip_auth", asked)
    data = ok(exchange, "query_equip_auth")
    conforms("equip_auth", data, "query_equip_auth Data")
    for key in ("EquipAuthSeq", "ConnectorID"):
        check(data[key] == asked[key], f"{key} {asked[key]} echoed", f"{key} {data[key]}")
    check(data["SuccStat"] == 0 or data["FailReason"] == 1,
          f"SuccStat 0 (or FailReason 1, not plugged in) for connector {connector_id}",
          exchange.seen())  # fmt: skip
    unknown = {"EquipAuthSeq": charge_seq(rig.client.operator_id),
               "ConnectorID": UNKNOWN_CONNECTOR}  # fmt: skip
    exchange = rig.call("query_equip_auth", unknown, name="query_equip_auth_unknown")
    if exchange.ret == Ret.BUSINESS_PARAMS:
        return
    data = ok(exchange, "query_equip_auth on an unknown connector")
    check(data.get("SuccStat") == 1 and data.get("FailReason") not in (0, None),
          f"SuccStat 1 with a FailReason (or Ret 4004) for {UNKNOWN_CONNECTOR}",
          exchange.seen())  # fmt: skip


@case("TCEC.C.05", f"{CLAUSE} query_equip_business_policy",
      "The price policy of a connector is complete")  # fmt: skip
def test_tcec_c05_business_policy(rig) -> None:
    """Purpose: the partner reads a connector's tariff before a charge.

    Steps: query_equip_business_policy on a free connector (EquipBizSeq 27 characters).
    Expected: 1. Ret 0, SuccStat 0; 2. Data valid against business_policy.json
    (SumPeriod 0..32, PolicyInfos with StartTime ``HHmmss``, ElecPrice, SevicePrice --
    the standard's spelling); 3. SumPeriod = the number of PolicyInfos, at least 1;
    4. the periods in ascending StartTime, the first at 000000 (the day covered: bench
    interpretation of 时段起始时间点).
    """
    _, connector_id = free_connector(rig)
    asked = {"EquipBizSeq": charge_seq(rig.client.operator_id), "ConnectorID": connector_id}
    exchange = rig.call("query_equip_business_policy", asked)
    data = ok(exchange, "query_equip_business_policy")
    check(data.get("SuccStat") == 0, "SuccStat 0 for a connector it has", exchange.seen())
    conforms("business_policy", data, "query_equip_business_policy Data")
    periods = data["PolicyInfos"]
    rig.measurements.record("PolicyInfos", periods)
    check(data["SumPeriod"] == len(periods) and periods != [],
          "SumPeriod = the number of PolicyInfos, at least 1",
          f"SumPeriod {data['SumPeriod']}, {len(periods)} PolicyInfos")  # fmt: skip
    starts = [p["StartTime"] for p in periods]
    check(starts[0] == "000000" and starts == sorted(set(starts)),
          "periods ascending from StartTime 000000", f"StartTime {starts}")  # fmt: skip


@case("TCEC.C.06", f"{CLAUSE} notification_stop_charge_result", "A stop result is pushed")
def test_tcec_c06_stop_result(rig) -> None:
    """Purpose: after a stop the platform pushes its result to the partner.

    Steps: start a charge; query_stop_charge; wait for the push.
    Expected: 1. notification_stop_charge_result for that StartChargeSeq within
    ``ack_limit_s`` (bench interpretation: the standard gives no figure); 2. valid against
    stop_charge_result.json; 3. StartChargeSeqStat 4 (已结束), SuccStat 0, the
    ConnectorID of the charge.
    """
    _, connector_id, request, _ = start_charge(rig)
    seq = request["StartChargeSeq"]
    mark = rig.inbox.mark()
    stop = rig.call("query_stop_charge", {"StartChargeSeq": seq, "ConnectorID": connector_id})
    check(ok(stop, "query_stop_charge").get("SuccStat") == 0, "query_stop_charge SuccStat 0",
          stop.seen())  # fmt: skip
    push = waited(rig, "notification_stop_charge_result", mark,
                  lambda d: d["StartChargeSeq"] == seq,
                  f"notification_stop_charge_result for {seq}").data  # fmt: skip
    rig.measurements.record("stop_result", push)
    conforms("stop_charge_result", push, "notification_stop_charge_result Data")
    check(push["StartChargeSeqStat"] == 4 and push["SuccStat"] == 0
          and push["ConnectorID"] == connector_id,
          f"StartChargeSeqStat 4, SuccStat 0, ConnectorID {connector_id}",
          str(push))  # fmt: skip


@case("TCEC.C.07", f"{CLAUSE} notification_equip_charge_status",
      "The charge status is pushed periodically while charging")  # fmt: skip
def test_tcec_c07_charge_status_push(rig) -> None:
    """Purpose: while a charge runs, the platform pushes its status to the partner.

    Steps: start a charge; wait for two pushes of its status.
    Expected: 1. notification_equip_charge_status for that StartChargeSeq within
    ``charge_status_period_s`` + ``ack_limit_s`` of the start, and a second one within
    1.5 x ``charge_status_period_s`` + ``ack_limit_s`` of the first (the period is the
    profile's, 50 s by default: the interval published T/CEC 102 integration guides
    require, 每间隔50秒; the 1.5 x margin is a bench interpretation); 2. each valid
    against charge_status_push.json, StartChargeSeqStat 2 (充电中), ConnectorStatus 3;
    3. TotalMoney = ElecMoney + SeviceMoney (±0.01 元); 4. TotalPower not decreasing.
    """
    _, connector_id, request, mark = start_charge(rig)
    seq = request["StartChargeSeq"]
    period, limit = rig.config.charge_status_period_s, rig.config.ack_limit_s
    found = rig.inbox.wait("notification_equip_charge_status", period + limit, since=mark,
                           match=lambda d: d["StartChargeSeq"] == seq)  # fmt: skip
    check(found is not None,
          f"notification_equip_charge_status for {seq} within {period + limit:g} s",
          "none")  # fmt: skip
    pushes = [found]
    second = rig.inbox.wait("notification_equip_charge_status", 1.5 * period + limit,
                            since=rig.inbox.items.index(found) + 1,
                            match=lambda d: d["StartChargeSeq"] == seq)  # fmt: skip
    check(second is not None,
          f"a second notification_equip_charge_status within {1.5 * period + limit:g} s",
          "only one")  # fmt: skip
    pushes.append(second)
    rig.measurements.record("gap_s", round(second.t - found.t, 3))
    for push in pushes:
        conforms("charge_status_push", push.data, "notification_equip_charge_status Data")
        check(push.data["StartChargeSeqStat"] == 2
              and push.data["ConnectorStatus"] == STATUS_CHARGING
              and push.data["ConnectorID"] == connector_id,
              f"StartChargeSeqStat 2, ConnectorStatus 3, ConnectorID {connector_id}",
              str(push.data)[:300])  # fmt: skip
        _money_adds_up(push.data, "ElecMoney", "SeviceMoney", "TotalMoney",
                       "notification_equip_charge_status")  # fmt: skip
    check(pushes[1].data["TotalPower"] >= pushes[0].data["TotalPower"],
          "TotalPower not decreasing",
          f"{pushes[0].data['TotalPower']} then {pushes[1].data['TotalPower']}")  # fmt: skip


@case("TCEC.C.08", f"{CLAUSE} check_charge_orders",
      "A reconciliation batch holds the order and adds up")  # fmt: skip
def test_tcec_c08_check_charge_orders(rig) -> None:
    """Purpose: the platform reconciles its orders with the partner.

    Steps: start and stop a charge; take its notification_charge_order_info; wait up to
    ``check_orders_wait_s`` for a check_charge_orders push holding that StartChargeSeq
    (a real platform reconciles on its own schedule: set the wait to it). The bench
    answers with no disputed order.
    Expected: 1. valid against check_charge_orders.json; 2. OrderCount = the number of
    ChargeOrders; 3. TotalOrderPower = the sum of TotalPower (±0.01 kWh) and
    TotalOrderMoney = the sum of TotalMoney (±0.01 元 per order); 4. the order's
    TotalPower and TotalMoney as in its notification_charge_order_info.
    """
    _, connector_id, request, _ = start_charge(rig)
    seq = request["StartChargeSeq"]
    mark = rig.inbox.mark()
    stop = rig.call("query_stop_charge", {"StartChargeSeq": seq, "ConnectorID": connector_id})
    ok(stop, "query_stop_charge")
    order = waited(rig, "notification_charge_order_info", mark,
                   lambda d: d["StartChargeSeq"] == seq,
                   f"notification_charge_order_info for {seq}").data  # fmt: skip
    wait = rig.config.check_orders_wait_s
    found = rig.inbox.wait(
        "check_charge_orders", wait, since=mark,
        match=lambda d: any(o["StartChargeSeq"] == seq for o in d["ChargeOrders"]),
    )  # fmt: skip
    check(found is not None, f"check_charge_orders holding {seq} within {wait:g} s",
          "none")  # fmt: skip
    batch = found.data
    rig.measurements.record("check_charge_orders", batch)
    conforms("check_charge_orders", batch, "check_charge_orders Data")
    orders = batch["ChargeOrders"]
    check(batch["OrderCount"] == len(orders), "OrderCount = the number of ChargeOrders",
          f"OrderCount {batch['OrderCount']}, {len(orders)} ChargeOrders")  # fmt: skip
    power = sum(o["TotalPower"] for o in orders)
    check(abs(batch["TotalOrderPower"] - power) <= ENERGY_TOLERANCE_KWH * max(1, len(orders)),
          f"TotalOrderPower = the sum of TotalPower = {power:.2f}",
          f"TotalOrderPower {batch['TotalOrderPower']}")  # fmt: skip
    money = sum(o["TotalMoney"] for o in orders)
    check(abs(batch["TotalOrderMoney"] - money) <= MONEY_TOLERANCE * max(1, len(orders)),
          f"TotalOrderMoney = the sum of TotalMoney = {money:.2f}",
          f"TotalOrderMoney {batch['TotalOrderMoney']}")  # fmt: skip
    listed = next(o for o in orders if o["StartChargeSeq"] == seq)
    for key in ("TotalPower", "TotalMoney"):
        check(abs(listed[key] - order[key]) <= MONEY_TOLERANCE,
              f"{key} {order[key]} as in notification_charge_order_info",
              f"{key} {listed[key]} in check_charge_orders")  # fmt: skip
