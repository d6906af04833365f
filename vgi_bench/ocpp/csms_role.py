"""The bench as CSMS: a websocket server the charge point under test connects to.

Each connection becomes an :class:`~vgi_bench.ocpp.session.OcppSession` answering through the
version's handlers (:mod:`vgi_bench.ocpp.csms_handlers`) as the :class:`CsmsScript` says.
The synchronous methods are for cases: they run on the rig's :class:`LoopThread`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from vgi_bench.ocpp.csms_handlers import HANDLERS, CsmsScript
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.security import Security, parse_basic_auth
from vgi_bench.ocpp.session import Exchange, OcppSession, RouteHandler, RpcPolicy
from vgi_bench.ocpp.timeouts import Timeouts


def subprotocol(version: str) -> Subprotocol:
    """The websocket subprotocol of an OCPP version (``ocpp1.6``, ``ocpp2.0.1``)."""
    return Subprotocol(f"ocpp{version}")


@dataclass(frozen=True)
class Attempt:
    """One websocket upgrade request: path, Basic auth user, TLS version, why refused, and
    the Basic auth password (kept out of its repr, so out of the message log)."""

    path: str
    user: str | None
    tls: str | None
    refused: str | None
    password: str | None = field(default=None, repr=False)


def split_host_port(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


class BenchCsms:
    """Listens on ``host:port``; the charge point connects as ``/<charge_point_id>``."""

    def __init__(
        self,
        loop: LoopThread,
        version: str,
        listen: str,
        message_log: MessageLog,
        *,
        script: CsmsScript | None = None,
        charge_point_id: str | None = None,
        timeouts: Timeouts | None = None,
        handlers: Callable[[CsmsScript], object] | None = None,
        policy: RpcPolicy | None = None,
        security: Security | None = None,
        auth_check: Callable[[str | None, str], str | None] | None = None,
        verify_client: bool = True,
    ) -> None:
        """``handlers`` builds the ``@on`` handler object (default: the version's bench
        handlers); ``policy`` is the OCPP-J error handling (a reference CSMS's faults);
        ``security`` the profile's TLS/Basic auth, ``auth_check`` how Authorization headers
        are judged (default: ``security.check_basic_auth``)."""
        self.loop = loop
        self.version = version
        self.host, self.port = split_host_port(listen)
        self.log = message_log
        self.script = script or CsmsScript()
        self.charge_point_id = charge_point_id
        self.timeouts = timeouts or Timeouts()
        self.handlers = handlers or HANDLERS[version]
        self.policy = policy
        self.security = security or Security()
        self.auth_check = auth_check or self.security.check_basic_auth
        self.verify_client = verify_client
        self.sessions: list[OcppSession] = []
        self.attempts: list[Attempt] = []
        self._server: Server | None = None

    # ------------------------------------------------------------------ async side

    async def _start(self) -> None:
        tls = self.security.server_ssl(verify_client=self.verify_client)
        self._server = await serve(
            self._connection, self.host, self.port, ssl=tls,
            subprotocols=[subprotocol(self.version)], ping_interval=None,
            process_request=self._check_request,
        )  # fmt: skip

    def _check_request(self, ws: ServerConnection, request: Request) -> Response | None:
        """Record every upgrade request; refuse an unknown identity (404) and bad Basic auth
        (401, profiles 1 and 2) before the websocket opens."""
        path_id = request.path.rstrip("/").split("/")[-1]
        if self.charge_point_id and path_id != self.charge_point_id:
            self.log.note(f"refused {request.path!r}: not /{self.charge_point_id}")
            return ws.respond(HTTPStatus.NOT_FOUND, "unknown charge point identity\n")
        cp_id = self.charge_point_id or path_id
        header = request.headers.get("Authorization")
        ssl_object = ws.transport.get_extra_info("ssl_object") if ws.transport else None
        user, password = parse_basic_auth(header)
        attempt = Attempt(
            request.path, user, ssl_object.version() if ssl_object is not None else None,
            self.auth_check(header, cp_id), password,
        )  # fmt: skip
        self.attempts.append(attempt)
        self.log.note(f"upgrade request {attempt}")
        if attempt.refused:
            return ws.respond(HTTPStatus.UNAUTHORIZED, f"{attempt.refused}\n")
        return None

    async def _connection(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if ws.subprotocol != subprotocol(self.version):
            self.log.note(f"connection on {path!r} without subprotocol {subprotocol(self.version)}")
        session = OcppSession(
            ws, self.version, self.log, name=path.strip("/") or "cp",
            handler=RouteHandler(self.handlers(self.script)), timeouts=self.timeouts,
            policy=self.policy,
        )  # fmt: skip
        self.sessions.append(session)
        self.log.note(f"connected: {path} (subprotocol {ws.subprotocol})", session.label)
        await session.serve()
        self.log.note(f"closed: {session.close_reason}", session.label)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 3)

    # ------------------------------------------------------------------ case side

    def start(self) -> BenchCsms:
        self.loop.run(self._start(), timeout=10)
        return self

    def stop(self) -> None:
        self.loop.run(self._stop(), timeout=10)

    @property
    def session(self) -> OcppSession | None:
        """The newest connection that is still open."""
        for session in reversed(self.sessions):
            if not session.closed.is_set():
                return session
        return None

    def wait_session(self, timeout: float) -> OcppSession | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = self.session
            if session is not None:
                return session
            time.sleep(0.02)
        return None

    def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None, **kw: Any
    ) -> Exchange:
        """Send a CALL on the current connection and wait for its answer."""
        session = self.wait_session(timeout or 5.0)
        if session is None:
            raise ConnectionError("no charge point connected")
        wait = session.timeouts.for_action(action) if timeout is None else timeout
        return self.loop.run(session.call(action, payload, timeout=timeout, **kw), wait + 5)

    def send_raw(self, raw: str | bytes) -> None:
        session = self.wait_session(5.0)
        if session is None:
            raise ConnectionError("no charge point connected")
        self.loop.run(session.send_raw(raw), 5)
