"""Simulated supply, analyzer and relay board: each answers its model's command map
(the same TOML the driver reads) from the shared :class:`PowerStagePlant`.

They behave like the real families where it matters to a bench: a value beyond the
unit's rating is ignored and queued as an error (EA), an unknown query gets no answer
(the driver times out) and an error, the comm watchdog turns the output off when the
bench goes quiet. Every command received is kept in :attr:`received` for tests.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import ClassVar

from vgi_bench.instruments.command_map import CommandMap, template_regex
from vgi_bench.instruments.sim.plant import PlantState, PowerStagePlant

log = logging.getLogger(__name__)

NO_ERROR = '0,"No error"'
UNDEFINED = '-113,"Undefined header"'
OUT_OF_RANGE = '-222,"Data out of range"'


class _Simulated:
    def __init__(self, cmap: CommandMap) -> None:
        self.cmap = cmap
        self.received: list[str] = []
        self.errors: deque[str] = deque(maxlen=32)
        # literal commands first: "REL ALL OFF" must not read as "REL {channel} OFF"
        ordered = sorted(cmap.commands.items(), key=lambda kv: "{" in kv[1])
        self._commands = [(name, template_regex(t)) for name, t in ordered]

    def _command(self, line: str) -> tuple[str, re.Match[str]] | None:
        for name, pattern in self._commands:
            found = pattern.match(line)
            if found:
                return name, found
        return None

    def _unknown(self, line: str) -> None:
        self.errors.append(UNDEFINED)
        log.debug("%s sim: unknown %r", self.cmap.name, line)

    def _error_reply(self) -> str:
        return self.errors.popleft() if self.errors else NO_ERROR


class SimulatedSupply(_Simulated):
    """A bidirectional supply acting as the battery of the plant."""

    RATINGS: ClassVar[dict[str, float]] = {
        "voltage": 1500.0, "source_current": 1000.0, "sink_current": 1000.0,
        "power": 300_000.0, "internal_resistance": 10.0,
    }  # fmt: skip

    def __init__(self, cmap: CommandMap, plant: PowerStagePlant) -> None:
        super().__init__(cmap)
        self.plant = plant
        self.values: dict[str, float] = {}
        self.output = False
        self.watchdog_s: float | None = None
        self.watchdog_armed = False
        self.watchdog_tripped = False
        self._last_traffic = time.monotonic()
        self._setters = [(sp, template_regex(sp.set)) for sp in cmap.setpoints.values()]
        self._getters = [(sp, template_regex(sp.get)) for sp in cmap.setpoints.values() if sp.get]
        self._measures = [(q, template_regex(t)) for q, t in cmap.measure.items()]
        self._stop = threading.Event()
        threading.Thread(target=self._watch, name="supply-sim-wdog", daemon=True).start()

    def close(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            quiet = time.monotonic() - self._last_traffic
            if self.watchdog_armed and self.watchdog_s and quiet > self.watchdog_s and self.output:
                log.warning("%s sim: comm watchdog expired, output off", self.cmap.name)
                self.watchdog_tripped = True
                self._set_output(False)

    def _set_output(self, on: bool) -> None:
        self.output = on
        self.plant.set_battery(output_on=on)

    def handle(self, line: str) -> str | None:
        self.received.append(line)
        self._last_traffic = time.monotonic()
        for sp, pattern in self._setters:
            found = pattern.match(line)
            if found:
                value = abs(float(found.group("v")))
                if value > self.RATINGS.get(sp.limit, 0.0):
                    self.errors.append(OUT_OF_RANGE)
                    return None
                self.values[sp.name] = value
                self._apply(sp.name, value)
                return None
        for sp, pattern in self._getters:
            if pattern.match(line):
                value = self.values.get(sp.name, 0.0)
                return f"{-value if sp.readback == 'negated' else value:.4f}"
        for quantity, pattern in self._measures:
            if pattern.match(line):
                state = self.plant.state()
                # the unit's sign: current into it (the charger charging) is sink, negative
                unit = {"voltage": (state.voltage, "V"), "current": (-state.current, "A"),
                        "power": (-state.power_dc, "W")}[quantity]  # fmt: skip
                return f"{unit[0]:.4f}{unit[1]}"
        command = self._command(line)
        if command is None:
            self._unknown(line)
            return None
        name, match = command
        return self._run(name, match)

    def _apply(self, setpoint: str, value: float) -> None:
        target = {"voltage": "emf", "sink_current": "sink_limit", "source_current": "source_limit",
                  "internal_resistance": "resistance"}.get(setpoint)  # fmt: skip
        if target:
            self.plant.set_battery(**{target: value})

    def _run(self, name: str, match: re.Match[str]) -> str | None:
        if name == "identify":
            return self.cmap.idn
        if name == "error":
            return self._error_reply()
        if name == "output_on":
            self._set_output(True)
        elif name == "output_off":
            self._set_output(False)
        elif name == "output_state":
            return "1" if self.output else "0"
        elif name == "status":
            return "0"
        elif name == "reset":
            self._set_output(False)
            self.values.clear()
        elif name == "watchdog_time":
            self.watchdog_s = float(match.group("v"))
        elif name in ("watchdog_on", "watchdog_off"):
            self.watchdog_armed = name == "watchdog_on"
        return None


#: quantity -> (DC element value, AC element value) from a plant state.
_READINGS: dict[str, Callable] = {
    "voltage": lambda s, e: s.voltage if e == 1 else 400.0,
    "current": lambda s, e: s.current if e == 1 else _line_current(s),
    "power": lambda s, e: s.power_dc if e == 1 else s.power_ac,
    "voltage_ac": lambda s, e: s.voltage_ac if e == 1 else 400.0,
    "voltage_peak_pos": lambda s, e: s.voltage_peak_pos,
    "voltage_peak_neg": lambda s, e: s.voltage_peak_neg,
    "power_factor": lambda s, e: 1.0 if e == 1 else s.power_factor,
    "current_thd": lambda s, e: 0.0 if e == 1 else s.current_thd * 100.0,
    "efficiency": lambda s, e: 100.0 * s.power_dc / s.power_ac if s.power_ac else float("nan"),
    "energy_pos": lambda s, e: s.energy_pos_wh,
    "energy_neg": lambda s, e: s.energy_neg_wh,
}  # fmt: skip


def _line_current(state: PlantState) -> float:
    """AC input current of a 400 V three-phase input at the state's power factor."""
    return state.power_ac / (3**0.5 * 400.0 * max(state.power_factor, 0.1))


