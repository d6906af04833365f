"""Steps of the gridplat.platform cases: archive, real-time uploads, regulation.

Bench interpretations (no public text; see ``vgi_bench/platform/endpoints.py``): the
period check allows ±``PERIOD_TOLERANCE`` on the median gap between arrivals at the
bench; a regulated station must be seen within ``POWER_BAND`` of its target no later
than the ramp time plus two upload periods after the command, hold it until
``Duration`` ends and be back at its earlier power within the ramp time plus two
periods after that.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from vgi_bench.cases import check, fail
from vgi_bench.platform.client import Exchange
from vgi_bench.platform.endpoints import Endpoints, gridplat_endpoints
from vgi_bench.platform.inbox import Ack, Notification, echo
from vgi_bench.platform.link import dut_placement
from vgi_bench.platform.ret import Ret
from vgi_bench.platform.schemas import SchemaSet
from vgi_bench.profile import PlatformConfig
from vgi_bench.rigs.platform import PlatformRig

SCHEMAS = SchemaSet("vgi_bench.testcases.gridplat.platform")
PERIOD_TOLERANCE = 0.10
POWER_BAND_KW = 1.0
POWER_BAND_REL = 0.05  # of the commanded change


def names(rig: PlatformRig) -> Endpoints:
    return gridplat_endpoints(rig.config.endpoints)


def grid_acks(overrides: Mapping[str, str]) -> dict[str, Ack]:
    """The grid platform's answers to the operator platform's pushes."""
    n = gridplat_endpoints(overrides)
    return {
        n["archive"]: echo(SuccStat=0),
        n["realtime"]: echo(SuccStat=0),
        n["device_status"]: echo("DeviceID", SuccStat=0),
        n["regulation_result"]: echo("CommandID", ConfirmResult=0),
    }


def reference_operator_platform(config: PlatformConfig, faults: tuple[str, ...]) -> Any:
    from vgi_bench.reference.platform.gridplat import ReferenceOperatorPlatform

    return ReferenceOperatorPlatform(config, faults, *dut_placement(config))


def ok(exchange: Exchange, what: str) -> dict[str, Any]:
    check(exchange.ret == Ret.OK, f"{what}: Ret 0 with a sound, signed answer", exchange.seen())
    check(isinstance(exchange.data, dict), f"{what}: Data a JSON object", exchange.seen())
    return exchange.data


def conforms(schema: str, data: Any, what: str) -> None:
    errors = SCHEMAS.errors(schema, data)
    check(not errors, f"{what} valid against {schema}.json", "; ".join(errors[:5]))


def pushed(rig: PlatformRig, job: str, since: int, timeout: float, what: str,
           match: Any = lambda d: True) -> Notification:  # fmt: skip
    started = time.monotonic()
    found = rig.inbox.wait(names(rig)[job], timeout, since=since, match=match)
    if found is None:
        seen = sorted({n.endpoint for n in rig.inbox.since(since)})
        fail(f"{what} within {timeout:g} s", f"pushes: {', '.join(seen) or 'none'}")
    rig.check_push_time(started, found.t, timeout, what)
    return found


def archive(rig: PlatformRig) -> dict[str, Any]:
    """Ask for the archive (archive_sync) and take the push that follows."""
    mark = rig.inbox.mark()
    ok(rig.call(names(rig)["archive_sync"], {"SyncType": 0}), "archive_sync")
    push = pushed(rig, "archive", mark, rig.config.ack_limit_s, "the archive push")
    rig.measurements.record("archive_counts", {k: len(v) for k, v in push.data.items()
                                               if isinstance(v, list)})  # fmt: skip
    return push.data


def station_power(upload: Any, station_id: str) -> float:
    items = upload.get("RealtimeDatas") if isinstance(upload, dict) else None
    return round(sum(float(i.get("ActivePower", 0)) for i in items or []
                     if isinstance(i, dict) and i.get("StationID") == station_id), 3)  # fmt: skip


def uploads(rig: PlatformRig, since: int, count: int, timeout: float) -> list[Notification]:
    """``count`` real-time uploads from ``since`` (fewer if the DUT is late)."""
    deadline = time.monotonic() + timeout
    endpoint = names(rig)["realtime"]
    while time.monotonic() < deadline:
        got = rig.inbox.since(since, endpoint)
        if len(got) >= count:
            return got[:count]
        rig.inbox.wait(endpoint, 0.05, since=since + len(rig.inbox.since(since)))
    return rig.inbox.since(since, endpoint)


def command(station_id: str, target_kw: float, ramp_kw_s: float, duration_s: float,
            **changes: Any) -> dict[str, Any]:  # fmt: skip
    """A load-regulation command (bench interpretation of its fields)."""
    data = {
        "CommandID": "VGI" + secrets.token_hex(8).upper(),
        "StationID": station_id,
        "TargetPower": round(target_kw, 2),
        "RampRate": round(ramp_kw_s, 3),
        "StartTime": time.strftime("%Y-%m-%d %H:%M:%S"),
        "Duration": round(duration_s, 3),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def adjustable_station(data: dict[str, Any]) -> str:
    for device in data.get("LoadDevices") or []:
        if isinstance(device, dict) and device.get("Adjustable"):
            return str(device.get("StationID"))
    fail("a load device with Adjustable true in the archive", json.dumps(data)[:200])
