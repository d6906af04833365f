"""The certificate store of the reference charge points, shared by ``cp16.py`` (the
"Improved security for OCPP 1.6-J" messages) and ``cp201.py`` (OCPP 2.0.1 A02, M03-M05).

:class:`CertificateStore` holds what both keep: the key of the last CSR, the chain that
CertificateSigned brought (the station's own certificate), and the installed CA
certificates reported as RFC 6960 hash data. Each version's message handlers stay thin:
they only name what differs (the root certificateType that anchors the station's chain,
the SecurityEventNotification type, the payload shapes); :class:`CertificateHandlers` holds
the handlers that are the same in both. The cryptography is
:mod:`vgi_bench.ocpp.pki`'s; the faults the store obeys (``csr_wrong_common_name``,
``accepts_foreign_certificate``, ``invalid_certificate_not_reported``,
``wrong_certificate_hash``, ``delete_certificate_ignored``,
``delete_unknown_certificate_accepted``, ``deletes_station_certificate``) keep their names
in each version's catalogue.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from ocpp.routing import after, on

from vgi_bench.ocpp import pki
from vgi_bench.ocpp.csms_handlers import now_iso


def certificate_faults(sign_trigger: str, event_type: str) -> dict[str, str]:
    """The certificate faults :class:`CertificateStore` obeys (but deletes_station_certificate,
    2.0.1 only), described with the version's names: ``sign_trigger``, the trigger that asks
    for a CSR; ``event_type``, the SecurityEventNotification of a refused chain."""
    return {
        "csr_wrong_common_name": "puts its serial number, not its identity, in the CN of the "
        f"CSR it sends for {sign_trigger}",
        "accepts_foreign_certificate": "answers CertificateSigned Accepted for a certificate "
        "that does not carry the key of its CSR",
        "invalid_certificate_not_reported": "rejects an invalid CertificateSigned without a "
        f"SecurityEventNotification {event_type}",
        "wrong_certificate_hash": "reports issuerKeyHash over the issuer's whole "
        "SubjectPublicKeyInfo instead of its key bits (RFC 6960)",
        "delete_certificate_ignored": "answers DeleteCertificate Accepted but keeps the "
        "certificate",
        "delete_unknown_certificate_accepted": "answers DeleteCertificate for a certificate it "
        "does not have with Accepted",
    }


def security_event(event_type: str, tech_info: str) -> dict[str, str]:
    """A SecurityEventNotification payload (the same fields in 1.6 and 2.0.1)."""
    return {"type": event_type, "timestamp": now_iso(), "techInfo": tech_info}


def wanted_hash_data(certificate_hash_data: dict[str, Any]) -> dict[str, str]:
    """The CertificateHashData of a DeleteCertificate CALL (snake_case, as the ocpp library
    hands it over) with the wire's camelCase names, as :mod:`vgi_bench.ocpp.pki` compares them."""
    return {
        "hashAlgorithm": certificate_hash_data["hash_algorithm"],
        "issuerNameHash": certificate_hash_data["issuer_name_hash"],
        "issuerKeyHash": certificate_hash_data["issuer_key_hash"],
        "serialNumber": certificate_hash_data["serial_number"],
    }


