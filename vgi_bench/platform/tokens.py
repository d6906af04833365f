"""Access tokens of ``query_token`` (T/CEC 102.4 App. A): issued, checked, expired."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Token:
    """A token as the caller holds it: the value and when it stops being good."""

    value: str
    operator_id: str
    expires_at: float  # time.monotonic()

    def remaining(self, now: float | None = None) -> float:
        return self.expires_at - (time.monotonic() if now is None else now)


@dataclass
class TokenStore:
    """The server side: tokens it issued, per operator, with their lifetime."""

    ttl_s: int
    expire: bool = True  # False: tokens never expire (a fault of the reference)
    bind_operator: bool = True  # False: any operator may use any token (a fault)
    clock: Callable[[], float] = time.monotonic
    _tokens: dict[str, Token] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def issue(self, operator_id: str) -> Token:
        token = Token(secrets.token_hex(16), operator_id, self.clock() + self.ttl_s)
        with self._lock:
            self._tokens[token.value] = token
        return token

    def problem(self, value: str | None, operator_id: str) -> str | None:
        """Why ``value`` is not a good token for ``operator_id`` now (``None``: it is)."""
        if not value:
            return "no Bearer token"
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            return "unknown token"
        if self.bind_operator and token.operator_id != operator_id:
            return f"token of {token.operator_id}, not {operator_id}"
        if self.expire and token.remaining(self.clock()) <= 0:
            return "token expired"
        return None


def bearer(headers: dict[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header (case-insensitive)."""
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme, _, rest = value.strip().partition(" ")
            return rest.strip() if scheme.lower() == "bearer" and rest.strip() else None
    return None
