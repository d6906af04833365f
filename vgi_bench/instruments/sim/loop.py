"""An in-process transport to a simulated instrument (no socket): for fast tests and
property-based runs of the real drivers, guard and links."""

from __future__ import annotations

from collections import deque

from vgi_bench.instruments.sim.scpi_server import Responder


class LoopTransport:
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.written: list[str] = []
        self._replies: deque[str] = deque()

    def write(self, text: str) -> None:
        self.written.append(text)
        reply = self.responder.handle(text)
        if reply is not None:
            self._replies.append(reply)

    def read(self) -> str:
        if not self._replies:
            raise TimeoutError("no reply (simulated timeout)")
        return self._replies.popleft()

    def close(self) -> None:
        self._replies.clear()
