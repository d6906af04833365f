"""The reference operator (aggregator) platform of the grid-level interaction interface.

It pushes its archive (customers, stations, load devices) on start and when asked
(``archive_sync``), real-time device power every ``[platform] realtime_period_s``, device
status changes, and regulation results to the grid platform at ``[platform] listen``; it
takes load-regulation commands (target power, ramp rate, duration), market clearing
results and settlement data at ``[platform] url``. All names come from
:mod:`vgi_bench.platform.endpoints` (bench interpretations; see there).

The power model: each station draws its baseline (half its devices' rating) until a
regulation command moves it towards ``TargetPower`` at ``RampRate`` kW/s, holds it for
``Duration`` s, then ramps back. ``power_sink`` (optional) is told every station limit in
kW (``None`` when lifted): the end-to-end test hands it a reference charger's
``set_power_limit``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from vgi_bench.platform.endpoints import gridplat_endpoints
from vgi_bench.platform.link import client_for, dut_placement, dut_server, service_for
from vgi_bench.platform.server import BusinessError, Call, Policy
from vgi_bench.profile import PlatformConfig, Profile
from vgi_bench.reference.platform.pusher import Pusher

GRIDPLAT_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "no_archive_push": "never pushes its archive",
        "drops_archive_fields": "leaves RatedPower out of its load devices",
        "late_uploads": "uploads real-time data at twice the required period",
        "no_status_push": "never pushes device status changes",
        "slow_ack": "acknowledges regulation commands after 2 x ack_limit_s",
        "ignores_regulation": "acknowledges regulation commands but keeps its power",
        "slow_ramp": "ramps at a quarter of the commanded RampRate",
        "ignores_duration": "holds the target power after Duration ends",
        "no_regulation_result": "never pushes the result of a regulation",
        "accepts_bad_token": "serves calls without checking the Bearer token",
        "accepts_invalid_command": "acknowledges commands with bad TargetPower or no Duration",
        "rejects_clearing": "answers clearing results with ConfirmResult 1",
        "no_settlement_ack": "answers settlement data with Ret 500",
        "accepts_bad_signature": "takes requests whose Sig does not verify",
    }
)

COMMAND_FIELDS: Mapping[str, type | tuple[type, ...]] = MappingProxyType(
    {
        "CommandID": str,
        "StationID": str,
        "TargetPower": (int, float),
        "RampRate": (int, float),
        "StartTime": str,
        "Duration": (int, float),
    }
)
STATUS_IDLE, STATUS_CHARGING, STATUS_REGULATED = 1, 2, 3


def reference_archive() -> dict[str, Any]:
    text = resources.files("vgi_bench.reference.platform").joinpath("data/gridplat_archive.json")
    data = json.loads(text.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


@dataclass
class Regulation:
    """One command in force: ramp from ``from_kw`` to ``target_kw``, hold, ramp back."""

    command_id: str
    station_id: str
    from_kw: float
    target_kw: float
    ramp_kw_s: float
    start: float
    duration_s: float

    def power(self, now: float, *, hold_forever: bool = False) -> float | None:
        """The station's power now, or ``None`` once the regulation is over."""
        delta = self.target_kw - self.from_kw
        ramp_s = abs(delta) / self.ramp_kw_s if self.ramp_kw_s > 0 else 0.0
        t = now - self.start
        if t < ramp_s:
            return self.from_kw + delta * t / ramp_s
        if t < self.duration_s or hold_forever:
            return self.target_kw
        back = t - self.duration_s
        if back < ramp_s:
            return self.target_kw - delta * back / ramp_s
        return None


