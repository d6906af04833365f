"""The reference T/CEC 102 operator platform (the data owner, 'S' side of 102.2/102.3).

Serves ``query_token``, ``query_stations_info``, ``query_station_status``,
``query_station_stats``, ``query_equip_auth``, ``query_equip_business_policy``,
``query_start_charge``, ``query_equip_charge_status`` and ``query_stop_charge``, and
pushes ``notification_stationStatus``, ``notification_start_charge_result``,
``notification_equip_charge_status`` (every ``charge_status_period_s`` while charging),
``notification_stop_charge_result``, ``notification_charge_order_info`` and
``check_charge_orders`` to the partner (the bench's ``[platform] listen``). Named faults
each break one behaviour.

Bench interpretations where the standard is silent: a charge starts at once (the
reference has no gun sensor; every connector is startable and authenticates), energy is
counted at the connector's rated power, one tariff period from 00:00:00 at 1.00 元/kWh
electricity and 0.50 元/kWh service, a station's statistics are a fixed history per
connector plus the charges it finished, and a reconciliation batch
(``check_charge_orders``) of every finished order follows each order push.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from vgi_bench.platform.link import client_for, dut_placement, dut_server, service_for
from vgi_bench.platform.ret import Ret
from vgi_bench.platform.server import HARD_BODY_LIMIT, BusinessError, Call, Policy
from vgi_bench.platform.tokens import TokenStore
from vgi_bench.profile import PlatformConfig, Profile
from vgi_bench.reference.platform.pusher import ATTEMPTS, Pusher

TCEC102_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "accepts_bad_signature": "takes requests whose Sig does not verify",
        "accepts_bad_token": "serves business calls without checking the Bearer token",
        "never_expires_tokens": "tokens stay good after TokenAvailableTime",
        "token_not_bound_to_operator": "takes a token granted to another OperatorID",
        "wrong_ret_codes": "answers every refusal with Ret 500 instead of its own code",
        "accepts_replayed_seq": "takes a request again with the same OperatorID+TimeStamp+Seq",
        "accepts_malformed_envelope": "takes envelopes with missing fields or wrong types",
        "garbage_on_malformed_json": "answers a body that is not JSON with an HTML error page",
        "accepts_oversized_body": "takes a body beyond the size limit",
        "issues_token_to_bad_secret": "grants a token for a wrong OperatorSecret",
        "accepts_unknown_operator": "grants a token to an OperatorID it does not know",
        "bad_response_signature": "signs its answers wrongly",
        "drops_fields": "leaves required fields out of StationInfo/ConnectorInfo",
        "wrong_status_enum": "reports connector Status 7 (not in the enum)",
        "wrong_paging": "ignores PageSize and reports PageCount 1",
        "accepts_bad_business_params": "does not check business data (types, missing, > 50 IDs)",
        "starts_unknown_connector": "answers SuccStat 0 to a start on a connector it lacks",
        "no_status_notification": "never pushes notification_stationStatus",
        "no_start_result": "never pushes notification_start_charge_result",
        "no_order_notification": "never pushes notification_charge_order_info",
        "order_money_inconsistent": "TotalMoney in the order is not electricity + service",
        "late_notifications": "pushes notifications 2 x ack_limit_s late",
        "ignores_stop": "answers query_stop_charge but keeps charging",
        "stats_wrong_totals": "StationElectricity is not the sum of its equipment's energy",
        "equip_auth_ignores_unknown": "authenticates a connector it does not have",
        "policy_missing_fields": "leaves SumPeriod and SevicePrice out of the price policy",
        "no_stop_result": "never pushes notification_stop_charge_result",
        "no_charge_status_push": "never pushes notification_equip_charge_status",
        "check_orders_mismatch": "check_charge_orders totals do not add up to its orders",
        "no_retransmission": "sends a push once, even when the partner refuses it",
    }
)

ELEC_PRICE = 1.00
SERVICE_PRICE = 0.50
MAX_STATION_IDS = 50

#: A connector's energy before the reference started (kWh): its statistics history.
HISTORY_KWH = 12.34
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

#: Business-data rules per endpoint: required field -> type (4004 when broken).
REQUEST_RULES: Mapping[str, Mapping[str, type]] = MappingProxyType(
    {
        "query_stations_info": {},
        "query_station_status": {"StationIDs": list},
        "query_station_stats": {"StationID": str, "StartTime": str, "EndTime": str},
        "query_equip_auth": {"EquipAuthSeq": str, "ConnectorID": str},
        "query_equip_business_policy": {"EquipBizSeq": str, "ConnectorID": str},
        "query_start_charge": {"StartChargeSeq": str, "ConnectorID": str, "QRCode": str},
        "query_equip_charge_status": {"StartChargeSeq": str},
        "query_stop_charge": {"StartChargeSeq": str, "ConnectorID": str},
    }
)


def reference_stations() -> list[dict[str, Any]]:
    text = resources.files("vgi_bench.reference.platform").joinpath("data/tcec102_stations.json")
    return json.loads(text.read_text(encoding="utf-8"))["StationInfos"]


@dataclass
class ChargeSession:
    seq: str
    connector_id: str
    power_kw: float
    started: float
    start_time: str
    stopped: float | None = None
    end_time: str = ""

    def energy_kwh(self, now: float) -> float:
        return round(self.power_kw * ((self.stopped or now) - self.started) / 3600.0, 2)


def _text(data: dict[str, Any], key: str) -> str:
    """A string field of a request ("" when absent or not a string: only a faulty DUT
    variant that skips the business-parameter check gets that far)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


