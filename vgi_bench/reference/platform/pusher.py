"""A reference platform's outgoing pushes: queued, sent in order from a worker thread to
the partner platform, each optionally delayed (the late-upload faults)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from vgi_bench.platform.client import PlatformClient

log = logging.getLogger(__name__)

#: T/CEC 102.4 §4.6 wants a failed push sent again (> 3 times, 1 min apart); the
#: reference tries twice, 1 s apart, so a missing partner does not hold it up.
ATTEMPTS = 2
RETRY_S = 1.0


@dataclass(frozen=True)
class Push:
    endpoint: str
    data: Any
    not_before: float  # time.monotonic()
    attempts: int = ATTEMPTS


class Pusher:
    """Sends pushes to the partner in a daemon thread until :meth:`stop`."""

    def __init__(self, client: PlatformClient, name: str, attempts: int = ATTEMPTS) -> None:
        self.client = client
        self.attempts = attempts  # of a push that is not superseded
        client.refresh_on_token_error = True  # the partner may have restarted
        self._queue: queue.Queue[Push | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"push-{name}", daemon=True)
        self._stop = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        self._thread.join(5)

    def push(
        self, endpoint: str, data: Any, delay_s: float = 0.0, attempts: int | None = None
    ) -> None:
        """Queue a push; ``attempts`` 1 for data the next push supersedes (real-time)."""
        tries = self.attempts if attempts is None else attempts
        self._queue.put(Push(endpoint, data, time.monotonic() + delay_s, tries))

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                return
            wait = item.not_before - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            for attempt in range(item.attempts):
                exchange = self.client.call(item.endpoint, item.data)
                if exchange.ret == 0:
                    break
                log.info("push %s not taken: %s", item.endpoint, exchange.seen())
                if attempt + 1 < item.attempts and self._stop.wait(RETRY_S):
                    return
