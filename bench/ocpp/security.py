"""OCPP security profiles 1-3 on the websocket: HTTP Basic auth, TLS, mutual TLS.

The ``ocpp`` library has no transport security; this sets it up in ``websockets`` and
``ssl`` from the profile's ``[ocpp]`` keys (OCPP 2.0.1 Part 2 A00 / 1.6 Security
Whitepaper): 1 = Basic auth over ws://, 2 = TLS (>= 1.2) server certificate + Basic auth,
3 = TLS with client certificates. ``cert``/``key`` are this side's identity, ``ca_cert``
what it trusts for the peer.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from dataclasses import dataclass, replace

from bench.profile import OcppConfig


@dataclass(frozen=True)
class Security:
    """One side's transport security settings."""

    profile: int = 0
    charge_point_id: str = "CP_1"
    password: str | None = None
    ca_cert: str | None = None
    cert: str | None = None
    key: str | None = None

    @classmethod
    def from_config(cls, ocpp: OcppConfig) -> Security:
        return cls(
            ocpp.security_profile, ocpp.charge_point_id or "CP_1", ocpp.password,
            ocpp.ca_cert, ocpp.cert, ocpp.key,
        )  # fmt: skip

    def with_(self, **changes: object) -> Security:
        return replace(self, **changes)

    @property
    def scheme(self) -> str:
        return "wss" if self.profile >= 2 else "ws"

    # ------------------------------------------------------------------ client side

    def auth_headers(self) -> dict[str, str]:
        """``Authorization: Basic base64(<id>:<password>)`` for profiles 1 and 2."""
        if self.profile not in (1, 2) or self.password is None:
            return {}
        token = base64.b64encode(f"{self.charge_point_id}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def client_ssl(self, *, client_cert: bool = True) -> ssl.SSLContext | None:
        """TLS for wss:// (profiles 2, 3); the client certificate from profile 3 on."""
        if self.profile < 2:
            return None
        ctx = ssl.create_default_context(cafile=self.ca_cert)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if client_cert and self.profile >= 3 and self.cert and self.key:
            ctx.load_cert_chain(self.cert, self.key)
        return ctx

    # ------------------------------------------------------------------ server side

    def server_ssl(self, *, verify_client: bool = True) -> ssl.SSLContext | None:
        """TLS for the listening side; client certificates required from profile 3 on."""
        if self.profile < 2:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert and self.key:
            ctx.load_cert_chain(self.cert, self.key)
        if self.profile >= 3 and verify_client:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca_cert)
        return ctx

    def check_basic_auth(self, header: str | None, charge_point_id: str) -> str | None:
        """Why a connection's Authorization header is refused (None: accepted)."""
        if self.profile not in (1, 2):
            return None
        user, password = parse_basic_auth(header)
        if user is None:
            return "no HTTP Basic Authorization header"
        if user != charge_point_id:
            return f"username {user!r} is not the charge point id {charge_point_id!r}"
        if password != self.password:
            return "wrong password"
        return None


def parse_basic_auth(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header.split(None, 1)[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, IndexError):
        return None, None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else (None, None)
