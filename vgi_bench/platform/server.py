"""The serving side of a platform link: an HTTP server that opens envelopes, checks
tokens and replays, and routes by endpoint name to plain handler functions.

``http.server.ThreadingHTTPServer`` (standard library): the load is a few requests per
second from one peer, and it needs no event loop shared with the cases. Bound to the
given host (127.0.0.1 in tests). Routing uses the last path segment, so any URL prefix
(``/evcs/v1/``, ``/evcs/v20160701/``, none) reaches the same handler.

What the pipeline checks, in order (each a :class:`Policy` switch, so a reference
platform can break one on purpose): body size, JSON, envelope fields and types (4003),
signature (4001), replayed ``OperatorID+TimeStamp+Seq`` (4003), Bearer token (4002),
then the handler, which raises :class:`BusinessError` for bad business data (4004).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vgi_bench.platform.client import TOKEN_ENDPOINT
from vgi_bench.platform.envelope import EnvelopeCodec, EnvelopeError, Request, Response
from vgi_bench.platform.log import MessageLog
from vgi_bench.platform.ret import RET_MESSAGES, Ret
from vgi_bench.platform.tokens import TokenStore, bearer

log = logging.getLogger(__name__)

#: Bodies beyond this are not even drained: the connection is closed.
HARD_BODY_LIMIT = 64 * 1024 * 1024


class BusinessError(ValueError):
    """A handler's refusal: the business data is not acceptable (Ret 4004 by default)."""

    def __init__(self, reason: str, ret: int = Ret.BUSINESS_PARAMS) -> None:
        super().__init__(reason)
        self.ret = ret


@dataclass(frozen=True)
class Call:
    """What a handler gets: the endpoint, the opened request, when it arrived."""

    endpoint: str
    request: Request
    received_at: float

    @property
    def data(self) -> Any:
        return self.request.data


Handler = Callable[[Call], Any]  # returns the response Data (or raises BusinessError)


@dataclass(frozen=True)
class Policy:
    """Which checks the service makes (all of them unless a fault switches one off)."""

    verify_signature: bool = True
    check_token: bool = True
    reject_replay: bool = True
    check_envelope: bool = True
    max_body_bytes: int = 1048576
    error_ret: int | None = None  # answer every refusal with this Ret instead


