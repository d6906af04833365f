"""What the bench's two roles (BMS and charger) share: a script of what to send, phases
a case can wait for, and the calls a case makes during a session.

:class:`MessageScript` holds the deviations every message can have (values, withheld,
raw bytes, period, transfers stopped mid-way, another message in its place); each role's
script adds its own sequence options. :class:`ScriptedRole` sends through the script and
records when each phase was entered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from vgi_bench.gbt27930.participant import GbtParticipant

P = TypeVar("P", bound=Enum)


@dataclass
class MessageScript:
    """Per-message deviations a case can ask of the bench's role."""

    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    withhold: set[str] = field(default_factory=set)
    raw: dict[str, bytes] = field(default_factory=dict)
    period_s: dict[str, float] = field(default_factory=dict)
    stop_after_packets: dict[str, int] = field(default_factory=dict)
    instead_of: dict[str, str] = field(default_factory=dict)


class ScriptedRole(GbtParticipant, Generic[P]):
    """A bench role: sends through its :class:`MessageScript`, records phase entry times.

    Every method a case calls is thread-safe: it hands the change to the node thread.
    """

    script: MessageScript

    def __init__(self, *args: Any, script: MessageScript, first_phase: P, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.script = script
        self.phase: P = first_phase
        self.phase_times: dict[P, float] = {}
        self._changed = threading.Condition()

    # -- what a case calls -----------------------------------------------------------
    def wait_phase(self, phase: P, timeout: float) -> bool:
        """Block until the role has entered ``phase``; ``False`` on timeout."""
        return self.wait_until(lambda: phase in self.phase_times, timeout)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Block until ``predicate`` (checked on every phase change) holds."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def set_values(self, name: str, **values: Any) -> None:
        """Change signal values of a message; a running periodic message picks them up."""

        def apply() -> None:
            self.script.values.setdefault(name, {}).update(values)
            if self.is_sending(name):
                self._start(name)

        self.call_soon(apply)

    def stop_sending(self, *names: str) -> None:
        """Stop periodic messages now (a message interrupted mid-session)."""
        self.call_soon(lambda: self.stop_message(*names))

    def send_raw(self, name: str, data: bytes) -> None:
        """From now on send ``data`` as ``name`` (wrong length or content mid-session)."""

        def apply() -> None:
            self.script.raw[name] = data
            self._restart_message(name)

        self.call_soon(apply)

    def break_transfers(self, name: str, after_packets: int) -> None:
        """From now on stop each transfer of ``name`` after ``after_packets`` data packets."""

        def apply() -> None:
            self.script.stop_after_packets[name] = after_packets
            self._restart_message(name)

        self.call_soon(apply)

    # -- sending through the script -------------------------------------------------
    def _start(
        self, name: str, extra: dict[str, Any] | None = None, *, immediate: bool = False
    ) -> None:
        """Start (or update) periodic ``name`` as the script says; withheld: nothing."""
        script = self.script
        if name in script.withhold:
            return
        sent = script.instead_of.get(name, name)
        values = {**script.values.get(sent, {}), **(extra or {})}
        self.start_message(
            sent,
            values,
            raw=script.raw.get(sent),
            period_s=script.period_s.get(sent),
            stop_after_packets=script.stop_after_packets.get(sent),
            immediate=immediate,
        )

    def _restart_message(self, name: str) -> None:
        if self.is_sending(name):
            self.stop_message(name)
            self._start(name)

    # -- phases ----------------------------------------------------------------------
    def _enter(self, phase: P) -> None:
        with self._changed:
            self.phase = phase
            self.phase_times.setdefault(phase, self.now())
            self._changed.notify_all()

    def _changing(self, change: Callable[[], None]) -> None:
        """Apply ``change`` to the role's state and wake whoever waits on it."""
        with self._changed:
            change()
            self._changed.notify_all()
