"""The physics behind the simulated instruments: a charger's power stage, the battery
emulator it charges, and what a power analyzer on both sides would read.

pyvisa-sim answers each query from independent properties (no coupling, pyvisa-sim
#64), so the bench's simulators read one shared model instead: the reference charger
sends its commands here (:class:`vgi_bench.reference.gbt27930.charger.PowerCommand`), the simulated
supply sets the battery, and the simulated analyzer reads the result, with noise.

Model (charging positive into the battery):
* the stage's current reference ramps to the commanded current at ``slew_a_per_s`` and the
  output follows it with a first-order lag ``tau_s``; in constant-voltage mode the target
  is the current that brings the terminal voltage to the demand;
* terminal voltage = battery EMF + current x internal resistance, plus ripple;
* AC input power = DC power / efficiency(load) when charging, x efficiency when
  discharging; power factor and current THD depend on load.
Named faults break exactly one of these (offset, slow response, ripple, poor
efficiency, poor power factor, no decay after a stop).
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PLANT_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "power_offset": "delivers 3 % + 0.5 A more current than commanded (1 % + 1 V more "
        "voltage in constant-voltage mode)",
        "power_slow_response": "follows a new current demand at 4 A/s instead of 100 A/s",
        "power_ripple": "2.5 % peak voltage ripple instead of 0.2 %",
        "power_poor_efficiency": "efficiency 8 points below the conformant stage",
        "power_poor_pf": "power factor 0.90 at every load",
        "power_no_decay": "ramps the current down at 10 A/s after a stop instead of 300 A/s",
        "power_imd_blind": "the insulation monitor does not see an injected fault resistance",
        "power_estop_unwired": "the emergency-stop input is not wired to the control",
    }
)


@dataclass
class PlantSettings:
    rated_power_w: float = 150_000.0
    slew_a_per_s: float = 100.0
    stop_slew_a_per_s: float = 300.0
    tau_s: float = 0.05
    ripple_rel: float = 0.002
    noise_rel: float = 0.0002
    internal_resistance: float = 0.05  # ohm, the emulated battery's
    seed: int = 27930


@dataclass(frozen=True)
class PlantState:
    """What instruments would read now (analyzer element 1 = DC output, 2 = AC input)."""

    time: float
    voltage: float
    current: float  # + = into the battery (charging)
    power_dc: float
    power_ac: float
    power_factor: float
    current_thd: float
    voltage_ac: float  # rms of the ripple
    voltage_peak_pos: float
    voltage_peak_neg: float
    energy_pos_wh: float
    energy_neg_wh: float


@dataclass
class _Battery:
    output_on: bool = False
    emf: float = 0.0
    sink_limit: float = 0.0
    source_limit: float = 0.0
    resistance: float | None = None


@dataclass
class PowerStagePlant:
    """Thread-safe: the charger's node thread commands it, the simulators read it."""

    settings: PlantSettings = field(default_factory=PlantSettings)
    faults: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = sorted(self.faults - set(PLANT_FAULTS))
        if unknown:
            raise ValueError(f"unknown power-stage fault {unknown[0]!r}")
        self._lock = threading.Lock()
        self._rng = random.Random(self.settings.seed)
        self.battery = _Battery()
        self._target = 0.0  # commanded current, + into the battery
        self._cv_voltage: float | None = None
        self._reference = 0.0
        self._current = 0.0
        self._stopping = False
        self._last = time.monotonic()
        self._integrating = False
        self._energy = [0.0, 0.0]  # Wh into / out of the battery
        self.commands: list[tuple[float, Any]] = []
        self._insulation: dict[str, float] = {}  # relay channel -> resistor switched in
        self.estop = False

    # -- inputs ----------------------------------------------------------------------
    def command(self, command: Any) -> None:
        """From the charger's control (a PowerCommand: GB/T sign, + = discharge)."""
        with self._lock:
            self._advance()
            self.commands.append((time.time(), command))
            into_battery = -float(command.current)
            self._stopping = into_battery == 0.0 and float(command.voltage) == 0.0
            self._target = into_battery
            self._cv_voltage = float(command.voltage) if command.constant_voltage else None

    def set_battery(self, **changes: Any) -> None:
        """From the simulated supply: output_on, emf, sink_limit, source_limit, resistance."""
        with self._lock:
            self._advance()
            for name, value in changes.items():
                setattr(self.battery, name, value)

    def connect_resistor(self, name: str, ohm: float | None) -> None:
        """An insulation-fault resistor switched between DC+ and PE (None: switched out)."""
        with self._lock:
            if ohm is None:
                self._insulation.pop(name, None)
            else:
                self._insulation[name] = ohm

    def insulation_ohm(self) -> float:
        """What the charger's insulation monitor sees: the parallel of what is switched in."""
        with self._lock:
            if not self._insulation or "power_imd_blind" in self.faults:
                return math.inf
            return 1.0 / sum(1.0 / r for r in self._insulation.values())

    def set_estop(self, pressed: bool) -> None:
        """The DUT's emergency-stop input (a relay of the fault-injection board)."""
        with self._lock:
            self.estop = pressed and "power_estop_unwired" not in self.faults

    def integration(self, action: str) -> None:
        with self._lock:
            self._advance()
            if action == "reset":
                self._energy = [0.0, 0.0]
            self._integrating = {"start": True, "stop": False}.get(action, self._integrating)

    # -- dynamics --------------------------------------------------------------------
    def _resistance(self) -> float:
        r = self.battery.resistance
        return self.settings.internal_resistance if r is None else max(r, 1e-3)

    def _goal(self) -> float:
        b = self.battery
        if not b.output_on:
            return 0.0
        goal = self._target
        if self._cv_voltage is not None and goal > 0:
            regulated = self._cv_voltage
            if "power_offset" in self.faults:
                regulated = regulated * 1.01 + 1.0
            goal = min(goal, max(0.0, (regulated - b.emf) / self._resistance()))
            return max(-b.source_limit, min(b.sink_limit, goal))
        if "power_offset" in self.faults and goal != 0:
            goal = goal * 1.03 + math.copysign(0.5, goal)
        return max(-b.source_limit, min(b.sink_limit, goal))

    def _advance(self) -> None:
        now = time.monotonic()
        dt = now - self._last
        self._last = now
        if dt <= 0:
            return
        s = self.settings
        goal = self._goal()
        slew = s.slew_a_per_s
        if "power_slow_response" in self.faults:
            slew = 4.0
        if self._stopping:
            slew = 10.0 if "power_no_decay" in self.faults else s.stop_slew_a_per_s
        step = slew * dt
        delta = goal - self._reference
        self._reference += max(-step, min(step, delta))
        self._current += (self._reference - self._current) * (1 - math.exp(-dt / s.tau_s))
        if self._integrating:
            wh = self._voltage() * self._current * dt / 3600.0
            self._energy[0 if wh >= 0 else 1] += abs(wh)

    def _voltage(self) -> float:
        b = self.battery
        return b.emf + self._current * self._resistance() if b.output_on else 0.0

    def _efficiency(self, load: float) -> float:
        eta = 0.962 - 0.004 / max(load, 0.02)
        return eta - 0.08 if "power_poor_efficiency" in self.faults else eta

    def _power_factor(self, load: float) -> float:
        return 0.90 if "power_poor_pf" in self.faults else 0.992 - 0.002 / max(load, 0.02)

    # -- what instruments read ---------------------------------------------------------
    def state(self) -> PlantState:
        with self._lock:
            self._advance()
            noise = self.settings.noise_rel
            v = self._voltage() * (1 + self._rng.gauss(0, noise))
            i = self._current * (1 + self._rng.gauss(0, noise)) + self._rng.gauss(0, 0.01)
            p_dc = v * i
            load = abs(p_dc) / self.settings.rated_power_w
            eta = self._efficiency(load)
            p_ac = p_dc / eta if p_dc >= 0 else p_dc * eta
            ripple = self.settings.ripple_rel * (12.5 if "power_ripple" in self.faults else 1.0)
            amplitude = abs(v) * ripple if self.battery.output_on else 0.0
            return PlantState(
                time=time.time(),
                voltage=v,
                current=i,
                power_dc=p_dc,
                power_ac=p_ac,
                power_factor=self._power_factor(load) if abs(p_dc) > 1.0 else 0.0,
                current_thd=0.03 + 0.01 / max(load, 0.02),
                voltage_ac=amplitude / math.sqrt(2),
                voltage_peak_pos=v + amplitude,
                voltage_peak_neg=v - amplitude,
                energy_pos_wh=self._energy[0],
                energy_neg_wh=self._energy[1],
            )
