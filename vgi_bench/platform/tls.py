"""TLS of a platform link: HTTPS on both sides, TLS 1.2 or later.

The bench as caller trusts ``[platform] ca_cert`` for an ``https://`` url (the system's
trust store when it is absent); the bench as server answers with ``cert``/``key`` on
``listen`` when both are set (then the DUT's pushes come over HTTPS). A handshake that
fails is reported as a problem of the exchange, naming the TLS reason, never raised.
"""

from __future__ import annotations

import ssl

from vgi_bench.profile import PlatformConfig

MINIMUM_VERSION = ssl.TLSVersion.TLSv1_2


class TlsSetupError(ValueError):
    """The profile's certificate files cannot be used (one line naming the key)."""


def client_context(ca_cert: str | None) -> ssl.SSLContext:
    """Verifies the server's certificate and host name against ``ca_cert``."""
    try:
        ctx = ssl.create_default_context(cafile=ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"[platform] ca_cert {ca_cert!r}: {exc}") from None
    ctx.minimum_version = MINIMUM_VERSION
    return ctx


def server_context(cert: str, key: str) -> ssl.SSLContext:
    """Serves ``cert`` with ``key``; clients are not asked for a certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = MINIMUM_VERSION
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsSetupError(f"[platform] cert {cert!r} / key {key!r}: {exc}") from None
    return ctx


def serves_tls(config: PlatformConfig) -> bool:
    """Whether the bench's server at ``listen`` speaks HTTPS (``cert`` and ``key`` set)."""
    return bool(config.cert and config.key)


def bench_server_context(config: PlatformConfig) -> ssl.SSLContext | None:
    """The bench's server identity at ``listen``, or None for plain HTTP."""
    if not serves_tls(config):
        if config.cert or config.key:
            raise TlsSetupError("[platform] cert and key go together")
        return None
    return server_context(str(config.cert), str(config.key))


def caller_context(config: PlatformConfig, url: str) -> ssl.SSLContext | None:
    """What a caller of ``url`` trusts: ``ca_cert`` for https, nothing for http."""
    return client_context(config.ca_cert) if url.lower().startswith("https:") else None


def describe(exc: BaseException) -> str:
    """A TLS failure in words: 'TLS handshake failed: certificate verify failed: ...'."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS handshake failed: certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed: {exc.reason or exc}"
    return f"{type(exc).__name__}: {exc}"