class SimulatedAnalyzer(_Simulated):
    """Element 1 on the charger's DC output, element 2 on its AC input."""

    def __init__(self, cmap: CommandMap, plant: PowerStagePlant) -> None:
        super().__init__(cmap)
        self.plant = plant
        self.items: dict[int, tuple[str, int]] = {}
        self._by_function = {fn.upper(): q for q, fn in cmap.functions.items()}

    def handle(self, line: str) -> str | None:
        self.received.append(line)
        found = self._command(line)
        if found is None:
            self._unknown(line)
            return None
        name, match = found
        if name == "identify":
            return self.cmap.idn
        if name == "error":
            return self._error_reply()
        if name == "item":
            quantity = self._by_function.get(match.group("function").upper())
            if quantity is None:
                self.errors.append(OUT_OF_RANGE)
                return None
            self.items[int(match.group("index"))] = (quantity, int(match.group("element")))
        elif name == "values":
            return self._values([self.items[k] for k in sorted(self.items)])
        elif name == "measure":
            return self._values(self._named(match.group("items")))
        elif name.startswith("integ_"):
            self.plant.integration(name.removeprefix("integ_"))
        return None

    def _named(self, names: str) -> list[tuple[str, int]]:
        out = []
        for name in names.split(","):
            fn, element = re.fullmatch(r"(.*?)(\d+)", name.strip()).groups()  # type: ignore[union-attr]
            out.append((self._by_function.get(fn.upper(), "?"), int(element)))
        return out

    def _values(self, items: list[tuple[str, int]]) -> str:
        state = self.plant.state()
        parts = []
        for quantity, element in items:
            reader = _READINGS.get(quantity)
            value = reader(state, element) if reader else float("nan")
            parts.append(f"{value:.6E}" if math.isfinite(value) else "NAN")
        return ",".join(parts)


class SimulatedRelayBoard(_Simulated):
    """Relays by channel number; ``on_change(channel, closed)`` tells the plant or DUT."""

    def __init__(self, cmap: CommandMap, on_change: Callable[[int, bool], None] | None = None):
        super().__init__(cmap)
        self.closed: set[int] = set()
        self.on_change = on_change

    def handle(self, line: str) -> str | None:
        self.received.append(line)
        found = self._command(line)
        if found is None:
            self._unknown(line)
            return "ERR unknown command"
        name, match = found
        if name == "identify":
            return self.cmap.idn
        if name == "open_all":
            for channel in sorted(self.closed):
                self._switch(channel, False)
            return "OK"
        channel = int(match.group("channel"))
        if name == "state":
            return "1" if channel in self.closed else "0"
        self._switch(channel, name == "close")
        return "OK"

    def _switch(self, channel: int, closed: bool) -> None:
        (self.closed.add if closed else self.closed.discard)(channel)
        if self.on_change is not None:
            self.on_change(channel, closed)
