"""Safety limits from the profile, and the guard every command passes before the wire.

Two gates, so no code path can exceed a limit: drivers check a setpoint against
:class:`SafetyLimits` before they build a command (a clear error naming the limit), and
:class:`CommandGuard` re-reads every outgoing command against the model's templates and
refuses any setpoint beyond its limit, any non-finite value and any command the model's
map does not list (no raw writes). ``tests/test_instrument_safety.py`` proves it with
hypothesis.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from vgi_bench.instruments.command_map import CommandMap, template_regex

#: Limit names a profile may set (``[instruments.NAME] limits = {...}``).
LIMIT_NAMES = (
    "voltage",  # V, magnitude
    "source_current",  # A the unit may source (discharge the vehicle / V2G)
    "sink_current",  # A the unit may sink (the charger charges into it)
    "power",  # W, either direction
    "internal_resistance",  # ohm (battery emulation)
    "slew_voltage",  # V/s between consecutive voltage setpoints (software ramp)
    "slew_current",  # A/s
)


#: The profile's keys (with units) for each limit; ``max_current_a`` sets both directions.
PROFILE_KEYS = {
    "max_voltage_v": ("voltage",),
    "max_current_a": ("source_current", "sink_current"),
    "max_source_current_a": ("source_current",),
    "max_sink_current_a": ("sink_current",),
    "max_power_w": ("power",),
    "max_internal_resistance_ohm": ("internal_resistance",),
    "max_slew_v_per_s": ("slew_voltage",),
    "max_slew_a_per_s": ("slew_current",),
}


class LimitViolation(ValueError):
    """A setpoint or command beyond the profile's safety limits: nothing was written."""


@dataclass(frozen=True)
class SafetyLimits:
    """The ceilings of one instrument; a missing limit means "nothing may be set"."""

    values: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value in self.values.items():
            if name not in LIMIT_NAMES:
                raise ValueError(f"unknown limit {name!r} (known: {', '.join(LIMIT_NAMES)})")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"limit {name} must be a finite number >= 0, got {value}")

    @classmethod
    def from_profile(cls, table: Mapping[str, float]) -> SafetyLimits:
        """``[instruments.NAME] limits`` (keys of :data:`PROFILE_KEYS`) as limits."""
        values: dict[str, float] = {}
        for key, value in table.items():
            if key not in PROFILE_KEYS:
                raise ValueError(f"unknown limit {key!r} (known: {', '.join(PROFILE_KEYS)})")
            for name in PROFILE_KEYS[key]:
                values[name] = float(value)
        return cls(values)

    def ceiling(self, name: str) -> float:
        return self.values.get(name, 0.0)

    def check(self, limit: str, value: float, what: str) -> float:
        """``value`` if it is finite and within ``limit`` (by magnitude), else raise."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise LimitViolation(f"{what}: {value!r} is not a number")
        if not math.isfinite(value):
            raise LimitViolation(f"{what}: {value} is not finite")
        ceiling = self.ceiling(limit)
        if abs(value) > ceiling:
            raise LimitViolation(
                f"{what}: {value:g} is beyond the profile's {limit} limit of {ceiling:g}"
            )
        return float(value)


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    limit: str | None  # None: a command without a bounded value


class CommandGuard:
    """The last gate before the wire: allow-listed commands, bounded values only."""

    def __init__(self, cmap: CommandMap, limits: SafetyLimits) -> None:
        self.cmap = cmap
        self.limits = limits
        rules = [_Rule(template_regex(sp.set), sp.limit) for sp in cmap.setpoints.values()]
        bounded = {sp.set for sp in cmap.setpoints.values()}
        rules += [_Rule(template_regex(t), None) for t in cmap.all_templates() if t not in bounded]
        self._rules = rules

    def check(self, command: str) -> None:
        """Raise :class:`LimitViolation` unless ``command`` may go to the instrument."""
        text = command.strip()
        for rule in self._rules:
            found = rule.pattern.match(text)
            if found is None:
                continue
            if rule.limit is None:
                if "v" in found.groupdict():
                    value = float(found.group("v"))
                    if not math.isfinite(value):
                        raise LimitViolation(f"{text!r}: {value} is not finite")
                return
            self.limits.check(rule.limit, float(found.group("v")), f"{self.cmap.name} {text!r}")
            return
        raise LimitViolation(f"{self.cmap.name}: {text!r} is not in the model's command map")
