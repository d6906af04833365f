"""The decision rule (vgi_bench/decision.py), the clocks (vgi_bench/clocks.py) and timing verdicts.

ILAC-G8 guarded acceptance (w = U) and simple acceptance; every judged figure carries the
same keys; every CAN interface the bench echoes on names its clock; a timing verdict
states the uncertainty of the clock that stamped its frames.
"""

from __future__ import annotations

import math
import threading

import pytest
import tomllib

from vgi_bench.can.bus import DRIVER_ECHO, EchoMode
from vgi_bench.can.capture import Capture
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.cases import CaseFailure, Measurements
from vgi_bench.clocks import Clock, can_clock, socket_clock
from vgi_bench.decision import Decision, Rule, judge, require_pass
from vgi_bench.gbt27930.checks import check_period, check_timeout_report, expect_message
from vgi_bench.gbt27930.messages import MessageTable
from vgi_bench.gbt27930.timeouts import timing_2015
from vgi_bench.instruments.calibration import decide
from vgi_bench.profile import ProfileError, parse_profile
from vgi_bench.results import build_summary
from vgi_bench.timing import PeriodStats, TimeJudge, socket_timing

TABLE = MessageTable.gbt27930_2015()
JUDGED_KEYS = {
    "value", "unit", "uncertainty", "coverage_factor", "decision_rule", "decision", "guard_band",
}  # fmt: skip
MINIMAL = '[dut]\nvendor="v"\nmodel="m"\nserial="s"\nfirmware="f"\n'


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    ("value", "decision", "band"),
    [
        (8.0, Decision.PASS, False),  # clear of the limit by more than U
        (9.0, Decision.PASS, False),  # exactly U inside: still a pass
        (9.5, Decision.NOT_PROVEN, True),  # inside, but the limit lies within U
        (10.5, Decision.NOT_PROVEN, True),  # outside, but within U
        (11.0, Decision.NOT_PROVEN, True),  # exactly U outside: not yet a fail
        (11.5, Decision.FAIL, False),
    ],
)
def test_guarded_acceptance_upper_limit(value: float, decision: Decision, band: bool) -> None:
    judged = judge(value, uncertainty=1.0, limit=10.0, unit="ms")
    assert judged.decision is decision
    assert judged.guard_band is band


@pytest.mark.parametrize(
    ("value", "decision", "band"),
    [(9.5, Decision.PASS, True), (10.0, Decision.PASS, True), (10.5, Decision.FAIL, True),
     (12.0, Decision.FAIL, False), (5.0, Decision.PASS, False)],
)  # fmt: skip
def test_simple_acceptance_decides_on_the_value_and_marks_the_band(
    value: float, decision: Decision, band: bool
) -> None:
    judged = judge(value, uncertainty=1.0, limit=10.0, rule=Rule.SIMPLE)
    assert judged.decision is decision
    assert judged.guard_band is band


def test_window_and_lower_limit() -> None:
    window = {"low": 4900.0, "high": 5500.0, "uncertainty": 50.0, "unit": "ms"}
    assert judge(5000.0, **window).decision is Decision.PASS
    assert judge(4920.0, **window).decision is Decision.NOT_PROVEN
    assert judge(4800.0, **window).decision is Decision.FAIL
    assert judge(5480.0, **window).decision is Decision.NOT_PROVEN
    assert judge(5600.0, **window).decision is Decision.FAIL
    assert judge(3.0, low=2.0, uncertainty=0.5).decision is Decision.PASS
    assert judge(2.2, low=2.0, uncertainty=0.5).decision is Decision.NOT_PROVEN
    with pytest.raises(ValueError):
        judge(1.0, uncertainty=0.1)
    with pytest.raises(ValueError):
        judge(1.0, uncertainty=0.1, limit=2.0, high=2.0)


def test_judged_figure_keys_are_the_same_for_every_figure() -> None:
    upper = judge(199.5, uncertainty=0.02, limit=200.0, unit="ms").to_dict()
    assert set(upper) == JUDGED_KEYS | {"limit"}
    assert upper["coverage_factor"] == 2
    assert upper["decision_rule"] == "guarded acceptance, w = U (ILAC-G8)"
    assert upper["decision"] == "pass" and upper["guard_band"] is False
    window = judge(5.0, uncertainty=0.1, low=4.9, high=5.5, rule=Rule.SIMPLE).to_dict()
    assert set(window) == JUDGED_KEYS | {"low", "high"}
    assert window["decision_rule"] == "simple acceptance (ILAC-G8)"
    electrical = decide(0.9, 1.0, 0.2).to_dict("A")
    assert set(electrical) == JUDGED_KEYS | {"low", "high"}
    assert electrical["unit"] == "A" and electrical["low"] == -1.0 and electrical["high"] == 1.0
    assert electrical["decision"] == "not proven" and electrical["guard_band"] is True


