"""Load on a CSMS: N charge points at once, each booting and then sending Heartbeat and
Authorize at an interval, with connect and response times measured.

Why not Locust: its distributed mode (a master and workers over ZeroMQ, users spread over
processes and machines) is built for gevent users and HTTP; OCPP here is asyncio
``websockets`` sessions, and one asyncio process holds thousands of idle websocket
connections at little CPU. So the load runs on the bench's own :class:`OcppSession`
(same framing, validation and timing as the conformance cases); a bigger load runs
``vgi-bench load`` on several machines with distinct ``--id-prefix`` values.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect

from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.ocpp.csms_role import subprotocol
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.security import Security
from vgi_bench.ocpp.session import OcppSession
from vgi_bench.ocpp.timeouts import Timeouts
from vgi_bench.timing import percentiles

#: What each charge point sends, per version: boot, then the periodic requests.
Plan = list[tuple[str, dict[str, Any]]]

BOOT: dict[str, dict[str, Any]] = {
    "2.0.1": {"reason": "PowerUp", "chargingStation": {"model": "VGI-LOAD", "vendorName": "vgi"}},
    "1.6": {"chargePointVendor": "vgi", "chargePointModel": "VGI-LOAD"},
}
PERIODIC: dict[str, Plan] = {
    "2.0.1": [("Heartbeat", {}), ("Authorize", {"idToken": {"idToken": VALID_TOKEN,
                                                            "type": "ISO14443"}})],
    "1.6": [("Heartbeat", {}), ("Authorize", {"idTag": VALID_TOKEN})],
}  # fmt: skip


@dataclass
class LoadResult:
    """What a load run measured (times in ms)."""

    charge_points: int
    duration_s: float
    connected: int = 0
    connect_failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    calls: int = 0
    errors: int = 0  # CALLERROR answers
    timeouts: int = 0
    invalid: int = 0  # schema-invalid answers
    connect_ms: list[float] = field(default_factory=list)
    response_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def ok(self) -> bool:
        return self.connected == self.charge_points and not (
            self.errors or self.timeouts or self.invalid
        )

    def as_dict(self) -> dict[str, Any]:
        stats = {a: percentiles(v) for a, v in self.response_ms.items() if v}
        return {
            "charge_points": self.charge_points, "duration_s": round(self.duration_s, 3),
            "connected": self.connected, "connect_failures": dict(self.connect_failures),
            "calls": self.calls, "calls_per_s": round(self.calls / self.duration_s, 1),
            "errors": self.errors, "timeouts": self.timeouts, "invalid": self.invalid,
            "connect_ms": percentiles(self.connect_ms) if self.connect_ms else None,
            "response_ms": stats,
        }  # fmt: skip


async def _charge_point(
    url: str, version: str, security: Security, stop_at: float, interval_s: float,
    result: LoadResult, timeouts: Timeouts,
) -> None:  # fmt: skip
    started = time.monotonic()
    try:
        ws = await connect(
            url, subprotocols=[subprotocol(version)], open_timeout=30, ping_interval=None,
            additional_headers=security.auth_headers() or None,
            ssl=security.client_ssl() if url.startswith("wss") else None,
        )  # fmt: skip
    except Exception as exc:
        result.connect_failures[type(exc).__name__] += 1
        return
    result.connected += 1
    result.connect_ms.append((time.monotonic() - started) * 1000.0)
    session = OcppSession(ws, version, MessageLog(), name=url.rsplit("/", 1)[-1], timeouts=timeouts)
    serving = asyncio.ensure_future(session.serve())
    try:
        plan: Plan = [("BootNotification", BOOT[version])]
        while time.monotonic() < stop_at and not session.closed.is_set():
            for action, payload in plan:
                exchange = await session.call(action, payload)
                result.calls += 1
                if exchange.response is None:
                    result.timeouts += 1
                elif not exchange.ok:
                    result.errors += 1
                else:
                    result.response_ms[action].append(exchange.latency_ms or 0.0)
                    result.invalid += bool(exchange.response.violations)
            plan = PERIODIC[version]
            await asyncio.sleep(interval_s)
    finally:
        await session.close()
        serving.cancel()


async def run_load(
    base_url: str,
    count: int,
    *,
    version: str = "2.0.1",
    duration_s: float = 10.0,
    interval_s: float = 1.0,
    ramp_s: float = 1.0,
    id_prefix: str = "VGI_LOAD_",
    security: Security | None = None,
    timeout_s: float = 10.0,
) -> LoadResult:
    """``count`` charge points on ``base_url/<id_prefix><n>`` for ``duration_s``."""
    security = security or Security()
    result = LoadResult(count, duration_s)
    start = time.monotonic()
    stop_at = start + ramp_s + duration_s
    timeouts = Timeouts(default_s=timeout_s)
    base = base_url.rstrip("/")
    tasks = []
    for n in range(count):
        url = f"{base}/{id_prefix}{n:05d}"
        cp_security = security.with_(charge_point_id=f"{id_prefix}{n:05d}")
        tasks.append(asyncio.ensure_future(
            _charge_point(url, version, cp_security, stop_at, interval_s, result, timeouts)
        ))  # fmt: skip
        await asyncio.sleep(ramp_s / max(count, 1))
    await asyncio.gather(*tasks, return_exceptions=True)
    result.duration_s = time.monotonic() - start
    return result
