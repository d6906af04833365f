"""OCPP security profiles 1-3 on the websocket: HTTP Basic auth, TLS, mutual TLS.

The ``ocpp`` library has no transport security; this sets it up in ``websockets`` and
``ssl`` from the profile's ``[ocpp]`` keys (OCPP 2.0.1 Part 2 A00 / 1.6 Security
Whitepaper): 1 = Basic auth over ws://, 2 = TLS (>= 1.2) server certificate + Basic auth,
3 = TLS with client certificates. ``cert``/``key`` are this side's identity, ``ca_cert``
what it trusts for the peer.

Cases that check the DUT refuses a weak peer make the bench's side weak on purpose:
:meth:`Security.old_tls_only` (TLS 1.0/1.1, which OpenSSL 3 allows only at security level
0), and certificates from :mod:`vgi_bench.ocpp.pki`. ``tls_min`` below 1.2 and
``check_expiry=False`` are also how the faulty reference DUTs model accepting them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ssl
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vgi_bench.profile import OcppConfig

#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME (1.1.0 on): verify a certificate chain without looking
#: at notBefore/notAfter. Python's ``ssl.VerifyFlags`` does not name it; only a faulty
#: reference DUT sets it (``check_expiry=False``).
NO_CHECK_TIME = 0x200000


@dataclass(frozen=True)
class Security:
    """One side's transport security settings."""

    profile: int = 0
    charge_point_id: str = "CP_1"
    password: str | None = None
    ca_cert: str | None = None
    cert: str | None = None
    key: str | None = None
    ca_key: str | None = None  # only for cases that sign a certificate (expired, ...)
    tls_min: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    tls_max: ssl.TLSVersion | None = None  # None: the highest this OpenSSL has
    check_expiry: bool = True

    @classmethod
    def from_config(cls, ocpp: OcppConfig) -> Security:
        return cls(
            ocpp.security_profile, ocpp.charge_point_id or "CP_1", ocpp.password,
            ocpp.ca_cert, ocpp.cert, ocpp.key, ocpp.ca_key,
        )  # fmt: skip

    def with_(self, **changes: Any) -> Security:
        return replace(self, **changes)

    def old_tls_only(self) -> Security:
        """These settings offering nothing but TLS 1.0 and 1.1 (the weak side of a case)."""
        return self.with_(tls_min=ssl.TLSVersion.TLSv1, tls_max=ssl.TLSVersion.TLSv1_1)

    @property
    def scheme(self) -> str:
        return "wss" if self.profile >= 2 else "ws"

    def _versions(self, ctx: ssl.SSLContext) -> ssl.SSLContext:
        """The protocol versions and certificate time check of these settings on ``ctx``."""
        with warnings.catch_warnings():  # ssl warns when TLS 1.0/1.1 are named at all
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = self.tls_min
            if self.tls_max is not None:
                ctx.maximum_version = self.tls_max
        if self.tls_min < ssl.TLSVersion.TLSv1_2:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 disables TLS < 1.2 above level 0
        if not self.check_expiry:
            ctx.verify_flags |= NO_CHECK_TIME
        return ctx

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
        ctx = self._versions(ssl.create_default_context(cafile=self.ca_cert))
        if client_cert and self.profile >= 3 and self.cert and self.key:
            ctx.load_cert_chain(self.cert, self.key)
        return ctx

    # ------------------------------------------------------------------ server side

    def server_ssl(self, *, verify_client: bool = True) -> ssl.SSLContext | None:
        """TLS for the listening side; client certificates required from profile 3 on."""
        if self.profile < 2:
            return None
        ctx = self._versions(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
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


def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> str:
    """The TLS version an in-memory handshake between two contexts agrees on (no sockets);
    raises ``ssl.SSLError`` when either side refuses."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    s_in, c_in = ssl.MemoryBIO(), ssl.MemoryBIO()
    srv = server.wrap_bio(s_in, to_client, server_side=True)
    cli = client.wrap_bio(c_in, to_server, server_hostname="localhost")
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, obj, out, peer_in in (("client", cli, to_server, s_in),
                                        ("server", srv, to_client, c_in)):  # fmt: skip
            if not done[name]:
                try:
                    obj.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
            data = out.read()
            if data:
                peer_in.write(data)
        if all(done.values()):
            break
    if not all(done.values()):
        raise ssl.SSLError("handshake did not complete")
    return str(cli.version())


@functools.cache
def old_tls_unavailable() -> str | None:
    """Why this Python/OpenSSL cannot complete a TLS 1.1 handshake with itself (None: it
    can). A case whose bench side must speak TLS 1.1 skips then, since a DUT that "refused"
    a handshake nobody could have made proves nothing."""
    from vgi_bench.ocpp.pki import make_leaf  # cryptography, only when a case asks

    if not ssl.HAS_TLSv1_1:
        return f"{ssl.OPENSSL_VERSION} was built without TLS 1.1"
    with tempfile.TemporaryDirectory(prefix="vgi-tls-probe-") as tmp:
        leaf = make_leaf(Path(tmp), "probe", "vgi-bench TLS 1.1 probe")
        weak = Security(profile=2, cert=str(leaf.cert), key=str(leaf.key)).old_tls_only()
        try:
            server, client = weak.server_ssl(), weak.client_ssl()
            assert server is not None and client is not None  # profile 2: TLS on both
            client.check_hostname = False
            client.verify_mode = ssl.CERT_NONE
            version = handshake(server, client)
        except (ssl.SSLError, ValueError) as exc:
            return f"{ssl.OPENSSL_VERSION} cannot make a TLS 1.1 handshake here: {exc}"
    if version != "TLSv1.1":
        return f"{ssl.OPENSSL_VERSION}: a TLS 1.1-only handshake negotiated {version}"
    return None