def test_require_fails_a_figure_not_proven_saying_so() -> None:
    with pytest.raises(CaseFailure) as info:
        require_pass(judge(199.99, uncertainty=0.05, limit=200.0, unit="ms"), "CTS within 0.2 s",
                "CTS from 0x56")  # fmt: skip
    text = str(info.value)
    assert text.startswith("expected CTS within 0.2 s; saw CTS from 0x56: 199.99 ms ± 0.05 ms")
    assert text.endswith(": not proven (inside the guard band: a limit lies within ±U; "
                         "guarded acceptance, w = U (ILAC-G8))")  # fmt: skip
    with pytest.raises(CaseFailure, match="against <= 200 ms: fail"):
        require_pass(judge(250.0, uncertainty=0.05, limit=200.0, unit="ms"), "CTS within 0.2 s")
    assert require_pass(judge(1.0, uncertainty=0.05, limit=200.0), "x").passed


def test_calibration_decide_keeps_its_behaviour_and_takes_the_rule() -> None:
    u = 0.173
    assert decide(0.5, 1.0, u).decision is Decision.PASS
    assert decide(-0.9, 1.0, u).decision is Decision.NOT_PROVEN
    assert decide(1.3, 1.0, u).decision is Decision.FAIL
    assert decide(1.0 - u, 1.0, u).decision is Decision.PASS  # |e| + U == limit
    simple = decide(0.9, 1.0, u, Rule.SIMPLE)
    assert simple.decision is Decision.PASS and simple.guard_band


def test_profile_decision_rule() -> None:
    assert parse_profile(tomllib.loads(MINIMAL)).report.decision_rule == "guarded"
    simple = parse_profile(tomllib.loads(MINIMAL + '[report]\ndecision_rule = "simple"\n'))
    assert Rule.of(simple.report.decision_rule) is Rule.SIMPLE
    with pytest.raises(ProfileError, match=r"'report\.decision_rule' must be one of"):
        parse_profile(tomllib.loads(MINIMAL + '[report]\ndecision_rule = "shared"\n'))


# --------------------------------------------------------------------------- the clocks


def test_every_echoing_interface_names_its_clock() -> None:
    for interface in [*sorted(DRIVER_ECHO), "udp_multicast"]:
        clock = can_clock(interface, "ch0", EchoMode.DRIVER)
        assert clock.source, f"{interface}: no source for its figures"
        assert clock.stamped_by != can_clock("slcan", "x", EchoMode.SOFTWARE).stamped_by
        assert 0 < clock.resolution_s <= clock.uncertainty_s, interface
    entry = can_clock("pcan", "PCAN_USBBUS1", EchoMode.DRIVER).to_dict()
    assert entry["bus"] == "can" and entry["interface"] == "pcan"
    assert entry["channel"] == "PCAN_USBBUS1"
    assert "hardware" in entry["stamped_by"]
    assert {"stamped_by", "resolution_s", "uncertainty_s"} <= set(entry)
    assert "kernel" in can_clock("socketcan", "can0", EchoMode.DRIVER).stamped_by
    assert "loopback" in can_clock("udp_multicast", "g", EchoMode.LOOPBACK).stamped_by
    assert "software echo" in can_clock("slcan", "COM3", EchoMode.SOFTWARE).stamped_by
    for bus in ("ocpp", "platform"):
        entry = socket_clock(bus).to_dict()
        assert entry["bus"] == bus
        assert entry["stamped_by"] == "host monotonic clock at receive"


def test_a_refused_driver_echo_mixes_two_clocks() -> None:
    """Bench frames by the host, the DUT's by the adapter: the offset counts."""
    hardware = can_clock("pcan", "x", EchoMode.DRIVER)
    mixed = can_clock("pcan", "x", EchoMode.SOFTWARE)
    assert "software echo" in mixed.stamped_by
    assert mixed.uncertainty_s >= hardware.host_offset_s > hardware.uncertainty_s


def test_difference_uncertainty_combines_both_stamps_and_the_rate() -> None:
    clock = Clock("can", "test", 1e-6, 1e-4, rate_ppm=100.0, host_offset_s=1e-3)
    assert clock.difference_uncertainty(0.0) == pytest.approx(math.sqrt(2) * 1e-4)
    assert clock.difference_uncertainty(10.0) == pytest.approx(math.hypot(1.414e-4, 1e-3), 1e-3)
    assert clock.difference_uncertainty(0.0, from_host=True) == pytest.approx(
        math.hypot(1e-3, 1e-4)
    )


