"""Steps of the tcec102.platform cases: calls, checks with "expected ...; saw ...", the
acknowledgements the bench gives the DUT's pushes, and the bad inputs of the error cases
as data (what is sent, which Ret codes are right)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vgi_bench.cases import check, fail
from vgi_bench.platform.client import Exchange
from vgi_bench.platform.inbox import Notification, echo
from vgi_bench.platform.link import dut_placement
from vgi_bench.platform.ret import Ret, ret_name
from vgi_bench.platform.schemas import SchemaSet
from vgi_bench.profile import PlatformConfig
from vgi_bench.rigs.platform import PlatformRig

SCHEMAS = SchemaSet("vgi_bench.testcases.tcec102.platform")

#: The bench's reconciliation answer: no disputed order (T/CEC 102.3 check_charge_orders).
NO_DISPUTE = {"TotalDisputeOrder": 0, "TotalDisputePower": 0, "TotalDisputeMoney": 0,
              "DisputeOrders": []}  # fmt: skip

#: The bench's answers to the DUT's pushes (T/CEC 102.3; partner side).
PARTNER_ACKS = {
    "notification_stationStatus": echo(Status=0),
    "notification_start_charge_result": echo("StartChargeSeq", SuccStat=0, FailReason=0),
    "notification_stop_charge_result": echo("StartChargeSeq", SuccStat=0, FailReason=0),
    "notification_charge_order_info": echo("StartChargeSeq", "ConnectorID", ConfirmResult=0),
    "notification_equip_charge_status": echo("StartChargeSeq", SuccStat=0),
    "check_charge_orders": echo("CheckOrderSeq", "StartTime", "EndTime", **NO_DISPUTE),
}

STATUS_CHARGING = 3
SEQ_LENGTH = 27  # StartChargeSeq: OperatorID + unique part, 27 characters
#: Energy (kWh) and money (元) carry 2 decimals: sums may differ by one rounding step.
ENERGY_TOLERANCE_KWH = 0.01
MONEY_TOLERANCE = 0.01


def reference_platform(config: PlatformConfig, faults: tuple[str, ...]) -> Any:
    """The simulated DUT: the reference platform at ``url``, pushing to ``listen``."""
    from vgi_bench.reference.platform.tcec102 import ReferenceTcec102Platform

    return ReferenceTcec102Platform(config, faults, *dut_placement(config))


def ok(exchange: Exchange, what: str) -> dict[str, Any]:
    """The Data of a successful answer (Ret 0, a JSON object), else the case fails."""
    check(exchange.ret == Ret.OK, f"{what}: Ret 0 with a sound, signed answer", exchange.seen())
    check(isinstance(exchange.data, dict), f"{what}: Data a JSON object", exchange.seen())
    return exchange.data


def conforms(schema: str, data: Any, what: str) -> None:
    errors = SCHEMAS.errors(schema, data)
    check(not errors, f"{what} valid against {schema}.json", "; ".join(errors[:5]))


def token(rig: PlatformRig) -> str:
    exchange = rig.client.query_token()
    rig.note("query_token", exchange)
    data = ok(exchange, "query_token")
    check(rig.client.token is not None, "query_token to grant a token", exchange.seen())
    return str(data["AccessToken"])


def stations(rig: PlatformRig) -> list[dict[str, Any]]:
    data = ok(rig.call("query_stations_info", {"PageNo": 1, "PageSize": 10}), "query_stations_info")
    infos = data.get("StationInfos")
    if not isinstance(infos, list) or not infos:
        fail("at least one StationInfo", str(infos)[:200])
    return infos


def free_connector(rig: PlatformRig) -> tuple[str, str]:
    """(StationID, ConnectorID) of a connector that is not charging now."""
    for station in stations(rig):
        for equipment in station.get("EquipmentInfos") or []:
            for connector in equipment.get("ConnectorInfos") or []:
                sid, cid = station.get("StationID"), connector.get("ConnectorID")
                if not isinstance(sid, str) or not isinstance(cid, str):
                    continue  # the information cases judge the types; here: usable ones only
                if connector_status(rig, sid, cid) not in (STATUS_CHARGING, None):
                    return sid, cid
    fail("a connector that is not charging", "every connector charging or unknown")


def connector_status(rig: PlatformRig, station_id: str, connector_id: str) -> int | None:
    exchange = rig.client.call("query_station_status", {"StationIDs": [station_id]})
    data = exchange.data if exchange.ret == Ret.OK and isinstance(exchange.data, dict) else {}
    for info in data.get("StationStatusInfos") or []:
        for status in info.get("ConnectorStatusInfos") or []:
            if isinstance(status, dict) and status.get("ConnectorID") == connector_id:
                return status.get("Status")
    return None


def charge_seq(operator_id: str) -> str:
    """A fresh StartChargeSeq: OperatorID then random digits, 27 characters."""
    digits = "".join(str(secrets.randbelow(10)) for _ in range(SEQ_LENGTH))
    return (operator_id + digits)[:SEQ_LENGTH]


def start_request(rig: PlatformRig, connector_id: str) -> dict[str, Any]:
    seq = charge_seq(rig.client.operator_id)
    return {"StartChargeSeq": seq, "ConnectorID": connector_id, "QRCode": "vgi-bench"}


def start_charge(rig: PlatformRig) -> tuple[str, str, dict[str, Any], int]:
    """Start a charge on a free connector (stopped again after the case): StationID,
    ConnectorID, the request sent and the inbox mark from before it."""
    station_id, connector_id = free_connector(rig)
    request = start_request(rig, connector_id)
    mark = rig.inbox.mark()
    rig.extra["start_sent_at"] = time.monotonic()
    exchange = rig.call("query_start_charge", request)
    stop = {"StartChargeSeq": request["StartChargeSeq"], "ConnectorID": connector_id}
    rig.cleanup(lambda: rig.client.call("query_stop_charge", stop))
    data = ok(exchange, "query_start_charge")
    conforms("start_charge", data, "query_start_charge Data")
    check(data["SuccStat"] == 0 and data["StartChargeSeqStat"] in (1, 2),
          "SuccStat 0, StartChargeSeqStat 1 or 2", exchange.seen())  # fmt: skip
    return station_id, connector_id, request, mark


def waited(rig: PlatformRig, endpoint: str, since: int, match: Callable[[Any], bool],
           what: str) -> Notification:  # fmt: skip
    """The DUT's push within ``ack_limit_s``, timed from ``since``'s mark."""
    limit = rig.config.ack_limit_s
    started = time.monotonic()
    found = rig.inbox.wait(endpoint, limit, since=since, match=match)
    if found is None:
        pushed = [f"{n.endpoint} {json.dumps(n.data, ensure_ascii=False)[:120]}"
                  for n in rig.inbox.since(since)]  # fmt: skip
        fail(f"{what} within {limit:g} s", "; ".join(pushed) or "no push at all")
    rig.check_push_time(started, found.t, limit, what)
    return found


def not_charging(rig: PlatformRig, station_id: str, connector_id: str, after: str) -> None:
    """No side effect: the connector is not charging after a refused request."""
    status = connector_status(rig, station_id, connector_id)
    rig.measurements.record("connector_status_after", status)
    check(status != STATUS_CHARGING, f"no charge started by {after} (connector not Status 3)",
          f"connector {connector_id} Status {status}")  # fmt: skip


# --------------------------------------------------------------------------- bad inputs


@dataclass(frozen=True)
class Refusal:
    """What a bad input must get back: one of ``rets`` (and never a started charge)."""

    rets: tuple[int, ...]
    note: str = ""

    def expected(self) -> str:
        codes = " or ".join(ret_name(r) for r in self.rets)
        return f"Ret {codes}{f' ({self.note})' if self.note else ''}"


def refused(rig: PlatformRig, exchange: Exchange, refusal: Refusal, sent: str) -> None:
    """The DUT refused ``exchange`` as ``refusal`` says; ``sent`` names the bad input."""
    rig.measurements.record("sent", sent)
    rig.measurements.record("answer", exchange.as_dict())
    check(exchange.response is not None,
          f"{refusal.expected()} in a sound, signed answer to {sent}", exchange.seen())  # fmt: skip
    check(exchange.ret in refusal.rets, f"{refusal.expected()} to {sent}", exchange.seen())


BUSINESS_REFUSAL = Refusal(
    (Ret.BUSINESS_PARAMS, Ret.POST_PARAMS),
    "4004 for bad business data; 4003 'missing parameter' also taken: bench interpretation",
)
REPLAY_REFUSAL = Refusal(
    (Ret.POST_PARAMS, Ret.SIGNATURE, Ret.BUSINESS_PARAMS),
    "the standard names no code for a replay: bench interpretation",
)
