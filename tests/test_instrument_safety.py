"""Property: no code path sends a setpoint beyond the profile's limits.

Hypothesis drives the real supply driver (through the guard and the link) with random
limits and random sequences of calls with any float (negative, huge, NaN, infinite) and
checks every command that reached the simulated instrument. A second property feeds the
guard arbitrary command text.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vgi_bench.instruments.command_map import all_models, get_model, template_regex
from vgi_bench.instruments.limits import CommandGuard, LimitViolation, SafetyLimits
from vgi_bench.instruments.link import InstrumentError, Link
from vgi_bench.instruments.sim.instruments import SimulatedSupply
from vgi_bench.instruments.sim.loop import LoopTransport
from vgi_bench.instruments.sim.plant import PowerStagePlant
from vgi_bench.instruments.supply import DcSupply

SUPPLIES = sorted(n for n, m in all_models().items() if m.kind == "supply")
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)
LIMIT = st.floats(min_value=0.0, max_value=2000.0, allow_nan=False)

limits_strategy = st.fixed_dictionaries(
    {
        "max_voltage_v": LIMIT,
        "max_source_current_a": LIMIT,
        "max_sink_current_a": LIMIT,
        "max_power_w": st.floats(min_value=0.0, max_value=400_000.0),
        "max_internal_resistance_ohm": st.floats(min_value=0.0, max_value=5.0),
    }
)
operation = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(
        ["voltage", "source_current", "sink_current", "source_power", "sink_power", "ovp", "ocp",
         "sink_ocp", "opp", "internal_resistance", "nonexistent"]), ANY_FLOAT),
    st.tuples(st.just("battery"), ANY_FLOAT, ANY_FLOAT, ANY_FLOAT),
    st.tuples(st.just("output"), st.booleans()),
    st.tuples(st.just("configure")),
)  # fmt: skip


def _written_setpoints(model: str, written: list[str]) -> list[tuple[str, float]]:
    cmap = get_model(model)
    patterns = [(sp.limit, template_regex(sp.set)) for sp in cmap.setpoints.values()]
    found = []
    for command in written:
        for limit, pattern in patterns:
            match = pattern.match(command)
            if match:
                found.append((limit, float(match.group("v"))))
                break
    return found


@pytest.mark.parametrize("model", SUPPLIES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(limits=limits_strategy, ops=st.lists(operation, max_size=12))
def test_no_setpoint_beyond_the_limits_reaches_the_instrument(
    model: str, limits: dict[str, float], ops: list[tuple]
) -> None:
    cmap = get_model(model)
    sim = SimulatedSupply(cmap, PowerStagePlant())
    sim.RATINGS = dict.fromkeys(
        sim.RATINGS, 1000000000000.0
    )  # the unit itself would accept anything
    safety = SafetyLimits.from_profile(limits)
    transport = LoopTransport(sim)
    supply = DcSupply(Link(transport, cmap, CommandGuard(cmap, safety), model), safety, model)
    for op in ops:
        try:
            if op[0] == "set":
                supply.set(op[1], op[2])
            elif op[0] == "battery":
                supply.emulate_battery(op[1], sink_current=op[2], source_current=op[3])
            elif op[0] == "output":
                supply.output(op[1])
            else:
                supply.configure()
        except (LimitViolation, InstrumentError):
            pass
    sim.close()
    for limit, value in _written_setpoints(model, transport.written):
        assert math.isfinite(value)
        assert abs(value) <= safety.ceiling(limit) + 1e-9, (limit, value, transport.written)


@pytest.mark.parametrize("model", SUPPLIES)
@settings(max_examples=200, deadline=None)
@given(text=st.one_of(
    st.text(max_size=40),
    st.builds(lambda head, v: f"{head} {v}", st.sampled_from(
        ["VOLT", "CURR", "SINK:CURR", "CURR:LIM", "CURR:LIM:NEG", "VOLT:PROT", "POW"]), ANY_FLOAT),
))  # fmt: skip
def test_the_guard_lets_through_only_bounded_listed_commands(model: str, text: str) -> None:
    cmap = get_model(model)
    safety = SafetyLimits.from_profile(
        {"max_voltage_v": 100, "max_current_a": 10, "max_power_w": 1000}
    )
    guard = CommandGuard(cmap, safety)
    try:
        guard.check(text)
    except LimitViolation:
        return
    for limit, value in _written_setpoints(model, [text.strip()]):
        assert math.isfinite(value) and abs(value) <= safety.ceiling(limit)
    assert any(template_regex(t).match(text.strip()) for t in cmap.all_templates())