def test_mean_gap_uncertainty_telescopes() -> None:
    clock = Clock("can", "test", 1e-6, 1e-3)
    stats = PeriodStats(11, 250.0, 250.0, 240.0, 260.0, 250.0, 259.0, 5.0)
    judged = TimeJudge(clock).mean_gap(stats, low_ms=225.0, high_ms=275.0)
    assert judged.uncertainty == pytest.approx(math.sqrt(2) * 1.0 / 10)  # ms
    two_runs = TimeJudge(clock).mean_gap(stats, low_ms=225.0, high_ms=275.0, runs=2)
    assert two_runs.uncertainty == pytest.approx(2.0 / 10)


def test_summary_lists_each_clock_once() -> None:
    can = can_clock("virtual", "vcan", EchoMode.DRIVER).to_dict()
    ocpp = socket_clock("ocpp").to_dict()
    cases = [
        {"id": "A", "verdict": "passed", "clocks": [can]},
        {"id": "B", "verdict": "passed", "clocks": [can, ocpp]},
        {"id": "C", "verdict": "passed"},  # a line written before clocks were kept
    ]
    summary = build_summary(cases, profile={}, dut={}, started="", finished="")
    assert summary["clocks"] == [can, ocpp]
    assert "clocks" not in summary["cases"][1]


def test_measurements_note_each_clock_once() -> None:
    m = Measurements()
    clock = socket_clock("platform")
    m.note_clock(clock)
    m.note_clock(clock)
    assert m.clocks == [clock.to_dict()] and dict(m) == {}


# --------------------------------------------------------------------------- timing verdicts

WIDE = Clock("can", "a clock with 10 ms stamps", 1e-3, 10e-3)


def capture_with(name: str, stamps: list[float], data: bytes, *, rule: Rule = Rule.GUARDED,
                 clock: Clock = WIDE) -> Capture:  # fmt: skip
    capture = Capture(TABLE)
    capture.timing = TimeJudge(clock, rule)
    for t in stamps:
        capture.add_frame(Frame(6, TABLE[name].pgn, CHARGER_ADDRESS, BMS_ADDRESS, data, t))
    return capture


def test_latency_at_the_limit_is_not_proven_under_guarded_acceptance() -> None:
    since = Capture(TABLE).now() - 10.0
    at_limit = [since + 0.995]  # 5 ms under a 1 s limit, U = 14 ms
    capture = capture_with("CHM", at_limit, b"\x01\x01\x00")
    m = Measurements()
    with pytest.raises(CaseFailure) as info:
        expect_message(capture, "CHM", src=CHARGER_ADDRESS, since=since, within=1.0,
                       what="CHM", measurements=m, key="chm_after")  # fmt: skip
    assert "not proven" in str(info.value)
    assert m["chm_after"]["decision"] == "not proven" and m["chm_after"]["guard_band"]
    simple = capture_with("CHM", at_limit, b"\x01\x01\x00", rule=Rule.SIMPLE)
    m = Measurements()
    expect_message(simple, "CHM", src=CHARGER_ADDRESS, since=since, within=1.0, what="CHM",
                   measurements=m, key="chm_after")  # fmt: skip
    assert m["chm_after"]["decision"] == "pass" and m["chm_after"]["guard_band"] is True
    assert m["chm_after"]["uncertainty"] == pytest.approx(14.1, abs=0.05)


def test_expect_message_window() -> None:
    since = Capture(TABLE).now() - 100.0
    capture = capture_with("CHM", [since + 60.0], b"\x01\x01\x00")
    with pytest.raises(CaseFailure, match=r"after 60\.000 s: 60000 ms"):
        expect_message(capture, "CHM", src=CHARGER_ADDRESS, since=since, within=70.0,
                       not_before=65.0, what="CHM")  # fmt: skip
    m = Measurements()
    expect_message(capture, "CHM", src=CHARGER_ADDRESS, since=since, within=70.0,
                   not_before=55.0, what="CHM", measurements=m, key="k")  # fmt: skip
    assert m["k"]["low"] == 55000.0 and m["k"]["high"] == 70000.0


def test_period_mean_is_judged_and_recorded() -> None:
    tol = timing_2015().tolerance
    capture = capture_with("CHM", [i * 0.25 for i in range(10)], b"\x01\x01\x00")
    m = Measurements()
    check_period(capture.select("CHM"), "CHM", 0.25, tol, m, timing=capture.timing)
    assert m["CHM.period_mean"]["value"] == pytest.approx(250.0)
    assert m["CHM.period_mean"]["low"] == pytest.approx(225.0)
    assert m["CHM.period_mean"]["decision"] == "pass"
    assert m["CHM.period"]["mean_ms"] == pytest.approx(250.0)  # the statistics stay


