"""One OCPP-J connection: CALLs out with per-call timeouts, CALLs in routed to handlers.

Handlers are found the ``ocpp`` library's way (``@on(Action.X)`` methods, see
:class:`RouteHandler`). Written here instead of using ``ocpp.ChargePoint`` because a
bench needs what that class lacks: per-call timeouts and measured response times, every
frame in a :class:`~vgi_bench.ocpp.log.MessageLog`, garbage answered with a CALLERROR (id
``-1``) rather than only logged, deliberately invalid or raw frames, incoming CALLs handled
in their own task (a handler may itself call), and NotImplemented / NotSupported as OCPP-J
defines them (the library swaps the two).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, is_dataclass
from typing import Any, Protocol

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.routing import create_route_map

from vgi_bench.ocpp.frames import (
    UNKNOWN_ID,
    Frame,
    Kind,
    encode_call,
    encode_error,
    encode_result,
    parse_frame,
)
from vgi_bench.ocpp.log import RX, TX, Entry, MessageLog
from vgi_bench.ocpp.schema import UnknownSchema, check_payload, describe, error_code_for, has_schema
from vgi_bench.ocpp.timeouts import Timeouts

log = logging.getLogger(__name__)


class Connection(Protocol):
    """What a session needs of a websocket (``websockets`` connections have it)."""

    async def send(self, message: str | bytes) -> None: ...
    async def recv(self) -> str | bytes: ...
    async def close(self, code: int = 1000, reason: str = "") -> None: ...


@dataclass(frozen=True)
class RpcPolicy:
    """How a session treats what it receives. Conformant by default; faults change it."""

    validate_incoming: bool = True  # CALLERROR for a schema-invalid CALL
    answer_garbage: bool = True  # CALLERROR RpcFrameworkError (id "-1") for garbage
    unknown_action_code: str = "NotImplemented"  # action the version does not define
    unhandled_action_code: str = "NotSupported"  # defined, but this side does not do it


@dataclass(frozen=True)
class CallErrorReply:
    """A handler's way to answer with a CALLERROR."""

    code: str
    description: str = ""
    details: dict[str, Any] | None = None


class NoReply:
    """A handler's way to leave a CALL unanswered (faults only)."""


Reply = dict[str, Any] | CallErrorReply | type[NoReply] | Any  # Any: a call_result dataclass


class Handler(Protocol):
    def known(self, action: str) -> bool: ...
    async def handle(self, frame: Frame) -> Reply: ...
    def after(self, frame: Frame) -> Awaitable[Any] | None: ...


@dataclass(frozen=True)
class Exchange:
    """One CALL and its answer (``response`` is ``None`` when it timed out)."""

    action: str
    request: Entry
    response: Entry | None
    timeout_s: float

    @property
    def frame(self) -> Frame | None:
        return None if self.response is None else self.response.frame

    @property
    def ok(self) -> bool:
        return self.frame is not None and self.frame.kind is Kind.RESULT

    @property
    def payload(self) -> dict[str, Any]:
        frame = self.frame
        return frame.payload if frame is not None and frame.kind is Kind.RESULT else {}

    @property
    def error_code(self) -> str | None:
        frame = self.frame
        return frame.error_code if frame is not None and frame.kind is Kind.ERROR else None

    @property
    def latency_ms(self) -> float | None:
        return None if self.response is None else self.response.latency_ms

    def describe(self) -> str:
        if self.response is None:
            return f"no answer to {self.action} within {self.timeout_s:g} s"
        return self.response.frame.describe()


def to_wire(reply: Any) -> dict[str, Any]:
    """A handler's reply as a camelCase payload (library dataclasses are snake_case)."""
    if is_dataclass(reply) and not isinstance(reply, type):
        return snake_to_camel_case(remove_nones(serialize_as_dict(reply)))
    return dict(reply)