def signature_verifies(public_key: Any, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s SHA-256 signature of ``data`` (ECDSA, or
    RSA PKCS#1 v1.5)."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def firmware_signature_ok(image: bytes, firmware: dict[str, Any]) -> bool:
    """Whether firmware.signature (base64) verifies over ``image`` with the key of
    firmware.signingCertificate (PEM); the certificate's own trust is not checked."""
    try:
        cert = x509.load_pem_x509_certificate(firmware["signing_certificate"].encode())
        signature = base64.b64decode(firmware["signature"], validate=True)
    except (KeyError, ValueError):
        return False
    return signature_verifies(cert.public_key(), signature, image)


class CertificateStore:
    """A charge point's certificates and CSR key, with its certificate faults.

    ``root_type``: the installed certificateType whose certificates (with the profile's
    ``ca_cert``) a CertificateSigned chain must end at. ``keeps_own``: DeleteCertificate of
    the station's own certificate is answered Failed (2.0.1 M04.FR.06) rather than looked
    for among the installed CA certificates.
    """

    def __init__(
        self, has: Callable[[str], bool], *, root_type: str, ca_cert: str | None = None,
        keeps_own: bool = False,
    ) -> None:  # fmt: skip
        self.has = has
        self.root_type = root_type
        self.ca_cert = ca_cert
        self.keeps_own = keeps_own
        #: Installed CA certificates: (certificateType, certificate).
        self.installed: list[tuple[str, x509.Certificate]] = []
        #: The key of the last CSR and the chain that CertificateSigned brought.
        self.pending_key: Any = None
        self.own_chain: str | None = None
        self.rejected = False

    # ------------------------------------------------------------------ CSR, CertificateSigned

    def new_csr(self, identity: str, serial: str, organization: str) -> str:
        """A new key pair and its PEM CSR: CN ``identity`` (``serial`` with the fault
        csr_wrong_common_name), O ``organization``."""
        self.pending_key = pki.new_key()
        cn = serial if self.has("csr_wrong_common_name") else identity
        return pki.make_csr(self.pending_key, cn, organization)

    def anchors(self) -> list[x509.Certificate]:
        """The CAs a chain for this station must end at: its profile's ca_cert and the
        installed ``root_type`` certificates (none: the chain is only checked in itself)."""
        anchors = [c for t, c in self.installed if t == self.root_type]
        if self.ca_cert:
            anchors.append(x509.load_pem_x509_certificate(Path(self.ca_cert).read_bytes()))
        return anchors

    def chain_problem(self, chain_pem: str) -> str | None:
        """Why a CertificateSigned chain is no good for this station, or None."""
        if self.pending_key is None:
            return "no CSR is pending"
        try:
            chain = pki.load_chain(chain_pem)
        except ValueError as exc:
            return str(exc)
        if not pki.same_key(chain[0].public_key(), self.pending_key.public_key()):
            if not self.has("accepts_foreign_certificate"):
                return "the certificate is not for the key of the CSR"
        anchors = self.anchors()
        if not anchors:
            return pki.chain_problem(chain)
        problems = [pki.chain_problem(chain, anchor) for anchor in anchors]
        return None if None in problems else problems[0]

    def certificate_signed(self, chain_pem: str) -> str | None:
        """CertificateSigned: why the chain is refused, or None when it is taken (used
        from the next connection on; the CSR is no longer pending)."""
        problem = self.chain_problem(chain_pem)
        self.rejected = problem is not None
        if problem is None:
            self.own_chain = chain_pem
            self.pending_key = None
        return problem

    def rejection_event(self, event_type: str) -> dict[str, str] | None:
        """The SecurityEventNotification ``event_type`` that reports the last CertificateSigned
        refused (None: it was taken, or the fault invalid_certificate_not_reported)."""
        if not self.rejected or self.has("invalid_certificate_not_reported"):
            return None
        return security_event(event_type, "CertificateSigned chain refused")

    # ------------------------------------------------------------------ installed CA certificates

    def install(
        self, certificate_type: str, certificate: str, max_length: int | None = None
    ) -> str:
        """InstallCertificate's status: Rejected (not a certificate), Failed (the store
        already holds ``max_length`` others), else Accepted (replacing the same one)."""
        try:
            cert = x509.load_pem_x509_certificate(certificate.encode())
        except ValueError:
            return "Rejected"
        self.installed = [(t, c) for t, c in self.installed if c != cert]
        if max_length is not None and len(self.installed) >= max_length:
            return "Failed"
        self.installed.append((certificate_type, cert))
        return "Accepted"

    def hash_data(self, cert: x509.Certificate, algorithm: str = "SHA256") -> dict[str, str]:
        """The CertificateHashData of an installed (root) certificate; the fault
        wrong_certificate_hash hashes the whole SubjectPublicKeyInfo for issuerKeyHash."""
        data = pki.certificate_hash_data(cert, algorithm=algorithm)
        if self.has("wrong_certificate_hash"):
            spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            data["issuerKeyHash"] = hashlib.new(algorithm.lower(), spki).hexdigest()
        return data

    def installed_ids(self, types: Collection[str] | None) -> list[tuple[str, dict[str, str]]]:
        """(certificateType, hash data) of the installed certificates of ``types`` (all
        when ``types`` is empty or None)."""
        return [(t, self.hash_data(c)) for t, c in self.installed if not types or t in types]

    def is_own(self, wanted: dict[str, str]) -> bool:
        """Whether ``wanted`` names the leaf of the station's own certificate (its issuer:
        the next certificate of the chain CertificateSigned brought)."""
        if self.own_chain is None:
            return False
        chain = pki.load_chain(self.own_chain)
        issuer = chain[1] if len(chain) > 1 else None
        data = pki.certificate_hash_data(chain[0], issuer, wanted["hashAlgorithm"])
        return pki.same_hash_data(data, wanted)

    def delete(self, certificate_hash_data: dict[str, Any]) -> str:
        """DeleteCertificate's status for the CALL's (snake_case) certificateHashData:
        Failed for the station's own certificate (``keeps_own``), Accepted when an
        installed certificate matches, else NotFound."""
        wanted = wanted_hash_data(certificate_hash_data)
        if self.keeps_own and self.is_own(wanted):
            if self.has("deletes_station_certificate"):
                self.own_chain = None
                return "Accepted"
            return "Failed"
        for entry in self.installed:
            if pki.same_hash_data(self.hash_data(entry[1], wanted["hashAlgorithm"]), wanted):
                if not self.has("delete_certificate_ignored"):
                    self.installed.remove(entry)
                return "Accepted"
        return "Accepted" if self.has("delete_unknown_certificate_accepted") else "NotFound"


class CertificateHandlers:
    """The certificate messages handled alike in 1.6 and 2.0.1, mixed into each reference
    charge point (which sets ``certs`` and names its :attr:`CERTIFICATE_EVENT`): the report
    of a refused CertificateSigned, and DeleteCertificate."""

    #: The SecurityEventNotification type of a refused CertificateSigned chain.
    CERTIFICATE_EVENT: ClassVar[str]
    certs: CertificateStore

    if TYPE_CHECKING:  # provided by the charge point class this is mixed into

        async def call(self, action: str, payload: dict[str, Any], **kw: Any) -> Any: ...

    @after("CertificateSigned")
    async def after_certificate_signed(self, **_: Any) -> None:
        event = self.certs.rejection_event(self.CERTIFICATE_EVENT)
        if event is not None:
            await self.call("SecurityEventNotification", event)

    @on("DeleteCertificate")
    async def on_delete_certificate(self, certificate_hash_data: dict, **_: Any) -> dict:
        return {"status": self.certs.delete(certificate_hash_data)}
