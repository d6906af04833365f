"""What a DUT pushes to the bench: an inbox of notifications the cases wait on, and the
acknowledgement the bench answers each with (a table: endpoint -> answer builder)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vgi_bench.platform.server import BusinessError, Call

Ack = Callable[[Any], Any]  # the notification's Data -> the acknowledgement's Data


@dataclass(frozen=True)
class Notification:
    """One push the DUT made, as received."""

    endpoint: str
    data: Any
    t: float  # time.monotonic() at arrival
    operator_id: str


@dataclass
class Inbox:
    """Notifications in arrival order; :meth:`wait` blocks until a matching one is in."""

    items: list[Notification] = field(default_factory=list)
    #: Pushes to answer with a refusal (endpoint -> [(Ret, match)]), each used once.
    refusals: dict[str, list[tuple[int, Callable[[Any], bool]]]] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def refuse(
        self, endpoint: str, ret: int, match: Callable[[Any], bool] = lambda data: True
    ) -> None:
        """Answer the next push to ``endpoint`` that ``match``es with ``ret`` (it is filed
        all the same): how a case makes the DUT retransmit."""
        with self._cond:
            self.refusals.setdefault(endpoint, []).append((ret, match))

    def refusal(self, endpoint: str, data: Any) -> int | None:
        """The Ret to refuse this push with (used up), or None to acknowledge it."""
        with self._cond:
            for entry in self.refusals.get(endpoint, []):
                if _safe(entry[1], data):
                    self.refusals[endpoint].remove(entry)
                    return entry[0]
        return None

    def put(self, item: Notification) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.items)

    def since(self, mark: int, endpoint: str | None = None) -> list[Notification]:
        with self._cond:
            return [n for n in self.items[mark:] if endpoint is None or n.endpoint == endpoint]

    def wait(
        self,
        endpoint: str,
        timeout: float,
        *,
        since: int = 0,
        match: Callable[[Any], bool] = lambda data: True,
    ) -> Notification | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for n in self.items[since:]:
                    if n.endpoint == endpoint and _safe(match, n.data):
                        return n
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)


def _safe(match: Callable[[Any], bool], data: Any) -> bool:
    try:
        return bool(match(data))
    except Exception:  # a malformed push does not match; the case says what it saw
        return False


def inbox_routes(inbox: Inbox, acks: Mapping[str, Ack]) -> dict[str, Callable[[Call], Any]]:
    """Routes that file each push in ``inbox`` and answer with its acknowledgement."""

    def route(ack: Ack) -> Callable[[Call], Any]:
        def handle(call: Call) -> Any:
            inbox.put(Notification(call.endpoint, call.data, call.received_at,
                                   call.request.operator_id))  # fmt: skip
            ret = inbox.refusal(call.endpoint, call.data)
            if ret is not None:
                raise BusinessError("refused on purpose: the bench tests retransmission", ret)
            return ack(call.data)

        return handle

    return {endpoint: route(ack) for endpoint, ack in acks.items()}


def echo(*keys: str, **fixed: Any) -> Ack:
    """An acknowledgement that echoes ``keys`` of the push and adds ``fixed`` values."""

    def ack(data: Any) -> dict[str, Any]:
        source = data if isinstance(data, dict) else {}
        return {**{k: source.get(k) for k in keys if k in source}, **fixed}

    return ack
