"""The reference CSMS's certificate authority: it signs a station's CSR (A02/A03) and
sends the chain in a CertificateSigned on the same connection.

It signs with the profile's CA (``ca_cert`` and its key, ``[ocpp] ca_key`` or ``ca.key``
beside it); a profile without them gets a throwaway CA made on first use (the
``VGI_A_02_CSMS`` case then checks the chain only in itself, since the profile names no
CA to check it against). Its faults, :data:`CERTIFICATE_FAULTS`, are part of
:data:`vgi_bench.reference.ocpp.csms_ref.CSMS_FAULTS`, for 2.0.1 and for 1.6 (the security
whitepaper's SignCertificate / CertificateSigned carry the same CSR and chain, without
certificateType).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509
from ocpp.routing import after, on
from ocpp.v201.enums import Action

from vgi_bench.ocpp.pki import Issued, load_chain, load_csr, make_ca, new_key, pem, sign_csr
from vgi_bench.ocpp.security import Security
from vgi_bench.ocpp.session import OcppSession

log = logging.getLogger(__name__)

CERTIFICATE_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "signs_wrong_key": "answers a CSR with a certificate for another public key",
        "unverifiable_chain": "sends a CertificateSigned chain whose leaf its CA did not sign",
        "no_certificate_signed": "answers SignCertificate Accepted but never sends "
        "CertificateSigned",
    }
)


class CertificateAuthority:
    """The CA the reference CSMS signs with (see the module's text)."""

    def __init__(self, security: Security) -> None:
        self.security = security
        self._ca: Issued | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def ca(self) -> Issued:
        if self._ca is None:
            ca_cert, ca_key = self.security.ca_cert, self.security.ca_key
            key = Path(ca_key) if ca_key else Path(ca_cert).with_suffix(".key") if ca_cert else None
            if ca_cert and key is not None and key.is_file():
                self._ca = Issued(Path(ca_cert), key)
            else:
                self._tmp = tempfile.TemporaryDirectory(prefix="vgi-ref-csms-ca-")
                self._ca = make_ca(Path(self._tmp.name), "vgi-bench reference CSMS CA")
        return self._ca

    def other(self) -> Issued:
        """A CA nobody trusts (the ``unverifiable_chain`` fault signs with it)."""
        directory = tempfile.mkdtemp(prefix="vgi-ref-csms-rogue-")
        return make_ca(Path(directory), "vgi-bench rogue CA")


class CertificateSigning:
    """Mixin of the reference CSMS's handlers (2.0.1 and 1.6; both name the action
    SignCertificate, the routes match by name): SignCertificate answered Accepted for
    a CSR that verifies, then CertificateSigned (leaf, then the CA) on that connection.
    ``has`` (the faults) comes from the class it is mixed into."""

    authority: CertificateAuthority | None = None
    server: Any = None  # the BenchCsms whose sessions these handlers serve
    _csr: x509.CertificateSigningRequest | None = None
    faults: frozenset[str]  # declared only: the class mixed into provides them and ``has``
    has: Callable[[str], bool]

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr: str, **_: Any) -> dict[str, Any]:
        try:
            self._csr = load_csr(csr)
        except ValueError:
            self._csr = None
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    @after(Action.sign_certificate)
    async def after_sign_certificate(self, certificate_type: str | None = None, **_: Any) -> None:
        csr, session = self._csr, self._session()
        if csr is None or session is None or self.authority is None:
            return
        if self.has("no_certificate_signed"):
            return
        ca = self.authority.ca
        if self.has("unverifiable_chain"):
            leaf = load_chain(sign_csr(csr, self.authority.other()))[0]
            chain = pem(leaf) + ca.cert.read_text()
        else:
            key = new_key().public_key() if self.has("signs_wrong_key") else None
            chain = sign_csr(csr, ca, public_key=key)
        payload = {"certificateChain": chain}
        if certificate_type:
            payload["certificateType"] = certificate_type
        try:
            await session.call("CertificateSigned", payload)
        except ConnectionError as exc:
            log.debug("CertificateSigned not sent: %s", exc)

    def _session(self) -> OcppSession | None:
        """The open connection these handlers answer on."""
        for session in reversed(getattr(self.server, "sessions", [])):
            routes = getattr(session.handler, "routes", {})
            handler = routes.get("SignCertificate", {}).get("_on_action")
            if getattr(handler, "__self__", None) is self and not session.closed.is_set():
                return session
        return None
