"""Load regulation: commands, acknowledgements, execution and status pushes."""

from __future__ import annotations

import time

from vgi_bench.cases import case, check, fail
from vgi_bench.decision import require_pass
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.gridplat.platform.steps import (
    POWER_BAND_KW,
    POWER_BAND_REL,
    adjustable_station,
    archive,
    command,
    conforms,
    names,
    ok,
    pushed,
    station_power,
    uploads,
)
from vgi_bench.timing import Latency

CLAUSE = "grid-level interaction access interface (bench interpretation): load regulation"


def _baseline(rig, station_id):
    mark = rig.inbox.mark()
    got = uploads(rig, mark, 1, 2 * rig.config.realtime_period_s + rig.config.ack_limit_s)
    if not got:
        fail("a real-time upload to learn the station's power", "none")
    return station_power(got[-1].data, station_id)


def _send(rig, data, name="command"):
    """Send a command; after the case, wait until it is over (ramp back included)."""
    period = rig.config.realtime_period_s
    over_at = time.monotonic() + float(data.get("Duration") or 0) + 2 * period
    rig.cleanup(lambda: time.sleep(max(0.0, over_at - time.monotonic())))
    exchange = rig.call(names(rig)["regulation_command"], data, name=name)
    rig.measurements.record("ack", Latency(round(exchange.elapsed_ms, 3),
                                           rig.config.ack_limit_s * 1000))  # fmt: skip
    return exchange


@case("GP.C.01", CLAUSE, "A regulation command is acknowledged in time")
def test_gp_c01_command_ack(rig) -> None:
    """Purpose: the operator platform confirms a load-regulation command at once.

    Steps: archive; a command for an adjustable station (target 50 % of its power, a
    ramp over 1 period, 2 periods long; the case ends when it is over).
    Expected: 1. Ret 0 and an answer valid against command_ack.json with that CommandID
    and ConfirmResult 0; 2. the answer within ``ack_limit_s`` (measured: ``ack``).
    """
    station_id = adjustable_station(archive(rig))
    period = rig.config.realtime_period_s
    power = _baseline(rig, station_id)
    data = command(station_id, power / 2, max(power / 2, 1.0) / period, 2 * period)
    exchange = _send(rig, data)
    answer = ok(exchange, "the command")
    conforms("command_ack", answer, "the acknowledgement")
    check(answer["CommandID"] == data["CommandID"] and answer["ConfirmResult"] == 0,
          f"CommandID {data['CommandID']}, ConfirmResult 0", exchange.seen())  # fmt: skip
    rig.check_ack(exchange)


@case("GP.C.02", CLAUSE, "The regulated station follows target, ramp and duration")
def test_gp_c02_regulation_followed(rig) -> None:
    """Purpose: the station's power follows the command, as the real-time data show.

    Steps: archive; learn the station's power P0 from an upload; command TargetPower
    P0/2, RampRate |ΔP| / (3 periods), Duration 10 periods; watch the uploads until the
    ramp back is over.
    Expected: 1. the target (±max(1 kW, 5 % of |ΔP|)) seen no later than ramp time + 2
    periods after the command (measured: ``to_target``); 2. held until Duration ends;
    3. back at P0 within ramp time + 2 periods after Duration; 4. a regulation result
    push for the command (ExecStat 2, done) by then.
    """
    station_id = adjustable_station(archive(rig))
    period = rig.config.realtime_period_s
    p0 = _baseline(rig, station_id)
    target = round(p0 / 2, 2)
    delta = abs(p0 - target)
    ramp_s, duration = 3 * period, 10 * period
    band = max(POWER_BAND_KW, POWER_BAND_REL * delta)
    mark = rig.inbox.mark()
    sent_at = time.monotonic()
    order = command(station_id, target, max(delta, 1.0) / ramp_s, duration)
    ok(_send(rig, order), "command")
    end = duration + ramp_s + 3 * period
    count = int(end / period) + 1
    got = uploads(rig, mark, count, end + rig.config.ack_limit_s)
    series = [(round(n.t - sent_at, 3), station_power(n.data, station_id)) for n in got]
    rig.measurements.record("power_series", series)
    reached = next((t for t, p in series if abs(p - target) <= band), None)
    if reached is None:
        fail(f"{target:g} kW ±{band:g} within {ramp_s + 2 * period:g} s", f"powers {series}")
    # the upload period's granularity is already in the limit (+2 periods); U is the clock's
    to_target = rig.timing.duration(reached, limit_s=ramp_s + 2 * period)
    rig.measurements.record("to_target", to_target)
    require_pass(to_target, f"{target:g} kW within {ramp_s + 2 * period:g} s of the command",
                 f"first at {reached:g} s")  # fmt: skip
    held = [(t, p) for t, p in series if reached <= t <= duration - period]
    off = [(t, p) for t, p in held if abs(p - target) > band]
    check(not off, f"{target:g} kW ±{band:g} held until {duration:g} s", f"off target: {off}")
    late = [(t, p) for t, p in series if t >= duration + ramp_s + 2 * period]
    check(bool(late) and all(abs(p - p0) <= band for _, p in late),
          f"back at {p0:g} kW ±{band:g} by {duration + ramp_s + 2 * period:g} s",
          f"after that: {late or 'no upload'}")  # fmt: skip
    result = pushed(rig, "regulation_result", mark, rig.config.ack_limit_s,
                    f"a regulation result for {order['CommandID']}",
                    lambda d: d["CommandID"] == order["CommandID"])  # fmt: skip
    check(result.data.get("ExecStat") == 2, "ExecStat 2 (done)", str(result.data))


@case("GP.C.03", CLAUSE, "Regulated devices push their status change")
def test_gp_c03_status_push(rig) -> None:
    """Purpose: the grid platform learns which devices are under regulation.

    Steps: archive; a regulation command for an adjustable station.
    Expected: 1. a device status push for a device of that station within
    ``ack_limit_s``, valid against device_status.json.
    """
    data = archive(rig)
    station_id = adjustable_station(data)
    devices = {d["DeviceID"] for d in data["LoadDevices"] if d["StationID"] == station_id}
    period = rig.config.realtime_period_s
    power = _baseline(rig, station_id)
    mark = rig.inbox.mark()
    ok(_send(rig, command(station_id, power / 2, max(power, 1.0) / period, 2 * period)),
       "command")  # fmt: skip
    push = pushed(rig, "device_status", mark, rig.config.ack_limit_s,
                  f"a status push for a device of {station_id}",
                  lambda d: d["DeviceID"] in devices)  # fmt: skip
    conforms("device_status", push.data, "the status push")


@case("GP.C.04", CLAUSE, "An invalid regulation command is refused")
def test_gp_c04_invalid_command(rig) -> None:
    """Purpose: commands the platform cannot carry out are refused, not acknowledged.

    Steps: a command with TargetPower -10 kW and no Duration.
    Expected: 1. Ret 4004, or Ret 0 with ConfirmResult other than 0.
    """
    station_id = adjustable_station(archive(rig))
    data = command(station_id, -10.0, 10.0, 1.0, Duration=None)
    rig.measurements.record("sent", "regulation command with TargetPower -10 and no Duration")
    exchange = _send(rig, data)
    if exchange.ret == Ret.BUSINESS_PARAMS:
        return
    answer = exchange.data if isinstance(exchange.data, dict) else {}
    check(exchange.ret == Ret.OK and answer.get("ConfirmResult") not in (0, None),
          "Ret 4004, or ConfirmResult other than 0", exchange.seen())  # fmt: skip
