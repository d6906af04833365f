"""The HTTP message log of platform exchanges (``platform.jsonl`` of a run)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import IO, Any


@dataclass(frozen=True)
class LogEntry:
    """One HTTP message either way; ``data`` is the plaintext payload where known."""

    t: float  # time.monotonic()
    direction: str  # "bench->dut" or "dut->bench"
    kind: str  # "request" or "response"
    endpoint: str
    data: Any = None
    ret: int | None = None
    note: str = ""


def masked(value: Any) -> Any:
    """``value`` with every ``...Secret`` field replaced by ``***`` (the log is a file)."""
    if isinstance(value, dict):
        return {k: "***" if "secret" in str(k).lower() else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


@dataclass
class MessageLog:
    """Entries in memory (cases search them) and, when given a sink, as JSON lines
    labelled with ``label`` (the case), secrets masked."""

    sink: IO[str] | None = None
    label: str = ""
    entries: list[LogEntry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, direction: str, kind: str, endpoint: str, **kw: Any) -> LogEntry:
        entry = LogEntry(time.monotonic(), direction, kind, endpoint, **kw)
        with self._lock:
            self.entries.append(entry)
            if self.sink is not None:
                record = {**masked(asdict(entry)), "wall": time.time(), "case": self.label}
                self.sink.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                self.sink.flush()
        return entry
