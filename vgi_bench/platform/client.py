"""The calling side of a platform link: sealed POSTs, the token flow, raw sends.

``http.client`` from the standard library, one connection per exchange: a conformance
bench must be able to send what no well-behaved client library would (malformed JSON,
wrong types, oversized bodies) and must turn whatever comes back -- garbage, a dropped
connection, a bad signature -- into an :class:`Exchange` with a ``problem``, never an
exception.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from vgi_bench.platform.envelope import (
    EnvelopeCodec,
    EnvelopeError,
    Request,
    Response,
    SeqCounter,
    timestamp_now,
)
from vgi_bench.platform.log import MessageLog, masked
from vgi_bench.platform.ret import Ret, ret_name
from vgi_bench.platform.tls import describe
from vgi_bench.platform.tokens import Token

TOKEN_ENDPOINT = "query_token"
#: A token is fetched again this long before it runs out.
TOKEN_MARGIN_S = 0.5
#: Answers beyond this are cut off and reported, not read into memory whole.
MAX_ANSWER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Exchange:
    """One request and what came back of it."""

    endpoint: str
    sent: Any  # the plaintext payload, or a description of what was sent raw
    status: int | None
    body: bytes
    response: Response | None
    problem: str  # why no sound response came back ('' if one did)
    elapsed_ms: float

    @property
    def ret(self) -> int | None:
        return None if self.response is None else self.response.ret

    @property
    def data(self) -> Any:
        return None if self.response is None else self.response.data

    def seen(self) -> str:
        """What the DUT answered, for a failure message."""
        if self.response is None:
            return f"{self.endpoint}: {self.problem}"
        data = json.dumps(self.response.data, ensure_ascii=False)
        data = data if len(data) <= 300 else data[:300] + "..."
        return f"{self.endpoint}: Ret {ret_name(self.response.ret)}, Data {data}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "sent": masked(self.sent),
            "http_status": self.status,
            "ret": self.ret,
            "problem": self.problem,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


@dataclass
class PlatformClient:
    """Calls one platform: ``base_url`` + endpoint, sealed with ``codec``."""

    base_url: str
    codec: EnvelopeCodec
    operator_id: str
    operator_secret: str
    timeout_s: float = 10.0
    log: MessageLog = field(default_factory=MessageLog)
    direction: str = "bench->dut"
    token: Token | None = None
    seq: SeqCounter = field(default_factory=SeqCounter)
    #: On Ret 4002 fetch a new token and call once more (what deployed clients do). Off for
    #: the bench's own calls: a case sends exactly what it means to.
    refresh_on_token_error: bool = False
    #: What an https:// ``base_url`` is verified against (None: the system's trust store).
    ssl_context: ssl.SSLContext | None = None
    #: The last ``query_token`` exchange (why there is no token, when there is none).
    token_exchange: Exchange | None = None

    # ---------------------------------------------------------------- envelopes

    def envelope(
        self,
        data: Any,
        *,
        operator_id: str | None = None,
        timestamp: str | None = None,
        seq: str | None = None,
        codec: EnvelopeCodec | None = None,
    ) -> dict[str, str]:
        """A sealed request body (cases tamper with it before :meth:`post`)."""
        ts = timestamp or timestamp_now()
        request = Request(operator_id or self.operator_id, data, ts, seq or self.seq.next(ts))
        return (codec or self.codec).seal_request(request)

    def headers(self, token: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    # ---------------------------------------------------------------- sending

    def call(self, endpoint: str, data: Any, *, auth: bool = True) -> Exchange:
        """Seal ``data``, POST it (with the current token) and open the answer."""
        token = self.current_token() if auth else None
        if auth and token is None:
            why = "" if self.token_exchange is None else f": {self.token_exchange.seen()}"
            problem = f"no token (query_token failed{why})"
            return Exchange(endpoint, data, None, b"", None, problem, 0.0)
        exchange = self.post(endpoint, self.envelope(data), token=token, sent=data)
        if auth and self.refresh_on_token_error and exchange.ret == Ret.TOKEN:
            self.token = None
            token = self.current_token()
            if token is not None:
                exchange = self.post(endpoint, self.envelope(data), token=token, sent=data)
        return exchange

    def post(
        self,
        endpoint: str,
        body: Any,
        *,
        token: str | None = None,
        sent: Any = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Exchange:
        """POST ``body`` (JSON) or ``raw`` bytes as they are; never raises on DUT behaviour."""
        payload = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        described = sent if sent is not None else body
        self.log.add(self.direction, "request", endpoint, data=_short(described))
        started = time.monotonic()
        status, answer, problem = self._send(endpoint, payload, headers or self.headers(token))
        elapsed = (time.monotonic() - started) * 1000.0
        response = None
        if not problem:
            response, problem = self._open(answer)
        self.log.add(
            _reverse(self.direction), "response", endpoint,
            data=None if response is None else response.data,
            ret=None if response is None else response.ret, note=problem,
        )  # fmt: skip
        return Exchange(endpoint, described, status, answer, response, problem, elapsed)

    def _send(
        self, endpoint: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[int | None, bytes, str]:
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        url = urllib.parse.urljoin(base, endpoint)
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or "127.0.0.1"
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            context = self.ssl_context or ssl.create_default_context()
            conn = http.client.HTTPSConnection(
                host, parts.port, timeout=self.timeout_s, context=context
            )
        else:
            conn = http.client.HTTPConnection(host, parts.port, timeout=self.timeout_s)
        try:
            conn.request("POST", parts.path or "/", body=payload, headers=headers)
            reply = conn.getresponse()
            answer = reply.read(MAX_ANSWER_BYTES + 1)
            if len(answer) > MAX_ANSWER_BYTES:
                return reply.status, b"", f"answer larger than {MAX_ANSWER_BYTES} bytes"
            return reply.status, answer, ""
        except ssl.SSLError as exc:
            return None, b"", f"no answer ({describe(exc)})"
        except (OSError, http.client.HTTPException) as exc:
            return None, b"", f"no answer ({type(exc).__name__}: {exc})"
        finally:
            conn.close()

    def _open(self, answer: bytes) -> tuple[Response | None, str]:
        try:
            body = json.loads(answer.decode("utf-8"))
        except (UnicodeError, ValueError):
            return None, f"answer is not JSON: {answer[:80]!r}"
        try:
            return self.codec.open_response(body), ""
        except EnvelopeError as exc:
            return None, f"unsound answer: {exc.reason}"

    # ---------------------------------------------------------------- tokens

    def query_token(
        self, operator_id: str | None = None, operator_secret: str | None = None
    ) -> Exchange:
        """``query_token``; a granted token becomes the current one."""
        oid = operator_id or self.operator_id
        data = {"OperatorID": oid, "OperatorSecret": operator_secret or self.operator_secret}
        exchange = self.post(TOKEN_ENDPOINT, self.envelope(data, operator_id=oid), sent=data)
        token = granted_token(exchange)
        if operator_id is None and operator_secret is None:
            self.token_exchange = exchange
            if token is not None:
                self.token = token
        return exchange

    def current_token(self) -> str | None:
        """The token to send: fetched again when there is none or it is about to run out."""
        if self.token is None or self.token.remaining() < TOKEN_MARGIN_S:
            self.query_token()
        return None if self.token is None else self.token.value


def granted_token(exchange: Exchange) -> Token | None:
    """The token a ``query_token`` answer grants, if it grants one."""
    data = exchange.data
    if exchange.ret != 0 or not isinstance(data, dict) or data.get("SuccStat") != 0:
        return None
    value, ttl = data.get("AccessToken"), data.get("TokenAvailableTime")
    if not isinstance(value, str) or not value or isinstance(ttl, bool):
        return None
    if not isinstance(ttl, int) or ttl <= 0:
        return None
    return Token(value, str(data.get("OperatorID", "")), time.monotonic() + ttl)


def _reverse(direction: str) -> str:
    a, _, b = direction.partition("->")
    return f"{b}->{a}"


def _short(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= 2000 else text[:2000] + "..."
