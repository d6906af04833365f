"""How long to wait for the answer to each CALL: one table, per action, per run.

OCPP leaves the call timeout to the implementation (2.0.1 Part 4 §4.1.1 / 1.6 OCPP-J
§4.1.1); the library has one ``response_timeout`` per connection. A bench needs it per
message: a Reset may take longer than a Heartbeat, and a case may tighten one on purpose.
The timeout is also the limit an answer's response time is judged against, with the
uncertainty of the host clock that stamps it (``vgi_bench.ocpp.checks.judge_response``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vgi_bench.profile import OcppConfig

DEFAULT_TIMEOUT_S = 10.0

#: Actions whose answers may legitimately take longer than the default.
SLOW_ACTIONS: Mapping[str, float] = MappingProxyType(
    {"GetBaseReport": 20.0, "GetLog": 20.0, "GetDiagnostics": 20.0, "UpdateFirmware": 20.0}
)


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for the answer to a CALL, by action."""

    default_s: float = DEFAULT_TIMEOUT_S
    per_action: Mapping[str, float] = field(default_factory=lambda: dict(SLOW_ACTIONS))

    def for_action(self, action: str) -> float:
        return self.per_action.get(action, self.default_s)

    def with_action(self, action: str, seconds: float) -> Timeouts:
        return replace(self, per_action={**self.per_action, action: seconds})

    @classmethod
    def from_config(cls, ocpp: OcppConfig | None) -> Timeouts:
        """The profile's ``[ocpp] call_timeout_s`` and ``[ocpp.timeouts]`` (action -> s) over
        the built-in slow-action table; without an ``[ocpp]`` section, the defaults."""
        if ocpp is None:
            return cls()
        return cls(default_s=ocpp.call_timeout_s, per_action={**SLOW_ACTIONS, **ocpp.timeouts})