class _WrongSigner:
    """Signs everything wrongly, verifies like the real one (``bad_response_signature``)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name = inner, inner.name

    def sign(self, message: str) -> str:
        return self.inner.sign(message + "#")

    def verify(self, message: str, signature: str) -> bool:
        return self.inner.verify(message, signature)


@dataclass
class ReferenceTcec102Platform:
    """A conformant T/CEC 102 platform on ``host:port`` pushing to ``partner_url``."""

    config: PlatformConfig
    faults: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8080
    partner_url: str | None = None
    https: bool = False  # serve with the profile's cert/key (an https:// url)
    stations: list[dict[str, Any]] = field(default_factory=reference_stations)
    status: dict[str, int] = field(default_factory=dict)  # ConnectorID -> Status
    sessions: dict[str, ChargeSession] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # finished, by seq
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        for connector in self._connectors().values():
            self.status.setdefault(connector["ConnectorID"], 1)
        service = service_for(
            self.config, self.routes(), policy=self._policy(), direction="bench->dut",
            tokens=TokenStore(
                self.config.token_ttl_s,
                expire=not self.has("never_expires_tokens"),
                bind_operator=not self.has("token_not_bound_to_operator"),
            ),
        )  # fmt: skip
        if self.has("issues_token_to_bad_secret") or self.has("accepts_unknown_operator"):
            service.routes = {**service.routes, "query_token": self._careless_token(service)}
        if self.has("bad_response_signature"):
            service.codec = service.codec.with_signer(_WrongSigner(service.codec.signer))
        if self.has("garbage_on_malformed_json"):
            service.raw_on_bad_json = b"<html><body>500 Internal Server Error</body></html>"
        self.service = service
        self.server = dut_server(self.config, service, self.host, self.port, self.https)
        attempts = 1 if self.has("no_retransmission") else ATTEMPTS
        self.pusher: Pusher | None = None
        if self.partner_url:
            partner = client_for(self.config, self.partner_url, direction="dut->bench")
            self.pusher = Pusher(partner, "tcec102", attempts)
        self._ticker = threading.Thread(target=self._tick, name="tcec102-tick", daemon=True)

    @property
    def where(self) -> str:
        host, port = self.server.address
        return f"{self.server.scheme}://{host}:{port}/"

    @classmethod
    def sim_from_profile(
        cls, profile: Profile, faults: tuple[str, ...]
    ) -> ReferenceTcec102Platform:
        """``vgi-bench sim tcec102-platform``: serve at ``[platform] url``, push to ``listen``."""
        config = profile.platform
        if config is None or not config.url:
            raise ValueError(f"profile {profile.source}: needs [platform] url")
        return cls(config, faults, *dut_placement(config))

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def start(self) -> None:
        if self.pusher:
            self.pusher.start()
            self._ticker.start()
        self.server.start()

    def stop(self) -> None:
        self._stop.set()
        self.server.stop()
        if self.pusher:
            self.pusher.stop()
        if self._ticker.is_alive():
            self._ticker.join(5)

    def _tick(self) -> None:
        """``notification_equip_charge_status`` for every charge, each period."""
        while not self._stop.wait(self.config.charge_status_period_s):
            if self.has("no_charge_status_push"):
                continue
            with self._lock:
                snapshots = [self._snapshot(s) for s in self.sessions.values() if not s.stopped]
            for snapshot in snapshots:
                if self.pusher:  # superseded by the next one: sent once
                    self.pusher.push("notification_equip_charge_status", snapshot, attempts=1)

    # ------------------------------------------------------------------ wiring

    def _policy(self) -> Policy:
        return Policy(
            verify_signature=not self.has("accepts_bad_signature"),
            check_token=not self.has("accepts_bad_token"),
            reject_replay=not self.has("accepts_replayed_seq"),
            check_envelope=not self.has("accepts_malformed_envelope"),
            max_body_bytes=(
                HARD_BODY_LIMIT
                if self.has("accepts_oversized_body")
                else self.config.max_body_bytes
            ),
            error_ret=Ret.SYSTEM if self.has("wrong_ret_codes") else None,
        )

    def routes(self) -> dict[str, Any]:
        return {
            "query_stations_info": self.query_stations_info,
            "query_station_status": self.query_station_status,
            "query_station_stats": self.query_station_stats,
            "query_equip_auth": self.query_equip_auth,
            "query_equip_business_policy": self.query_equip_business_policy,
            "query_start_charge": self.query_start_charge,
            "query_equip_charge_status": self.query_equip_charge_status,
            "query_stop_charge": self.query_stop_charge,
        }

    def _careless_token(self, service: Any) -> Any:
        def handler(call: Call) -> dict[str, Any]:
            answer = service.token_handler(call)
            reason = answer.get("FailReason")
            careless = (reason == 2 and self.has("issues_token_to_bad_secret")) or (
                reason == 1 and self.has("accepts_unknown_operator")
            )
            if careless:
                token = service.tokens.issue(str(call.data.get("OperatorID")))
                answer.update(SuccStat=0, FailReason=0, AccessToken=token.value,
                              TokenAvailableTime=service.tokens.ttl_s)  # fmt: skip
            return answer

        return handler

    def _check(self, call: Call) -> dict[str, Any]:
        data = call.data
        if self.has("accepts_bad_business_params"):
            return data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            raise BusinessError("Data is not a JSON object")
        for name, kind in REQUEST_RULES.get(call.endpoint, {}).items():
            if name not in data:
                raise BusinessError(f"missing {name}")
            if not isinstance(data[name], kind):
                raise BusinessError(f"{name} is not {kind.__name__}")
        return data

    def _connectors(self) -> dict[str, dict[str, Any]]:
        return {
            c["ConnectorID"]: {**c, "StationID": s["StationID"]}
            for s in self.stations
            for e in s["EquipmentInfos"]
            for c in e["ConnectorInfos"]
        }

    def _notify(self, endpoint: str, data: Any) -> None:
        if self.pusher is None:
            return
        delay = 2 * self.config.ack_limit_s if self.has("late_notifications") else 0.0
        self.pusher.push(endpoint, data, delay)

    def _connector_status(self, connector_id: str) -> dict[str, Any]:
        status = 7 if self.has("wrong_status_enum") else self.status[connector_id]
        return {"ConnectorID": connector_id, "Status": status, "ParkStatus": 0, "LockStatus": 0}

    def _set_status(self, connector_id: str, status: int) -> None:
        self.status[connector_id] = status
        if not self.has("no_status_notification"):
            self._notify(
                "notification_stationStatus",
                {"ConnectorStatusInfo": self._connector_status(connector_id)},
            )

    # ------------------------------------------------------------------ 102.2

    def query_stations_info(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        page_no, page_size = data.get("PageNo", 1), data.get("PageSize", 10)
        if not self.has("accepts_bad_business_params"):
            for name, value in (("PageNo", page_no), ("PageSize", page_size)):
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise BusinessError(f"{name} must be a positive integer")
        stations = [json.loads(json.dumps(s)) for s in self.stations]
        if self.has("drops_fields"):
            for s in stations:
                s.pop("StationName", None)
                for e in s["EquipmentInfos"]:
                    for c in e["ConnectorInfos"]:
                        c.pop("NationalStandard", None)
        if self.has("wrong_paging") or not isinstance(page_size, int) or page_size < 1:
            return {"PageNo": 1, "PageCount": 1, "ItemSize": len(stations),
                    "StationInfos": stations}  # fmt: skip
        page_count = max(1, -(-len(stations) // page_size))
        start = (page_no - 1) * page_size
        return {"PageNo": page_no, "PageCount": page_count, "ItemSize": len(stations),
                "StationInfos": stations[start : start + page_size]}  # fmt: skip

    def query_station_status(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        ids = data.get("StationIDs")
        if not self.has("accepts_bad_business_params"):
            if not ids or len(ids) > MAX_STATION_IDS or not all(isinstance(i, str) for i in ids):
                raise BusinessError(f"StationIDs must be 1..{MAX_STATION_IDS} strings")
        ids = ids if isinstance(ids, list) else []
        infos = []
        with self._lock:
            for station in self.stations:
                if station["StationID"] not in ids:
                    continue
                connectors = [
                    self._connector_status(c["ConnectorID"])
                    for e in station["EquipmentInfos"]
                    for c in e["ConnectorInfos"]
                ]
                infos.append(
                    {"StationID": station["StationID"], "ConnectorStatusInfos": connectors}
                )
        return {"StationStatusInfos": infos}

    def query_station_stats(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        station_id = data.get("StationID")
        start, end = data.get("StartTime"), data.get("EndTime")
        station = next((s for s in self.stations if s["StationID"] == station_id), None)
        if not self.has("accepts_bad_business_params"):
            if station is None:
                raise BusinessError(f"unknown StationID {station_id!r}")
            for name, value in (("StartTime", start), ("EndTime", end)):
                if not DATE_PATTERN.match(str(value)):
                    raise BusinessError(f"{name} must be yyyy-MM-dd")
            if str(start) > str(end):
                raise BusinessError("StartTime after EndTime")
        now = time.monotonic()
        with self._lock:
            finished: dict[str, float] = {}
            for session in self.sessions.values():
                energy = session.energy_kwh(now)
                finished[session.connector_id] = finished.get(session.connector_id, 0) + energy
        equipments = []
        for equipment in (station or {}).get("EquipmentInfos", []):
            connectors = [
                {"ConnectorID": c["ConnectorID"],
                 "ConnectorElectricity": round(HISTORY_KWH + finished.get(c["ConnectorID"], 0), 2)}
                for c in equipment["ConnectorInfos"]
            ]  # fmt: skip
            total = round(sum(c["ConnectorElectricity"] for c in connectors), 2)
            equipments.append({"EquipmentID": equipment["EquipmentID"],
                               "EquipmentElectricity": total,
                               "ConnectorStatsInfos": connectors})  # fmt: skip
        station_total = round(sum(e["EquipmentElectricity"] for e in equipments), 2)
        if self.has("stats_wrong_totals"):
            station_total = round(station_total + 1.0, 2)
        return {"StationStats": {
            "StationID": station_id, "StartTime": start, "EndTime": end,
            "StationElectricity": station_total, "EquipmentStatsInfos": equipments,
        }}  # fmt: skip

    # ------------------------------------------------------------------ 102.3

    def query_equip_auth(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        connector_id = data.get("ConnectorID")
        answer = {"EquipAuthSeq": data.get("EquipAuthSeq"), "ConnectorID": connector_id}
        known = connector_id in self._connectors()
        if known or self.has("equip_auth_ignores_unknown"):
            return {**answer, "SuccStat": 0, "FailReason": 0}
        return {**answer, "SuccStat": 1, "FailReason": 2}  # 设备检测失败

    def query_equip_business_policy(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        connector_id = data.get("ConnectorID")
        answer = {"EquipBizSeq": data.get("EquipBizSeq"), "ConnectorID": connector_id}
        if connector_id not in self._connectors():
            return {**answer, "SuccStat": 1, "FailReason": 1, "SumPeriod": 0, "PolicyInfos": []}
        period = {"StartTime": "000000", "ElecPrice": ELEC_PRICE, "SevicePrice": SERVICE_PRICE}
        if self.has("policy_missing_fields"):
            period.pop("SevicePrice")
            return {**answer, "SuccStat": 0, "FailReason": 0, "PolicyInfos": [period]}
        return {**answer, "SuccStat": 0, "FailReason": 0, "SumPeriod": 1, "PolicyInfos": [period]}

    def query_start_charge(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        seq, connector_id = _text(data, "StartChargeSeq"), _text(data, "ConnectorID")
        answer = {"StartChargeSeq": data.get("StartChargeSeq"),
                  "ConnectorID": data.get("ConnectorID")}  # fmt: skip
        connectors = self._connectors()
        with self._lock:
            if connector_id not in connectors:
                if self.has("starts_unknown_connector"):
                    return {**answer, "StartChargeSeqStat": 1, "SuccStat": 0, "FailReason": 0}
                return {**answer, "StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": 1}
            if self.status[connector_id] == 3 or seq in self.sessions:
                return {**answer, "StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": 3}
            session = ChargeSession(seq, connector_id, float(connectors[connector_id]["Power"]),
                                    time.monotonic(), _now_text())  # fmt: skip
            self.sessions[seq] = session
            self._set_status(connector_id, 3)
        if not self.has("no_start_result"):
            self._notify("notification_start_charge_result", {
                "StartChargeSeq": seq, "StartChargeSeqStat": 2, "ConnectorID": connector_id,
                "StartTime": session.start_time, "IdentCode": "",
            })  # fmt: skip
        return {**answer, "StartChargeSeqStat": 1, "SuccStat": 0, "FailReason": 0}

    def _snapshot(self, session: ChargeSession) -> dict[str, Any]:
        now = time.monotonic()
        energy = session.energy_kwh(now)
        elec, service = round(energy * ELEC_PRICE, 2), round(energy * SERVICE_PRICE, 2)
        return {
            "StartChargeSeq": session.seq,
            "StartChargeSeqStat": 4 if session.stopped else 2,
            "ConnectorID": session.connector_id,
            "ConnectorStatus": self.status[session.connector_id],
            "CurrentA": 0.0 if session.stopped else 160.0, "VoltageA": 380.0,
            "Soc": 50.0, "StartTime": session.start_time,
            "EndTime": session.end_time or _now_text(), "TotalPower": energy,
            "ElecMoney": elec, "SeviceMoney": service, "TotalMoney": round(elec + service, 2),
            "SumPeriod": 0, "ChargeDetails": [],
        }  # fmt: skip

    def query_equip_charge_status(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        with self._lock:
            session = self.sessions.get(_text(data, "StartChargeSeq"))
            if session is None:
                raise BusinessError("unknown StartChargeSeq")
            return self._snapshot(session)

    def query_stop_charge(self, call: Call) -> dict[str, Any]:
        data = self._check(call)
        seq, connector_id = _text(data, "StartChargeSeq"), _text(data, "ConnectorID")
        answer = {"StartChargeSeq": data.get("StartChargeSeq"),
                  "ConnectorID": data.get("ConnectorID")}  # fmt: skip
        with self._lock:
            session = self.sessions.get(seq)
            if session is None or session.connector_id != connector_id:
                return {**answer, "StartChargeSeqStat": 5, "SuccStat": 1, "FailReason": 1}
            if session.stopped:
                return {**answer, "StartChargeSeqStat": 4, "SuccStat": 1, "FailReason": 3}
            if self.has("ignores_stop"):
                return {**answer, "StartChargeSeqStat": 3, "SuccStat": 0, "FailReason": 0}
            session.stopped, session.end_time = time.monotonic(), _now_text()
            self._set_status(connector_id, 1)
            order = self._order(session)
            self.orders[seq] = order
            batch = self._reconciliation()
        if not self.has("no_stop_result"):
            self._notify("notification_stop_charge_result", {
                **answer, "StartChargeSeqStat": 4, "SuccStat": 0, "FailReason": 0,
            })  # fmt: skip
        if not self.has("no_order_notification"):
            self._notify("notification_charge_order_info", order)
            self._notify("check_charge_orders", batch)
        return {**answer, "StartChargeSeqStat": 3, "SuccStat": 0, "FailReason": 0}

    def _reconciliation(self) -> dict[str, Any]:
        """``check_charge_orders``: every finished order, with the batch's totals."""
        orders = [{"StartChargeSeq": o["StartChargeSeq"], "TotalPower": o["TotalPower"],
                   "TotalMoney": o["TotalMoney"]} for o in self.orders.values()]  # fmt: skip
        money = round(sum(o["TotalMoney"] for o in orders), 2)
        if self.has("check_orders_mismatch"):
            money = round(money + 1.0, 2)
        return {
            "CheckOrderSeq": f"{self.config.operator_id or ''}{len(orders):08d}"[-27:],
            "StartTime": min(o["StartTime"] for o in self.orders.values()),
            "EndTime": _now_text(), "OrderCount": len(orders),
            "TotalOrderPower": round(sum(o["TotalPower"] for o in orders), 2),
            "TotalOrderMoney": money, "ChargeOrders": orders,
        }  # fmt: skip

    def _order(self, session: ChargeSession) -> dict[str, Any]:
        snap = self._snapshot(session)
        total = round(snap["ElecMoney"] + snap["SeviceMoney"], 2)
        if self.has("order_money_inconsistent"):
            total = round(total + 1.0, 2)
        return {
            "StartChargeSeq": session.seq, "ConnectorID": session.connector_id,
            "StartTime": session.start_time, "EndTime": session.end_time,
            "TotalPower": snap["TotalPower"], "TotalElecMoney": snap["ElecMoney"],
            "TotalSeviceMoney": snap["SeviceMoney"], "TotalMoney": total,
            "StopReason": 1, "SumPeriod": 0, "ChargeDetails": [],
        }  # fmt: skip
