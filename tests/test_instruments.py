"""Instrument drivers, command maps, guard, simulators and the safe state."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vgi_bench.instruments.analyzer import Item
from vgi_bench.instruments.calibration import (
    Accuracy,
    Calibration,
    CalibrationStatus,
    Decision,
    decide,
)
from vgi_bench.instruments.command_map import all_models, get_model, parse_error, parse_number
from vgi_bench.instruments.limits import CommandGuard, LimitViolation, SafetyLimits
from vgi_bench.instruments.link import InstrumentError, Link
from vgi_bench.instruments.rack import InstrumentRack, safe_outputs
from vgi_bench.instruments.sim.instruments import SimulatedSupply
from vgi_bench.instruments.sim.loop import LoopTransport
from vgi_bench.instruments.sim.plant import PowerStagePlant
from vgi_bench.instruments.supply import DcSupply
from vgi_bench.profile import InstrumentConfig
from vgi_bench.reference.gbt27930.charger import PowerCommand

LIMITS = {"max_voltage_v": 800, "max_current_a": 300, "max_power_w": 150_000}
SUPPLIES = [n for n, m in all_models().items() if m.kind == "supply"]
ANALYZERS = [n for n, m in all_models().items() if m.kind == "analyzer"]


def loop_supply(model: str, limits: dict | None = None) -> tuple[DcSupply, SimulatedSupply]:
    cmap = get_model(model)
    sim = SimulatedSupply(cmap, PowerStagePlant())
    safety = SafetyLimits.from_profile(limits or LIMITS)
    link = Link(LoopTransport(sim), cmap, CommandGuard(cmap, safety), model)
    return DcSupply(link, safety, model), sim


# -- command maps ------------------------------------------------------------------------
def test_models_have_what_their_driver_needs() -> None:
    assert {"ea-psb", "itech-it6000c", "keysight-rp7900"} <= set(SUPPLIES)
    assert {"yokogawa-wt", "hioki-pw3390"} <= set(ANALYZERS)
    for name, cmap in all_models().items():
        assert cmap.has("identify"), name
        if cmap.kind == "supply":
            for cmd in ("output_on", "output_off", "error"):
                assert cmap.has(cmd), (name, cmd)
            for sp in ("voltage", "sink_current", "source_current", "ovp"):
                assert sp in cmap.setpoints, (name, sp)
            assert {"voltage", "current"} <= set(cmap.measure), name
        if cmap.kind == "analyzer":
            for q in ("voltage", "current", "power", "power_factor", "energy_pos", "energy_neg"):
                assert q in cmap.functions, (name, q)


def test_reply_parsing() -> None:
    assert parse_number("12.5V") == 12.5
    assert parse_number("-3.2E+01") == -32.0
    assert parse_number("NAN") is None and parse_number("INF") is None
    assert parse_error('-222,"Data out of range"') == (-222, "Data out of range")
    assert parse_error('0,"No error"')[0] == 0


# -- the guard ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", SUPPLIES)
def test_guard_refuses_beyond_limits_and_unknown_commands(model: str) -> None:
    cmap = get_model(model)
    guard = CommandGuard(cmap, SafetyLimits.from_profile(LIMITS))
    guard.check(cmap.setpoints["voltage"].set.format(v=799.0))
    for bad in (cmap.setpoints["voltage"].set.format(v=801.0), "SYST:PASS 1234", "VOLT 1;OUTP ON"):
        with pytest.raises(LimitViolation):
            guard.check(bad)
    with pytest.raises(LimitViolation):
        guard.check(cmap.setpoints["sink_current"].set.format(v=float("nan")))


# -- the supply driver ---------------------------------------------------------------------
@pytest.mark.parametrize("model", SUPPLIES)
def test_supply_sets_protections_first_and_reads_back(model: str) -> None:
    supply, sim = loop_supply(model)
    assert supply.configure()
    supply.emulate_battery(380.0, sink_current=250.0, source_current=50.0, power=100_000)
    supply.output(True)
    sent = sim.received
    ovp = next(
        i
        for i, c in enumerate(sent)
        if c.startswith(get_model(model).setpoints["ovp"].set.split()[0])
    )
    first_voltage = next(
        i
        for i, c in enumerate(sent)
        if c.startswith(get_model(model).setpoints["voltage"].set.split()[0] + " ")
    )
    assert ovp < first_voltage, sent
    assert sim.values["voltage"] == pytest.approx(380.0)
    assert sim.output
    with pytest.raises(LimitViolation):
        supply.set("voltage", 900.0)
    assert sim.values["voltage"] == pytest.approx(380.0)  # nothing was written


def test_a_value_the_unit_ignores_is_caught_by_the_read_back() -> None:
    supply, sim = loop_supply("ea-psb", {"max_voltage_v": 5000, "max_current_a": 10})
    sim.RATINGS = {**sim.RATINGS, "voltage": 1000.0}
    with pytest.raises(InstrumentError, match="read back"):
        supply.set("voltage", 1200.0)


def test_ramp_respects_the_slew_limit() -> None:
    supply, sim = loop_supply("ea-psb", {**LIMITS, "max_slew_v_per_s": 2000})
    supply.ramp("voltage", 300.0, "slew_voltage")
    written = [float(c.split()[1]) for c in sim.received if c.startswith("VOLT ")]
    steps = [b - a for a, b in zip([0.0, *written], written, strict=False)]
    assert max(steps) <= 2000 * 0.05 + 1e-6 and written[-1] == 300.0


def test_watchdog_turns_the_output_off_when_the_bench_goes_quiet() -> None:
    supply, sim = loop_supply("ea-psb")
    supply.configure()
    supply.emulate_battery(380.0, sink_current=100.0)
    supply.output(True)
    supply.arm_watchdog(1.0)
    deadline = time.monotonic() + 5
    while sim.output and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sim.output and sim.watchdog_tripped
    sim.close()


# -- the rack over real sockets (pyvisa-py), analyzers, relay, safe state ---------------------
def sim_rack(analyzer: str = "yokogawa-wt") -> tuple[InstrumentRack, PowerStagePlant]:
    plant = PowerStagePlant()
    configs = {
        "supply": InstrumentConfig("ea-psb", "sim", dict(LIMITS)),
        "analyzer": InstrumentConfig(analyzer, "sim"),
        "relay": InstrumentConfig("relay-ascii", "sim", channels={"estop": 1, "imd_fault": 2}),
    }
    return InstrumentRack(configs, plant).open(), plant


@pytest.mark.parametrize("model", ANALYZERS)
def test_analyzer_reads_the_plant_through_pyvisa(model: str) -> None:
    rack, plant = sim_rack(model)
    try:
        supply, analyzer = rack.supply(), rack.analyzer()
        supply.configure()
        supply.emulate_battery(380.0, sink_current=250.0)
        supply.output(True)
        analyzer.configure([Item("current", 1), Item("power", 1), Item("power", 2)])
        plant.command(PowerCommand(400.0, -50.0))
        time.sleep(1.0)
        reading = analyzer.read()
        assert reading["current@1"] == pytest.approx(50.0, rel=0.01)
        assert reading["power@2"] > reading["power@1"] > 0  # input > output: losses
    finally:
        rack.close()
    assert "OUTP OFF" in rack.simulators["supply"].received[-2:]


def test_relay_board_over_pyserial() -> None:
    rack, _ = sim_rack()
    try:
        relay = rack.relays["relay"]
        relay.close("imd_fault")
        assert rack.simulators["relay"].closed == {2}
        assert relay.emergency_stop()
        assert rack.simulators["relay"].closed == {1, 2}
        with pytest.raises(InstrumentError):
            relay.close("nonexistent")
    finally:
        rack.close()
    assert rack.simulators["relay"].closed == set()  # safe state opens every relay


def test_outputs_go_off_on_an_exception() -> None:
    rack, _ = sim_rack()
    try:
        with pytest.raises(RuntimeError), safe_outputs(rack):
            rack.supply().configure()
            rack.supply().emulate_battery(380.0, sink_current=100.0)
            rack.supply().output(True)
            assert rack.simulators["supply"].output
            raise RuntimeError("a case failed mid-way")
        assert not rack.simulators["supply"].output
    finally:
        rack.close()


SIGTERM_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from vgi_bench.profile import InstrumentConfig
    from vgi_bench.instruments.rack import InstrumentRack, safe_outputs
    from vgi_bench.instruments.sim.plant import PowerStagePlant
    rack = InstrumentRack({"supply": InstrumentConfig("ea-psb", "sim",
        {"max_voltage_v": 800, "max_current_a": 300})}, PowerStagePlant()).open()
    sim = rack.simulators["supply"]
    try:
        with safe_outputs(rack):
            rack.supply().configure()
            rack.supply().emulate_battery(380.0, sink_current=100.0)
            rack.supply().output(True)
            print("ON", flush=True)
            time.sleep(30)
    finally:
        print("OFF" if not sim.output and "OUTP OFF" in sim.received[-2:] else "STILL ON",
              flush=True)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_outputs_go_off_on_sigterm_and_ctrl_c(signum: int, tmp_path: Path) -> None:
    script = tmp_path / "hold.py"
    script.write_text(SIGTERM_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ON"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    assert "OFF" in out.split(), out + err


# -- calibration and uncertainty -------------------------------------------------------------
def test_calibration_status_and_guard_banded_decision() -> None:
    config = InstrumentConfig("yokogawa-wt", "sim", serial="91K000001",
                              calibration_date=datetime.date(2026, 1, 10),
                              calibration_due=datetime.date(2027, 1, 10))  # fmt: skip
    cal = Calibration.of("analyzer", config)
    assert cal.status(datetime.date(2026, 11, 23)) == CalibrationStatus.VALID
    assert cal.status(datetime.date(2027, 2, 1)) == CalibrationStatus.EXPIRED
    u = Accuracy(0.001, 0.05).expanded(100.0)  # +-0.15 A spec -> U = 0.173 A
    assert u == pytest.approx(2 * 0.15 / 3**0.5)
    assert decide(0.5, 1.0, u).decision == Decision.PASS
    assert decide(0.9, 1.0, u).decision == Decision.NOT_PROVEN
    assert decide(1.3, 1.0, u).decision == Decision.FAIL


def test_internal_resistance_needs_its_limit_in_the_profile() -> None:
    supply, sim = loop_supply("keysight-rp7900")
    supply.emulate_battery(380.0, sink_current=100.0, internal_resistance=0.05)
    assert "internal_resistance" not in sim.values  # no limit: not written at all
    supply, sim = loop_supply("keysight-rp7900", {**LIMITS, "max_internal_resistance_ohm": 1.0})
    supply.emulate_battery(380.0, sink_current=100.0, internal_resistance=0.05)
    assert sim.values["internal_resistance"] == pytest.approx(0.05)
