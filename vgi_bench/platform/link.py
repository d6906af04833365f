"""One side of a platform link, built from the profile's ``[platform]`` section."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from vgi_bench.platform.client import TOKEN_ENDPOINT, PlatformClient
from vgi_bench.platform.envelope import EnvelopeCodec, SeqCounter
from vgi_bench.platform.log import MessageLog
from vgi_bench.platform.server import Call, EnvelopeService, PlatformHttpServer, Policy
from vgi_bench.platform.tls import TlsSetupError, bench_server_context, caller_context, serves_tls
from vgi_bench.platform.tokens import TokenStore
from vgi_bench.profile import PlatformConfig


class LinkSetupError(ValueError):
    """The profile lacks what a link needs (one line naming the key)."""


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def url_address(url: str) -> tuple[str, int, str]:
    """Host, port and path prefix of a platform URL."""
    parts = urllib.parse.urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.hostname or "127.0.0.1", parts.port or default, parts.path or "/"


def partner_url(config: PlatformConfig, prefix: str = "/") -> str:
    """Where the DUT reaches the bench's server: ``listen`` + ``prefix``, https when the
    bench serves TLS (``cert``/``key``)."""
    scheme = "https" if serves_tls(config) else "http"
    return f"{scheme}://{config.listen}{prefix}"


def bench_server(
    config: PlatformConfig, service: EnvelopeService, host: str, port: int
) -> PlatformHttpServer:
    """The bench's own server at ``host:port``, with TLS when the profile gives cert/key."""
    try:
        context = bench_server_context(config)
    except TlsSetupError as exc:
        raise LinkSetupError(str(exc)) from None
    return PlatformHttpServer(service, host, port, tls=context)


def dut_server(
    config: PlatformConfig, service: EnvelopeService, host: str, port: int, https: bool
) -> PlatformHttpServer:
    """A simulated DUT's server; for an https url it presents the profile's ``cert``/``key``
    (the lab's own PKI: the reference platforms share the bench's identity)."""
    context = None
    if https:
        if not serves_tls(config):
            raise LinkSetupError(
                "[platform] url is https: the simulated platform needs cert and key"
            )
        try:
            context = bench_server_context(config)
        except TlsSetupError as exc:
            raise LinkSetupError(str(exc)) from None
    return PlatformHttpServer(service, host, port, tls=context)


def is_https(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith("https:")


def dut_placement(config: PlatformConfig) -> tuple[str, int, str | None, bool]:
    """Where a simulated DUT serves (``url``: host, port), where it pushes (the bench's
    ``listen`` under the same path prefix, or None) and whether it serves HTTPS."""
    host, port, prefix = url_address(config.url or "")
    partner = partner_url(config, prefix) if config.listen else None
    return host, port, partner, is_https(config.url)


def codec_for(config: PlatformConfig) -> EnvelopeCodec:
    try:
        return EnvelopeCodec.from_config(config)
    except ValueError as exc:
        raise LinkSetupError(str(exc)) from None


def _identity(config: PlatformConfig, peer: bool = False) -> tuple[str, str]:
    """The bench's operator identity, or (``peer``) the DUT's when it calls the bench."""
    if not config.operator_id or config.operator_secret is None:
        raise LinkSetupError("[platform] needs operator_id and operator_secret")
    if peer and config.peer_operator_id:
        return config.peer_operator_id, config.peer_operator_secret or config.operator_secret
    return config.operator_id, config.operator_secret


def client_for(
    config: PlatformConfig,
    url: str,
    *,
    log: MessageLog | None = None,
    seq: SeqCounter | None = None,
    direction: str = "bench->dut",
) -> PlatformClient:
    """A client calling ``url`` as the profile's operator (as the DUT for ``dut->bench``)."""
    operator_id, secret = _identity(config, peer=direction == "dut->bench")
    try:
        context = caller_context(config, url)
    except TlsSetupError as exc:
        raise LinkSetupError(str(exc)) from None
    return PlatformClient(
        url, codec_for(config), operator_id, secret, timeout_s=config.timeout_s,
        log=log or MessageLog(), direction=direction, seq=seq or SeqCounter(),
        ssl_context=context,
    )  # fmt: skip


def service_for(
    config: PlatformConfig,
    routes: Mapping[str, Callable[[Call], Any]],
    *,
    policy: Policy | None = None,
    tokens: TokenStore | None = None,
    log: MessageLog | None = None,
    direction: str = "bench->dut",
) -> EnvelopeService:
    """A service that grants tokens to the caller (the bench's operator, or for
    ``dut->bench`` the DUT's) and serves ``routes``."""
    operator_id, secret = _identity(config, peer=direction == "dut->bench")
    service = EnvelopeService(
        codec_for(config), {operator_id: secret}, dict(routes),
        tokens or TokenStore(config.token_ttl_s),
        policy or Policy(max_body_bytes=config.max_body_bytes),
        log or MessageLog(), direction,
    )  # fmt: skip
    service.routes = {TOKEN_ENDPOINT: service.token_handler, **service.routes}
    return service