class RouteHandler:
    """Dispatch to ``@on(Action.X)`` methods of ``target`` (the ``ocpp`` library's routing).

    Handlers get snake_case keyword arguments, as with ``ocpp.ChargePoint``, and return a
    library ``call_result`` dataclass, a camelCase dict, a :class:`CallErrorReply` or
    :class:`NoReply`. ``@after`` hooks run as tasks once the answer is sent.
    """

    def __init__(self, target: object) -> None:
        self.routes = create_route_map(target)

    def known(self, action: str) -> bool:
        return "_on_action" in self.routes.get(action, {})

    async def handle(self, frame: Frame) -> Reply:
        handler = self.routes[frame.action]["_on_action"]
        kwargs = camel_to_snake_case(frame.payload)
        if "call_unique_id" in inspect.signature(handler).parameters:
            kwargs["call_unique_id"] = frame.unique_id
        reply = handler(**kwargs)
        return await reply if inspect.isawaitable(reply) else reply

    def after(self, frame: Frame) -> Awaitable[Any] | None:
        hook = self.routes.get(frame.action, {}).get("_after_action")
        if hook is None:
            return None
        result = hook(**camel_to_snake_case(frame.payload))
        return result if inspect.isawaitable(result) else None


class OcppSession:
    """An OCPP-J peer over one websocket connection; ``await serve()`` runs it."""

    _labels = itertools.count(1)

    def __init__(
        self,
        connection: Connection,
        version: str,
        message_log: MessageLog,
        *,
        handler: Handler | None = None,
        name: str = "peer",
        policy: RpcPolicy | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.connection = connection
        self.version = version
        self.log = message_log
        self.handler = handler
        self.label = f"{name}#{next(self._labels)}"
        self.policy = policy or RpcPolicy()
        self.timeouts = timeouts or Timeouts()
        self._pending: dict[str, tuple[str, float, asyncio.Future[Entry]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = asyncio.Event()
        self.close_reason = ""

    # ------------------------------------------------------------------ receiving

    async def serve(self) -> None:
        """Receive until the connection closes; never raises for what the peer sends."""
        try:
            while True:
                raw = await self.connection.recv()
                received = time.monotonic()
                await self._receive(parse_frame(raw), received)
        except Exception as exc:  # ConnectionClosed and friends end the session
            self.close_reason = f"{type(exc).__name__}: {exc}".strip()
        finally:
            self.closed.set()
            for _, _, future in self._pending.values():
                if not future.done():
                    future.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _receive(self, frame: Frame, received: float) -> None:
        if frame.kind is Kind.CALL:
            self._spawn(self._on_call(frame, received))
        elif frame.kind in (Kind.RESULT, Kind.ERROR):
            self._on_answer(frame, received)
        else:
            self.log.add(RX, self.label, frame)
            if self.policy.answer_garbage:
                code = (
                    "MessageTypeNotSupported"
                    if frame.message_type_id not in (None, 2, 3, 4) and self.version != "1.6"
                    else "RpcFrameworkError"
                    if self.version != "1.6"
                    else "GenericError"
                )
                uid = frame.unique_id if code == "MessageTypeNotSupported" else None
                await self._send_frame(encode_error(uid or UNKNOWN_ID, code, frame.reason))

    def _on_answer(self, frame: Frame, received: float) -> None:
        pending = self._pending.pop(frame.unique_id or "", None)
        if pending is None:
            self.log.add(RX, self.label, frame, note="answers no pending call")
            return
        action, sent, future = pending
        violations: tuple = ()
        if frame.kind is Kind.RESULT:
            with contextlib.suppress(UnknownSchema):
                violations = tuple(
                    check_payload(self.version, action, frame.payload, response=True)
                )
        entry = self.log.add(
            RX, self.label, frame, action=action, violations=violations,
            latency_ms=round((received - sent) * 1000.0, 3),
        )  # fmt: skip
        if not future.done():
            future.set_result(entry)

    async def _on_call(self, frame: Frame, received: float) -> None:
        action = frame.action or ""
        try:
            violations = tuple(check_payload(self.version, action, frame.payload, response=False))
        except UnknownSchema:
            self.log.add(RX, self.label, frame, note="action not in this OCPP version")
            await self._answer_error(frame, received, self.policy.unknown_action_code,
                                     f"{action} is not an OCPP {self.version} action")  # fmt: skip
            return
        self.log.add(RX, self.label, frame, violations=violations)
        if violations and self.policy.validate_incoming:
            code = error_code_for(list(violations), self.version)
            await self._answer_error(frame, received, code, describe(list(violations)))
            return
        if self.handler is None or not self.handler.known(action):
            await self._answer_error(frame, received, self.policy.unhandled_action_code,
                                     f"{action} is not supported here")  # fmt: skip
            return
        try:
            reply = await self.handler.handle(frame)
        except Exception as exc:
            log.exception("%s: handler for %s failed", self.label, action)
            await self._answer_error(frame, received, "InternalError", f"{type(exc).__name__}")
            return
        if reply is NoReply:
            return
        if isinstance(reply, CallErrorReply):
            await self._answer_error(frame, received, reply.code, reply.description, reply.details)
            return
        payload = to_wire(reply)
        violations = tuple(check_payload(self.version, action, payload, response=True))
        await self._send_frame(
            encode_result(frame.unique_id or UNKNOWN_ID, payload), action=action,
            violations=violations, received=received,
        )  # fmt: skip
        hook = self.handler.after(frame)
        if hook is not None:
            self._spawn(hook)

    async def _answer_error(
        self, frame: Frame, received: float, code: str, text: str, details: dict | None = None
    ) -> None:
        raw = encode_error(frame.unique_id or UNKNOWN_ID, code, text, details)
        await self._send_frame(raw, action=frame.action, received=received)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ sending

    async def _send_frame(
        self,
        raw: str | bytes,
        *,
        action: str | None = None,
        violations: tuple = (),
        received: float | None = None,
        note: str = "",
    ) -> Entry | None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        latency = None if received is None else round((time.monotonic() - received) * 1000, 3)
        try:
            await self.connection.send(raw)
        except Exception as exc:
            self.log.add(TX, self.label, parse_frame(text), action=action, note=f"not sent: {exc}")
            return None
        return self.log.add(
            TX, self.label, parse_frame(text), action=action, violations=violations,
            latency_ms=latency, note=note,
        )  # fmt: skip

    async def send_raw(self, raw: str | bytes, note: str = "sent raw") -> Entry | None:
        """Send anything, unchecked (malformed frames on purpose)."""
        return await self._send_frame(raw, note=note)

    async def call(
        self,
        action: str,
        payload: dict[str, Any] | Any,
        *,
        timeout: float | None = None,
        validate: bool = True,
        unique_id: str | None = None,
    ) -> Exchange:
        """Send a CALL and wait for its answer (``Exchange.response`` is None on timeout).

        ``validate=False`` sends a schema-invalid payload on purpose; otherwise an invalid
        payload is a bench bug and raises ``ValueError``. ``payload`` may be a library
        ``call`` dataclass.
        """
        wire = to_wire(payload)
        violations: tuple = ()
        with contextlib.suppress(UnknownSchema):
            violations = tuple(check_payload(self.version, action, wire, response=False))
        if violations and validate:
            raise ValueError(f"invalid {action} payload: {describe(list(violations))}")
        uid = unique_id or str(uuid.uuid4())
        wait = self.timeouts.for_action(action) if timeout is None else timeout
        future: asyncio.Future[Entry] = asyncio.get_running_loop().create_future()
        self._pending[uid] = (action, time.monotonic(), future)
        request = await self._send_frame(
            encode_call(uid, action, wire), action=action, violations=violations
        )
        if request is None:
            self._pending.pop(uid, None)
            raise ConnectionError(f"{self.label}: connection closed before {action} was sent")
        try:
            response = await asyncio.wait_for(asyncio.shield(future), wait)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            response = None  # a late answer is still logged, as answering no pending call
        self._pending.pop(uid, None)
        return Exchange(action, request, response, wait)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(Exception):
            await self.connection.close(code, reason)


HandlerFactory = Callable[[OcppSession], Handler]

__all__ = [
    "CallErrorReply",
    "Connection",
    "Exchange",
    "Handler",
    "HandlerFactory",
    "NoReply",
    "OcppSession",
    "RouteHandler",
    "RpcPolicy",
    "has_schema",
    "to_wire",
]