@dataclass
class ReferenceOperatorPlatform:
    """A conformant operator platform serving ``host:port``, pushing to ``partner_url``."""

    config: PlatformConfig
    faults: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8080
    partner_url: str | None = None
    https: bool = False  # serve with the profile's cert/key (an https:// url)
    power_sink: Callable[[float | None], None] | None = None
    archive: dict[str, Any] = field(default_factory=reference_archive)
    regulations: dict[str, Regulation] = field(default_factory=dict)  # StationID -> in force
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self.names = gridplat_endpoints(self.config.endpoints)
        routes = {
            self.names["archive_sync"]: self.archive_sync,
            self.names["regulation_command"]: self.regulation_command,
            self.names["clearing"]: self.clearing,
            self.names["settlement"]: self.settlement,
        }
        policy = Policy(verify_signature=not self.has("accepts_bad_signature"),
                        check_token=not self.has("accepts_bad_token"),
                        max_body_bytes=self.config.max_body_bytes)  # fmt: skip
        self.service = service_for(self.config, routes, policy=policy)
        self.server = dut_server(self.config, self.service, self.host, self.port, self.https)
        self.pusher = (
            Pusher(client_for(self.config, self.partner_url, direction="dut->bench"), "gridplat")
            if self.partner_url
            else None
        )
        self._ticker = threading.Thread(target=self._tick, name="gridplat-tick", daemon=True)
        self._status = {d["DeviceID"]: STATUS_CHARGING for d in self.archive["LoadDevices"]}

    @property
    def where(self) -> str:
        host, port = self.server.address
        return f"{self.server.scheme}://{host}:{port}/"

    @classmethod
    def sim_from_profile(
        cls, profile: Profile, faults: tuple[str, ...]
    ) -> ReferenceOperatorPlatform:
        """``vgi-bench sim gridplat-platform``: serve at ``[platform] url``, push to ``listen``."""
        config = profile.platform
        if config is None or not config.url or not config.listen:
            raise ValueError(f"profile {profile.source}: needs [platform] url and listen")
        return cls(config, faults, *dut_placement(config))

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def start(self) -> None:
        self.server.start()
        if self.pusher:
            self.pusher.start()
            self._push_archive()
            self._ticker.start()

    def stop(self) -> None:
        self._stop.set()
        self.server.stop()
        if self.pusher:
            self.pusher.stop()
        if self._ticker.is_alive():
            self._ticker.join(5)

    # ------------------------------------------------------------------ power model

    def _devices(self, station_id: str) -> list[dict[str, Any]]:
        return [d for d in self.archive["LoadDevices"] if d["StationID"] == station_id]

    def baseline_kw(self, station_id: str) -> float:
        return sum(d["RatedPower"] for d in self._devices(station_id)) / 2

    def station_kw(self, station_id: str, now: float) -> float:
        with self._lock:
            regulation = self.regulations.get(station_id)
        if regulation is None:
            return self.baseline_kw(station_id)
        power = regulation.power(now, hold_forever=self.has("ignores_duration"))
        if power is None:
            self._end(regulation)
            return self.baseline_kw(station_id)
        return power

    def _end(self, regulation: Regulation) -> None:
        with self._lock:
            if self.regulations.get(regulation.station_id) is not regulation:
                return
            del self.regulations[regulation.station_id]
        if self.power_sink:
            self.power_sink(None)
        self._set_status(regulation.station_id, STATUS_CHARGING)
        actual = self.baseline_kw(regulation.station_id)
        result = {"CommandID": regulation.command_id, "ExecStat": 2, "ActualPower": actual}
        if not self.has("no_regulation_result"):
            self._push("regulation_result", result)

    def _tick(self) -> None:
        period = self.config.realtime_period_s * (2 if self.has("late_uploads") else 1)
        next_at = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            items = []
            for station in self.archive["Stations"]:
                devices = self._devices(station["StationID"])
                share = self.station_kw(station["StationID"], now) / max(1, len(devices))
                items += [{"DeviceID": d["DeviceID"], "StationID": station["StationID"],
                           "ActivePower": round(share, 2), "Status": self._status[d["DeviceID"]]}
                          for d in devices]  # fmt: skip
            self._push("realtime", {"DataTime": _now_text(), "RealtimeDatas": items})
            next_at += period
            if self._stop.wait(max(0.0, next_at - time.monotonic())):
                return

    # ------------------------------------------------------------------ pushes

    def _push(self, job: str, data: Any) -> None:
        if self.pusher is not None:
            attempts = 1 if job == "realtime" else 2  # the next upload supersedes a lost one
            self.pusher.push(self.names[job], data, attempts=attempts)

    def _push_archive(self) -> None:
        if self.has("no_archive_push"):
            return
        archive = json.loads(json.dumps(self.archive))
        if self.has("drops_archive_fields"):
            for device in archive["LoadDevices"]:
                device.pop("RatedPower", None)
        self._push("archive", archive)

    def _set_status(self, station_id: str, status: int) -> None:
        for device in self._devices(station_id):
            self._status[device["DeviceID"]] = status
            if not self.has("no_status_push"):
                self._push("device_status", {"DeviceID": device["DeviceID"], "Status": status,
                                             "ChangeTime": _now_text()})  # fmt: skip

    # ------------------------------------------------------------------ served

    def archive_sync(self, call: Call) -> dict[str, Any]:
        self._push_archive()
        return {"SuccStat": 0}

    def regulation_command(self, call: Call) -> dict[str, Any]:
        data = call.data if isinstance(call.data, dict) else {}
        if not self.has("accepts_invalid_command"):
            _check_command(data, {s["StationID"] for s in self.archive["Stations"]})
        if self.has("slow_ack"):
            time.sleep(2 * self.config.ack_limit_s)
        station_id = str(data.get("StationID"))
        if not self.has("ignores_regulation") and station_id in {
            s["StationID"] for s in self.archive["Stations"]
        }:
            self._apply(data, station_id)
        return {"CommandID": data.get("CommandID"), "ConfirmResult": 0, "FailReason": 0}

    def _apply(self, data: dict[str, Any], station_id: str) -> None:
        now = time.monotonic()
        rate = float(data.get("RampRate") or 0) / (4 if self.has("slow_ramp") else 1)
        current = self.station_kw(station_id, now)
        regulation = Regulation(str(data.get("CommandID")), station_id, current,
                                float(data.get("TargetPower") or 0), rate, now,
                                float(data.get("Duration") or 0))  # fmt: skip
        with self._lock:
            self.regulations[station_id] = regulation
        if self.power_sink:
            self.power_sink(regulation.target_kw)
        self._set_status(station_id, STATUS_REGULATED)

    def clearing(self, call: Call) -> dict[str, Any]:
        data = call.data if isinstance(call.data, dict) else {}
        result = 1 if self.has("rejects_clearing") else 0
        return {"MarketID": data.get("MarketID"), "ConfirmResult": result}

    def settlement(self, call: Call) -> dict[str, Any]:
        if self.has("no_settlement_ack"):
            raise BusinessError("settlement not handled", ret=500)
        data = call.data if isinstance(call.data, dict) else {}
        return {"SettlementID": data.get("SettlementID"), "ConfirmResult": 0}


def _check_command(data: dict[str, Any], stations: set[str]) -> None:
    for name, kind in COMMAND_FIELDS.items():
        value = data.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise BusinessError(f"{name} missing or of the wrong type")
    if data["TargetPower"] < 0 or data["RampRate"] <= 0 or data["Duration"] <= 0:
        raise BusinessError("TargetPower >= 0, RampRate > 0 and Duration > 0 required")
    if data["StationID"] not in stations:
        raise BusinessError(f"unknown StationID {data['StationID']}")


def _now_text() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")