@dataclass
class EnvelopeService:
    """Envelope pipeline + routing table; knows nothing about HTTP."""

    codec: EnvelopeCodec
    operators: Mapping[str, str]  # OperatorID -> OperatorSecret it may get a token with
    routes: Mapping[str, Handler]
    tokens: TokenStore
    policy: Policy = field(default_factory=Policy)
    log: MessageLog = field(default_factory=MessageLog)
    direction: str = "bench->dut"  # of the requests this service receives
    raw_on_bad_json: bytes | None = None  # a careless platform's HTML error page instead
    _seen: set[tuple[str, str, str]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(self, endpoint: str, headers: Mapping[str, str], body: bytes | None) -> dict | bytes:
        """The response body for one POST (``body`` None: it was over the size limit);
        bytes are sent as they are with HTTP 500 (only with ``raw_on_bad_json``)."""
        if self.raw_on_bad_json is not None and body is not None and not _is_json(body):
            self.log.add(self.direction, "request", endpoint, note="body is not JSON")
            return self.raw_on_bad_json
        try:
            response = self._respond(endpoint, headers, body)
        except EnvelopeError as exc:
            response = self._refusal(exc.ret, exc.reason)
        except BusinessError as exc:
            response = self._refusal(exc.ret, str(exc))
        except Exception as exc:  # a handler bug must still give an answer
            log.exception("%s: handler failed", endpoint)
            response = Response(Ret.SYSTEM, f"{RET_MESSAGES[Ret.SYSTEM]}: {exc}")
        back = "->".join(reversed(self.direction.split("->")))
        self.log.add(back, "response", endpoint, data=response.data, ret=response.ret,
                     note=response.msg)  # fmt: skip
        return self.codec.seal_response(response)

    def _refusal(self, ret: int, reason: str) -> Response:
        ret = self.policy.error_ret if self.policy.error_ret is not None else ret
        return Response(ret, f"{RET_MESSAGES.get(ret, '')}: {reason}")

    def _respond(self, endpoint: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        if body is None:
            self.log.add(self.direction, "request", endpoint, note="oversized body")
            raise EnvelopeError(Ret.POST_PARAMS, "body too large")
        try:
            envelope = json.loads(body.decode("utf-8"))
        except (UnicodeError, ValueError):
            self.log.add(self.direction, "request", endpoint, note="body is not JSON")
            raise EnvelopeError(Ret.POST_PARAMS, "body is not JSON") from None
        request = self._open(envelope)
        self.log.add(self.direction, "request", endpoint, data=request.data)
        handler = self.routes.get(endpoint)
        if handler is None:
            raise EnvelopeError(Ret.POST_PARAMS, f"unknown endpoint {endpoint!r}")
        if endpoint != TOKEN_ENDPOINT and self.policy.check_token:
            problem = self.tokens.problem(bearer(dict(headers)), request.operator_id)
            if problem:
                raise EnvelopeError(Ret.TOKEN, problem)
        data = handler(Call(endpoint, request, time.monotonic()))
        return Response(Ret.OK, RET_MESSAGES[Ret.OK], data)

    def _open(self, envelope: Any) -> Request:
        policy = self.policy
        codec = self.codec if policy.verify_signature else self.codec.with_signer(_AnySig())
        try:
            request = codec.open_request(envelope)
        except EnvelopeError as exc:
            if policy.check_envelope or exc.ret == Ret.SIGNATURE:
                raise
            request = _lenient_request(envelope, self.codec)
        if policy.reject_replay:
            key = (request.operator_id, request.timestamp, request.seq)
            with self._lock:
                if key in self._seen:
                    raise EnvelopeError(Ret.POST_PARAMS, f"replayed Seq {request.seq}")
                self._seen.add(key)
        return request

    def token_handler(self, call: Call) -> dict[str, Any]:
        """``query_token`` (T/CEC 102.4 App. A): SuccStat/FailReason, never a Ret error."""
        data = call.data if isinstance(call.data, dict) else {}
        oid, secret = data.get("OperatorID"), data.get("OperatorSecret")
        if not isinstance(oid, str) or not isinstance(secret, str):
            raise BusinessError("OperatorID and OperatorSecret must be strings")
        fail = 0 if oid in self.operators else 1
        if not fail and self.operators[oid] != secret:
            fail = 2
        if fail or oid != call.request.operator_id:
            fail = fail or 1
            return {"OperatorID": oid, "SuccStat": 1, "AccessToken": "",
                    "TokenAvailableTime": 0, "FailReason": fail}  # fmt: skip
        token = self.tokens.issue(oid)
        return {"OperatorID": oid, "SuccStat": 0, "AccessToken": token.value,
                "TokenAvailableTime": self.tokens.ttl_s, "FailReason": 0}  # fmt: skip


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"))
    except (UnicodeError, ValueError):
        return False
    return True


class _AnySig:
    """A signer that accepts anything (the ``accepts_bad_signature`` fault)."""

    name = "none"

    def sign(self, message: str) -> str:
        return ""

    def verify(self, message: str, signature: str) -> bool:
        return True


def _lenient_request(envelope: Any, codec: EnvelopeCodec) -> Request:
    """What a careless platform makes of a broken envelope: whatever it can read."""
    n = codec.names
    body = envelope if isinstance(envelope, dict) else {}
    data: Any = {}
    with contextlib.suppress(Exception):
        data = json.loads(codec.cipher.decrypt(str(body.get(n.Data, ""))))
    return Request(str(body.get(n.OperatorID, "")), data, str(body.get(n.TimeStamp, "")),
                   str(body.get(n.Seq, "")))  # fmt: skip


class _TlsHttpServer(ThreadingHTTPServer):
    """HTTPS: each connection's handshake runs in its own thread (a stalled or refused
    client holds up nobody); a failed handshake is logged and the connection dropped."""

    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(10.0)
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            log.info("TLS handshake with %s failed: %s", client_address, exc)
            return
        wrapped.settimeout(None)
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with contextlib.suppress(OSError):
                wrapped.shutdown(socket.SHUT_RDWR)
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended badly", client_address, exc_info=True)


class PlatformHttpServer:
    """An :class:`EnvelopeService` on ``host:port`` in a daemon thread; HTTPS (TLS 1.2 or
    later, see :mod:`vgi_bench.platform.tls`) when ``tls`` is given."""

    def __init__(
        self, service: EnvelopeService, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> None:
        self.service = service
        self.tls = tls
        handler = _handler_class(service)
        self._httpd = _TlsHttpServer((host, port), handler)
        self._httpd.tls = tls
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"platform-http-{port}", daemon=True,
        )  # fmt: skip

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def scheme(self) -> str:
        return "http" if self.tls is None else "https"

    def start(self) -> PlatformHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def _handler_class(service: EnvelopeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            endpoint = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length = -1
            if length < 0 or length > HARD_BODY_LIMIT:
                self.close_connection = True
                self.send_error(413)
                return
            body = self._read(length)
            if body is not None and len(body) > service.policy.max_body_bytes:
                body = None
            result = service.handle(endpoint, dict(self.headers), body)
            if isinstance(result, bytes):  # a deliberately broken answer, sent as it is
                answer, status, kind = result, 500, "text/html"
            else:
                answer = json.dumps(result, ensure_ascii=False).encode("utf-8")
                status, kind = 200, "application/json; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def _read(self, length: int) -> bytes | None:
            chunks, left = [], length
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            return b"".join(chunks)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.address_string(), *args)

    return Handler