def test_timeout_report_is_judged_in_its_window() -> None:
    timing = timing_2015()
    start = Capture(TABLE).now() - 30.0
    capture = capture_with("CEM", [start + 5.5], TABLE.encode("CEM", {"brm_timeout": 1}))
    m = Measurements()
    with pytest.raises(CaseFailure, match="not proven"):
        check_timeout_report(capture, timing["brm"], timing.tolerance, m,
                             src=CHARGER_ADDRESS, earliest_start=start)  # fmt: skip
    assert m["brm_timeout"]["high"] == pytest.approx(5500.0)
    assert m["brm_timeout"]["guard_band"] is True


# --------------------------------------------------------------------------- sockets

SLOW_CLOCK = Clock("ocpp", "a host clock with 5 s stamps", 1e-9, 5.0)


def test_ocpp_call_within_its_wait_is_judged_with_the_log_clock() -> None:
    from vgi_bench.ocpp.checks import expect_call
    from vgi_bench.ocpp.frames import Frame as OcppFrame
    from vgi_bench.ocpp.frames import Kind
    from vgi_bench.ocpp.log import RX, MessageLog

    def log_with_heartbeat(clock: Clock, rule: Rule = Rule.GUARDED) -> MessageLog:
        log = MessageLog(timing=TimeJudge(clock, rule))
        threading.Timer(0.05, lambda: log.add(
            RX, "CP_1#1", OcppFrame(Kind.CALL, "1", "Heartbeat", {}))).start()  # fmt: skip
        return log

    log = log_with_heartbeat(socket_clock("ocpp"))
    assert expect_call(log, "Heartbeat", since=0, within=2.0).frame.action == "Heartbeat"
    with pytest.raises(CaseFailure, match=r"not proven \(inside the guard band"):
        expect_call(log_with_heartbeat(SLOW_CLOCK), "Heartbeat", since=0, within=2.0)
    simple = log_with_heartbeat(SLOW_CLOCK, Rule.SIMPLE)
    assert expect_call(simple, "Heartbeat", since=0, within=2.0)
    untimed = MessageLog()  # a log nobody set a clock on judges nothing
    untimed.add(RX, "CP_1#1", OcppFrame(Kind.CALL, "1", "Heartbeat", {}))
    assert expect_call(untimed, "Heartbeat", since=0, within=2.0)


def test_ocpp_answer_is_judged_against_the_call_timeout() -> None:
    from vgi_bench.ocpp.checks import judge_response
    from vgi_bench.ocpp.frames import Frame as OcppFrame
    from vgi_bench.ocpp.frames import Kind
    from vgi_bench.ocpp.log import RX, TX, MessageLog
    from vgi_bench.ocpp.session import Exchange

    log = MessageLog()
    call = log.add(TX, "c", OcppFrame(Kind.CALL, "7", "Reset", {"type": "Immediate"}))
    answer = log.add(RX, "c", OcppFrame(Kind.RESULT, "7", payload={"status": "Accepted"}),
                     action="Reset", latency_ms=9990.0)  # fmt: skip
    m = Measurements()
    judge_response(Exchange("Reset", call, answer, 10.0), socket_timing("ocpp"), m)
    assert m["Reset.response_time"]["limit"] == 10000.0
    assert m["Reset.response_time"]["guard_band"] is False  # 10 ms inside, U ~ 7 ms
    late = log.add(RX, "c", OcppFrame(Kind.RESULT, "7", payload={}), latency_ms=9998.0)
    with pytest.raises(CaseFailure, match="an answer to Reset within 10 s"):
        judge_response(Exchange("Reset", call, late, 10.0), socket_timing("ocpp"), m)
    judge_response(Exchange("Reset", call, None, 10.0), socket_timing("ocpp"), Measurements())


def test_platform_acknowledgement_is_judged() -> None:
    from vgi_bench.platform.client import Exchange as PlatformExchange
    from vgi_bench.profile import PlatformConfig
    from vgi_bench.rigs.platform import PlatformRig

    m = Measurements()
    rig = PlatformRig(PlatformConfig(ack_limit_s=5.0), None, None, None, m,
                      timing=socket_timing("platform", "guarded"))  # fmt: skip
    rig.check_ack(PlatformExchange("e", {}, 200, b"", None, "", 120.0))
    assert m["ack"]["value"] == 120.0 and m["ack"]["limit"] == 5000.0
    assert m["ack"]["decision"] == "pass"
    with pytest.raises(CaseFailure, match="the acknowledgement within 5 s"):
        rig.check_ack(PlatformExchange("e", {}, 200, b"", None, "", 4999.0))
    assert m["ack"]["decision"] == "not proven"
