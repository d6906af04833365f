"""The message log: every OCPP frame in and out, timestamped, to memory and to JSON Lines.

It is the raw websocket capture of a run (``ocpp.jsonl``) and what cases query: each
entry carries the frame as sent on the wire, its parse, any schema violations, and for
answers the latency from the call they answer. Frames are appended by the event-loop
thread and awaited by case threads, so access goes through one condition variable.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from vgi_bench.ocpp.frames import Frame, Kind
from vgi_bench.ocpp.schema import Violation

if TYPE_CHECKING:
    from vgi_bench.timing import TimeJudge

RX, TX = "rx", "tx"  # seen from the log's owner: received from / sent to the peer


@dataclass(frozen=True)
class Entry:
    """One logged frame. ``time`` is wall-clock (epoch s), ``mono`` a monotonic clock."""

    seq: int
    time: float
    mono: float
    direction: str  # RX or TX
    connection: str  # label of the websocket connection (e.g. "CP_1#2")
    frame: Frame
    action: str | None = None  # for answers: the action of the call they answer
    violations: tuple[Violation, ...] = ()
    latency_ms: float | None = None  # for answers: since the call was sent/received
    note: str = ""

    @property
    def payload(self) -> Any:
        return self.frame.payload

    def describe(self) -> str:
        text = f"{self.direction} {self.frame.describe()}"
        return (
            text if not self.action or self.frame.kind is Kind.CALL else f"{text} ({self.action})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": round(self.time, 6),
            "direction": self.direction,
            "connection": self.connection,
            "kind": self.frame.kind.value,
            "id": self.frame.unique_id,
            "action": self.action or self.frame.action,
            "raw": self.frame.raw,
            "violations": [v.describe() for v in self.violations],
            "latency_ms": self.latency_ms,
            **({"note": self.note} if self.note else {}),
        }


@dataclass
class MessageLog:
    """Append-only, thread-safe; optionally mirrored line by line to a JSON Lines file.

    ``timing`` judges times between its entries (their clock and the run's decision
    rule); the rigs set it, checks on a log without it judge nothing.
    """

    sink: IO[str] | None = None
    context: dict[str, Any] = field(default_factory=dict)  # added to each JSON line
    timing: TimeJudge | None = None
    entries: list[Entry] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @classmethod
    def to_file(cls, path: Path, **context: Any) -> MessageLog:
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(sink=path.open("a", encoding="utf-8"), context=context)

    def add(self, direction: str, connection: str, frame: Frame, **extra: Any) -> Entry:
        with self._cond:
            entry = Entry(
                len(self.entries), time.time(), time.monotonic(), direction, connection, frame,
                **extra,
            )  # fmt: skip
            self.entries.append(entry)
            if self.sink is not None:
                self.sink.write(json.dumps({**self.context, **entry.as_dict()}) + "\n")
                self.sink.flush()
            self._cond.notify_all()
        return entry

    def note(self, text: str, connection: str = "") -> None:
        """A bench event worth seeing in the capture (connect, close, reset...)."""
        self.add("--", connection, Frame(Kind.EVENT, reason=text), note=text)

    def close(self) -> None:
        with self._cond:
            if self.sink is not None:
                self.sink.close()
                self.sink = None

    def snapshot(self, since: int = 0) -> list[Entry]:
        with self._cond:
            return self.entries[since:]

    def __len__(self) -> int:
        with self._cond:
            return len(self.entries)

    def wait_for(
        self, predicate: Callable[[Entry], bool], timeout: float, since: int = 0
    ) -> Entry | None:
        """The first entry from index ``since`` on that matches, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        index = since
        with self._cond:
            while True:
                while index < len(self.entries):
                    entry = self.entries[index]
                    index += 1
                    if predicate(entry):
                        return entry
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def iter(self, since: int = 0) -> Iterator[Entry]:
        yield from self.snapshot(since)
