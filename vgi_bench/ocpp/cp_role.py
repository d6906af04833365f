"""The bench as charge point: a websocket client to the CSMS under test.

It sends what a case tells it to (valid or, on purpose, invalid) and measures every
answer; CSMS-initiated CALLs are logged and answered NotSupported unless a case installs
a handler. The synchronous methods are for cases and run on the rig's :class:`LoopThread`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from vgi_bench.ocpp.csms_role import subprotocol
from vgi_bench.ocpp.frames import Frame
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.security import Security
from vgi_bench.ocpp.session import Exchange, Handler, OcppSession, Reply
from vgi_bench.ocpp.timeouts import Timeouts


class ScriptedReplies:
    """A :class:`Handler` that answers ``replies`` (action -> payload) itself and passes
    anything else to ``inner`` (the rig's handler, if any): a case adds the answers it
    needs (``CertificateSigned`` Accepted, ...) before it connects."""

    def __init__(self, replies: dict[str, dict[str, Any]], inner: Handler | None = None) -> None:
        self.replies = replies
        self.inner = inner

    def known(self, action: str) -> bool:
        return action in self.replies or (self.inner is not None and self.inner.known(action))

    async def handle(self, frame: Frame) -> Reply:
        if frame.action in self.replies:
            return dict(self.replies[frame.action])
        assert self.inner is not None
        return await self.inner.handle(frame)

    def after(self, frame: Frame) -> Any:
        if frame.action in self.replies or self.inner is None:
            return None
        return self.inner.after(frame)


class BenchChargePoint:
    """Connects to ``url`` (``ws://host:port/<charge point id>``) with the version's subprotocol."""

    def __init__(
        self,
        loop: LoopThread,
        version: str,
        url: str,
        message_log: MessageLog,
        *,
        handler: Handler | None = None,
        timeouts: Timeouts | None = None,
        security: Security | None = None,
    ) -> None:
        self.loop = loop
        self.version = version
        self.url = url
        self.log = message_log
        self.handler = handler
        self.timeouts = timeouts or Timeouts()
        self.security = security or Security()
        self.session: OcppSession | None = None
        self._connection: ClientConnection | None = None
        self._serving: Any = None

    async def _connect(self, timeout: float) -> None:
        ws = await connect(
            self.url, subprotocols=[subprotocol(self.version)], open_timeout=timeout,
            ping_interval=None, additional_headers=self.security.auth_headers() or None,
            ssl=self.security.client_ssl() if self.url.startswith("wss") else None,
        )  # fmt: skip
        self._connection = ws
        name = self.url.rstrip("/").rsplit("/", 1)[-1]
        self.session = OcppSession(
            ws, self.version, self.log, handler=self.handler, name=name, timeouts=self.timeouts
        )
        self.log.note(f"connected to {self.url} (subprotocol {ws.subprotocol})", self.session.label)
        self._serving = asyncio.ensure_future(self.session.serve())

    def connect(self, timeout: float = 10.0) -> OcppSession:
        """Open the websocket; raises ``OSError``/``TimeoutError`` when the CSMS is not there."""
        self.loop.run(self._connect(timeout), timeout + 5)
        assert self.session is not None
        return self.session

    def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None, **kw: Any
    ) -> Exchange:
        if self.session is None:
            raise ConnectionError("not connected")
        wait = self.timeouts.for_action(action) if timeout is None else timeout
        return self.loop.run(self.session.call(action, payload, timeout=timeout, **kw), wait + 5)

    def send_raw(self, raw: str | bytes) -> None:
        if self.session is None:
            raise ConnectionError("not connected")
        self.loop.run(self.session.send_raw(raw), 5)

    async def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), 3)
        if self._serving is not None:
            self._serving.cancel()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.run(self._close(), 5)
