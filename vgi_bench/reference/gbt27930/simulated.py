"""What the reference charger and the reference BMS share: named faults, the standard's
watchdogs, and re-plug detection.

Each reference DUT is a :class:`SimulatedEcu` with its own fault table, states and message
handlers; this module holds only what a simulated GB/T 27930 ECU does whatever its side.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping
from typing import Any, Protocol

import can

from vgi_bench.can.j1939 import Frame
from vgi_bench.can.node import _Timer
from vgi_bench.gbt27930.messages import MessageTable
from vgi_bench.gbt27930.participant import GbtParticipant
from vgi_bench.gbt27930.timeouts import timing_2015

log = logging.getLogger(__name__)

#: How often the re-plug supervisor looks at the bus.
SUPERVISE_S = 0.25


class UnknownFault(ValueError):
    """A fault name the reference DUT does not have."""


class ReplugSettings(Protocol):
    """The two figures of :meth:`SimulatedEcu._supervise` every DUT's settings carry."""

    @property
    def unplug_after_s(self) -> float: ...

    @property
    def idle_reset_s(self) -> float: ...


class SimulatedEcu(GbtParticipant):
    """A simulated GB/T 27930 ECU with named faults, watchdogs and re-plug detection.

    Subclasses set :attr:`FAULTS` and :attr:`PERIOD_FAULTS` and implement ``_reset``,
    ``_timeout`` and the two state questions ``_concluded``/``_idle``.
    """

    #: Fault name -> what it breaks.
    FAULTS: Mapping[str, str] = {}
    #: Faults that only change a message's period: fault -> (message, wrong period in s).
    PERIOD_FAULTS: Mapping[str, tuple[str, float]] = {}

    def __init__(
        self,
        bus: can.BusABC,
        address: int,
        peer: int,
        *,
        faults: Collection[str],
        settings: ReplugSettings,
        table: MessageTable | None,
        name: str,
        **node_kwargs: Any,
    ) -> None:
        unknown = sorted(set(faults) - set(self.FAULTS))
        if unknown:
            raise UnknownFault(f"unknown {name} fault {unknown[0]!r}")
        super().__init__(bus, address, peer, table=table, name=name, **node_kwargs)
        self.faults = frozenset(faults)
        self.settings = settings
        self.timing = timing_2015()
        self._watchdogs: dict[str, _Timer] = {}
        self._last_peer = time.time()

    # -- re-plug ---------------------------------------------------------------------
    def on_start(self) -> None:
        self._reset()
        self._supervise()

    def on_any_frame(self, frame: Frame) -> None:
        if frame.src == self.peer:
            self._last_peer = time.time()

    def _supervise(self) -> None:
        """Start over once a concluded session's peer went quiet (a re-plug), or any
        session has been silent for ``idle_reset_s``."""
        quiet = time.time() - self._last_peer
        s = self.settings
        if (self._concluded() and quiet >= s.unplug_after_s) or (
            not self._idle() and quiet >= s.idle_reset_s
        ):
            log.info("%s: peer quiet for %.1f s, new session", self.name, quiet)
            self._reset()
        self.call_later(SUPERVISE_S, self._supervise)

    def _reset(self) -> None:
        """Back to the state before a session (stop sending, disarm, forget)."""
        raise NotImplementedError

    def _concluded(self) -> bool:
        """The session has ended (normally or in error)."""
        raise NotImplementedError

    def _idle(self) -> bool:
        """No session under way."""
        raise NotImplementedError

    # -- faults ----------------------------------------------------------------------
    def fault_period(self, name: str) -> float | None:
        """The wrong period a period fault gives ``name``, if one is on."""
        for fault, (message, wrong) in self.PERIOD_FAULTS.items():
            if message == name and fault in self.faults:
                return wrong
        return None

    # -- watchdogs -------------------------------------------------------------------
    def _arm(self, name: str, seconds: float | None = None) -> None:
        """(Re)start the watchdog ``name`` with the standard's limit (or ``seconds``)."""
        self._disarm(name)
        limit = self._limit(name) if seconds is None else seconds
        self._watchdogs[name] = self.call_later(limit, lambda: self._expire(name))

    def _limit(self, name: str) -> float:
        """The limit of watchdog ``name`` (a fault may shorten it)."""
        return self.timing[name].limit_s

    def _disarm(self, *names: str) -> None:
        for name in names:
            timer = self._watchdogs.pop(name, None)
            if timer is not None:
                timer.cancel()

    def _disarm_all(self) -> None:
        self._disarm(*list(self._watchdogs))

    def _expire(self, name: str) -> None:
        self._watchdogs.pop(name, None)
        self._timeout(name)

    def _timeout(self, name: str) -> None:
        """Watchdog ``name`` ran out."""
        raise NotImplementedError
