"""The wire to one instrument: a pyvisa resource (or a pyserial port) behind a lock and
the command guard.

pyvisa is not thread-safe per resource (pyvisa #726: one lock per instrument), so every
exchange takes the link's lock; a query is one write + one read under it. The guard sees
every command first. The link also keeps the model's pacing (EA: >= 10 ms between
messages) and counts errors, so a report can say how healthy the connection was.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from vgi_bench.instruments.command_map import CommandMap, parse_error
from vgi_bench.instruments.limits import CommandGuard

log = logging.getLogger(__name__)


class InstrumentError(RuntimeError):
    """The instrument refused, did not answer, or reported an error."""


class Transport(Protocol):
    """What a link needs of a pyvisa resource or a pyserial port."""

    def write(self, text: str) -> Any: ...
    def read(self) -> str: ...
    def close(self) -> None: ...


@dataclass
class LinkStats:
    writes: int = 0
    queries: int = 0
    timeouts: int = 0
    device_errors: list[str] = field(default_factory=list)


class Link:
    """One instrument's connection: guarded, locked, paced, logged."""

    def __init__(self, transport: Transport, cmap: CommandMap, guard: CommandGuard, name: str):
        self.transport = transport
        self.cmap = cmap
        self.guard = guard
        self.name = name
        self.stats = LinkStats()
        self._lock = threading.RLock()
        self._min_interval = float(cmap.link.get("min_interval_s", 0.0))
        self._last = 0.0

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the instrument for a sequence of exchanges (set, read back, check errors)."""
        with self._lock:
            yield

    def _pace(self) -> None:
        wait = self._last + self._min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def write(self, command: str) -> None:
        self.guard.check(command)
        with self._lock:
            self._pace()
            log.debug("%s <- %s", self.name, command)
            try:
                self.transport.write(command)
            except Exception as exc:  # pyvisa/pyserial errors differ by backend
                raise InstrumentError(f"{self.name}: writing {command!r}: {exc}") from exc
            finally:
                self._last = time.monotonic()
            self.stats.writes += 1

    def query(self, command: str) -> str:
        self.guard.check(command)
        with self._lock:
            self._pace()
            try:
                self.transport.write(command)
                reply = self.transport.read()
            except Exception as exc:
                self.stats.timeouts += 1
                raise InstrumentError(f"{self.name}: no answer to {command!r}: {exc}") from exc
            finally:
                self._last = time.monotonic()
            self.stats.queries += 1
            log.debug("%s -> %s = %s", self.name, command, reply.strip())
            return reply.strip()

    def errors(self, limit: int = 16) -> list[str]:
        """Drain the instrument's error queue (``SYST:ERR?`` until "0, No error")."""
        if not self.cmap.has("error"):
            return []
        found: list[str] = []
        with self._lock:
            for _ in range(limit):
                code, text = parse_error(self.query(self.cmap.command("error")))
                if code == 0:
                    break
                found.append(f"{code},{text}")
        self.stats.device_errors.extend(found)
        return found

    def check_errors(self, after: str) -> None:
        """Raise if the instrument queued any error (checked after each configuration)."""
        found = self.errors()
        if found:
            raise InstrumentError(f"{self.name}: after {after}: {'; '.join(found)}")

    def close(self) -> None:
        with self._lock:
            try:
                self.transport.close()
            except Exception as exc:  # closing a dead link must not hide the first error
                log.warning("%s: close: %s", self.name, exc)
