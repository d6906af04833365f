"""A bidirectional DC supply used as the battery the charger under test charges (and, for
V2G, discharges): one driver for every model, through the model's command map.

Why not pymeasure: its drivers are a class per model with a property per command; ours
are data (one TOML per model) read by one driver per kind, and every write goes through
the limit check, the command guard, a read-back and the error queue, which pymeasure's
``Instrument.control`` does not do. pymeasure would also pull in pandas and pint.

Order of configuration follows safe practice (reference §5): remote, voltage priority and
high-impedance shutdown where the model has them, the instrument's own protections
(OVP/OCP/OPP) first, then the set values, each read back, then ``SYST:ERR?``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from vgi_bench.instruments.command_map import CommandMap, parse_number
from vgi_bench.instruments.limits import LimitViolation, SafetyLimits
from vgi_bench.instruments.link import InstrumentError, Link

log = logging.getLogger(__name__)

#: A read-back within this much of what was written is taken as applied.
READBACK_REL, READBACK_ABS = 1e-3, 0.011
RAMP_STEP_S = 0.05


@dataclass(frozen=True)
class SupplyReading:
    voltage: float | None
    current: float | None  # the unit's sign: negative = sinking
    power: float | None
    time: float


class DcSupply:
    """A battery emulator / bidirectional supply, limit-checked at every step."""

    def __init__(self, link: Link, limits: SafetyLimits, name: str = "supply") -> None:
        self.link = link
        self.cmap: CommandMap = link.cmap
        self.limits = limits
        self.name = name
        self.applied: dict[str, float] = {}
        self.output_on = False

    # -- configuration ---------------------------------------------------------------
    def configure(self) -> str:
        """Take remote control and program protections first; returns the *IDN? reply."""
        with self.link.exclusive():
            idn = self.link.query(self.cmap.command("identify"))
            self._off()
            for name in ("remote", "priority_voltage", "shutdown_highz"):
                if self.cmap.has(name):
                    self.link.write(self.cmap.command(name))
            for sp in self.cmap.setpoints.values():
                if sp.protection:
                    self.set(sp.name, self.limits.ceiling(sp.limit))
            self.link.check_errors("configuration")
        return idn

    def set(self, setpoint: str, value: float) -> float:
        """Write one setpoint (checked, read back, error queue empty); the applied value."""
        sp = self.cmap.setpoints.get(setpoint)
        if sp is None:
            raise InstrumentError(f"{self.name}: {self.cmap.name} has no setpoint {setpoint!r}")
        value = self.limits.check(sp.limit, value, f"{self.name} {setpoint}")
        if value < 0:
            raise LimitViolation(f"{self.name} {setpoint}: {value:g} must not be negative")
        with self.link.exclusive():
            self.link.write(sp.set.format(v=value))
            if sp.get:
                reply = parse_number(self.link.query(sp.get))
                seen = None if reply is None else (-reply if sp.readback == "negated" else reply)
                if seen is None or abs(seen - value) > max(READBACK_ABS, abs(value) * READBACK_REL):
                    self.link.errors()
                    raise InstrumentError(
                        f"{self.name}: {setpoint} written {value:g}, read back {seen!r}"
                    )
        self.applied[setpoint] = value
        return value

    def ramp(self, setpoint: str, target: float, rate_limit: str) -> float:
        """Move ``setpoint`` to ``target`` no faster than the profile's slew limit."""
        rate = self.limits.ceiling(rate_limit)
        self.limits.check(self.cmap.setpoints[setpoint].limit, target, f"{self.name} {setpoint}")
        start = self.applied.get(setpoint, 0.0)
        if rate <= 0 or start == target:
            return self.set(setpoint, target)
        step = rate * RAMP_STEP_S
        value = start
        while abs(target - value) > step:
            value += step if target > value else -step
            self.set(setpoint, value)
            time.sleep(RAMP_STEP_S)
        return self.set(setpoint, target)

    def emulate_battery(
        self, voltage: float, *, sink_current: float, source_current: float = 0.0,
        power: float | None = None, internal_resistance: float | None = None,
    ) -> None:  # fmt: skip
        """Set the unit up as a battery at ``voltage`` the charger may push current into."""
        if "sink_current" in self.cmap.setpoints:
            self.set("sink_current", sink_current)
        self.set("source_current", source_current)
        for name in ("sink_power", "source_power"):
            if power is not None and name in self.cmap.setpoints:
                self.set(name, power)
        if internal_resistance is not None and "internal_resistance" in self.cmap.setpoints:
            if self.limits.ceiling("internal_resistance") > 0:
                self.set("internal_resistance", internal_resistance)
            else:  # no max_internal_resistance_ohm in the profile: leave the unit's own
                log.warning("%s: internal resistance not set (no limit for it in the "
                            "profile)", self.name)  # fmt: skip
        self.ramp("voltage", voltage, "slew_voltage")
        self.link.check_errors("battery set-up")

    # -- output ----------------------------------------------------------------------
    def output(self, on: bool) -> None:
        if on:
            self.link.write(self.cmap.command("output_on"))
            self.output_on = True
            self.link.check_errors("output on")
        else:
            self._off()

    def _off(self) -> None:
        self.link.write(self.cmap.command("output_off"))
        self.output_on = False

    def safe_off(self) -> bool:
        """Output off, whatever state the link is in; True when the command went out."""
        try:
            self._off()
            if self.cmap.has("output_state"):  # confirm: the unit has acted on it
                state = self.link.query(self.cmap.command("output_state"))
                if state.strip().upper() not in ("0", "OFF"):
                    log.error("%s: output still on after OUTPUT OFF (%r)", self.name, state)
                    return False
        except Exception as exc:  # the safe path must not raise over the original error
            log.error("%s: OUTPUT OFF FAILED: %s", self.name, exc)
            return False
        log.info("%s: output off (safe state)", self.name)
        return True

    # -- watchdog --------------------------------------------------------------------
    def arm_watchdog(self, seconds: float) -> None:
        """The unit turns its output off by itself if the bench stops talking to it."""
        if not self.cmap.has("watchdog_on"):
            log.warning("%s: %s has no watchdog command", self.name, self.cmap.name)
            return
        self.link.write(self.cmap.command("watchdog_time", v=max(1.0, seconds)))
        self.link.write(self.cmap.command("watchdog_on"))
        self.link.check_errors("watchdog")

    def disarm_watchdog(self) -> None:
        if self.cmap.has("watchdog_off"):
            self.link.write(self.cmap.command("watchdog_off"))

    # -- reading ---------------------------------------------------------------------
    def measure(self) -> SupplyReading:
        with self.link.exclusive():
            values = {q: parse_number(self.link.query(cmd)) for q, cmd in self.cmap.measure.items()}
        return SupplyReading(
            values.get("voltage"), values.get("current"), values.get("power"), time.time()
        )

    def status(self) -> str:
        return self.link.query(self.cmap.command("status")) if self.cmap.has("status") else ""
