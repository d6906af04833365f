"""Throwaway X.509 material for TLS cases: a CA and leaf certificates (``cryptography``).

Used where a case needs a certificate the DUT must refuse (one no trusted CA signed, or one
the right CA signed that has expired), and by the bench's own tests to run security
profiles 2 and 3 without a real PKI. Also what the certificate messages of OCPP 2.0.1
need: CSRs and signing them (A02/A03, SignCertificate / CertificateSigned), checking a
chain, and the CertificateHashData of a certificate (M03/M04, RFC 6960 CertID).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """PEM files of one certificate and its key."""

    cert: Path
    key: Path


def _name(common_name: str, org: str = "vgi-bench test") -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, common_name),
         x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
    )  # fmt: skip


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )  # fmt: skip
    return Issued(cert_path, key_path)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key, *, expired: bool = False
) -> x509.CertificateBuilder:
    """Valid from 5 minutes ago for 2 days; ``expired``: valid 30 days ago, expired a day ago."""
    now = datetime.datetime.now(datetime.timezone.utc)
    if expired:
        start, end = now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)
    else:
        start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )


def make_ca(directory: Path, name: str = "vgi-bench test CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(name), _name(name), key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _write(directory, "ca", cert, key)


def make_leaf(
    directory: Path, stem: str, common_name: str, ca: Issued | None = None,
    *, expired: bool = False,
) -> Issued:  # fmt: skip
    """A certificate for 127.0.0.1/localhost usable as TLS server and client; self-signed
    when ``ca`` is None (a certificate nobody trusts); ``expired``: its validity ended a
    day ago (signed by ``ca`` all the same)."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer: CertificateIssuerPrivateKeyTypes
    if ca is None:
        issuer, signer = _name(common_name), key
    else:
        ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
        issuer = ca_cert.subject
        signer = _issuer_key(ca)
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    usage = x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    cert = (
        _builder(_name(common_name), issuer, key.public_key(), expired=expired)
        .add_extension(san, critical=False)
        .add_extension(usage, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    return _write(directory, stem, cert, key)


def issuing_ca(
    cert: str | Path | None, ca_cert: str | Path | None, ca_key: str | Path | None = None
) -> Issued:
    """The CA of ``ca_cert`` with its private key, when it issued ``cert``: what the bench
    needs to sign another certificate the DUT trusts as much as ``cert``.

    The key is ``ca_key`` (``[ocpp] ca_key``), else looked for next to ``ca_cert`` with the
    suffix ``.key`` (``make_ca``'s layout: ``ca.pem`` and ``ca.key``). Raises
    ``LookupError`` saying what is missing.
    """
    if not cert or not ca_cert:
        raise LookupError("needs [ocpp] cert and ca_cert")
    ca = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    own = x509.load_pem_x509_certificate(Path(cert).read_bytes())
    try:
        own.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise LookupError(f"ca_cert {ca_cert} did not issue the bench's cert {cert}") from exc
    key_path = Path(ca_key) if ca_key else Path(ca_cert).with_suffix(".key")
    if not key_path.is_file():
        raise LookupError(f"needs the private key of ca_cert ([ocpp] ca_key, or {key_path}) "
                          "to sign a certificate")  # fmt: skip
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if key.public_key().public_bytes(*_SPKI) != ca.public_key().public_bytes(*_SPKI):
        raise LookupError(f"{key_path} is not the private key of ca_cert {ca_cert}")
    return Issued(Path(ca_cert), key_path)


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
_ISSUER_KEYS = (
    rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, dsa.DSAPrivateKey,
    ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey,
)  # fmt: skip


# ---------------------------------------------------------------------- CSRs (A02, A03)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key pair (A02/A03: the station makes a new one for each CSR)."""
    return ec.generate_private_key(ec.SECP256R1())


def make_csr(key: ec.EllipticCurvePrivateKey, common_name: str, organization: str) -> str:
    """A PEM PKCS#10 certificate signing request (RFC 2986) for ``key``, subject CN/O."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(common_name, organization))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def load_csr(pem: str) -> x509.CertificateSigningRequest:
    """The CSR in ``pem``; ``ValueError`` saying why when it is not one or its own
    signature (proof of possession of the key) does not verify."""
    try:
        csr = x509.load_pem_x509_csr(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM certificate signing request ({exc})") from exc
    if not csr.is_signature_valid:
        raise ValueError("its signature does not verify with its own public key")
    return csr


def subject_attr(name: x509.Name, oid: x509.ObjectIdentifier = NameOID.COMMON_NAME) -> str | None:
    """The first ``oid`` attribute (CN by default) of ``name``; None when it has none."""
    attrs = name.get_attributes_for_oid(oid)
    return str(attrs[0].value) if attrs else None


def _issuer_key(ca: Issued) -> CertificateIssuerPrivateKeyTypes:
    """``ca``'s private key; ValueError for a key type that cannot sign certificates."""
    key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    if not isinstance(key, _ISSUER_KEYS):
        raise ValueError(f"{ca.key}: a {type(key).__name__} cannot sign certificates")
    return key


def load_ca(ca: Issued) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
    return x509.load_pem_x509_certificate(ca.cert.read_bytes()), _issuer_key(ca)


def sign_csr(
    csr: x509.CertificateSigningRequest, ca: Issued, *, public_key=None, subject=None
) -> str:
    """The certificate chain (PEM: the leaf, then ``ca``'s certificate) that ``ca`` issues
    for ``csr``: a client certificate with the CSR's subject and key. ``public_key`` /
    ``subject`` put another key or subject in the leaf (faults and negative cases)."""
    ca_cert, ca_key = load_ca(ca)
    usage = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    leaf = (
        _builder(subject or csr.subject, ca_cert.subject, public_key or csr.public_key())
        .add_extension(usage, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, ca_cert))


def load_chain(pem: str) -> list[x509.Certificate]:
    """The certificates of a PEM bundle, in order; ``ValueError`` when there are none."""
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM certificate chain ({exc})") from exc
    return certs


def same_key(a, b) -> bool:
    """Whether two public keys are the same key."""
    return a.public_bytes(*_SPKI) == b.public_bytes(*_SPKI)


def chain_problem(
    chain: list[x509.Certificate], anchor: x509.Certificate | None = None
) -> str | None:
    """Why ``chain`` (leaf first) is not a valid chain today, or None: each certificate
    must be within its validity period and issued by the next one, and the last one by
    ``anchor`` (or be ``anchor``) when given."""
    if not chain:
        return "no certificate in it"
    now = datetime.datetime.now(datetime.timezone.utc)
    for index, cert in enumerate(chain):
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            return (f"certificate {index} ({cert.subject.rfc4514_string()}) is valid "
                    f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} to "
                    f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")  # fmt: skip
    issuers = chain[1:] + ([anchor] if anchor is not None and chain[-1] != anchor else [])
    for index, (cert, issuer) in enumerate(zip(chain, issuers, strict=False)):
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            what = "the trusted CA" if issuer is anchor else f"certificate {index + 1}"
            return (f"certificate {index} ({cert.subject.rfc4514_string()}) is not signed by "
                    f"{what} ({issuer.subject.rfc4514_string()})")  # fmt: skip
    return None


# ---------------------------------------------------------------------- hash data (M03, M04)

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512,
}  # fmt: skip


def _digest(algorithm: str, data: bytes) -> str:
    h = hashes.Hash(_HASHES[algorithm]())
    h.update(data)
    return h.finalize().hex()


def _der_item(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER item at ``at``."""
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length, at = int.from_bytes(data[at : at + count], "big"), at + count
    return tag, at, at + length


def public_key_bits(public_key) -> bytes:
    """The subjectPublicKey BIT STRING value of a key (without tag, length and the unused
    bits octet): what OCSP's issuerKeyHash (RFC 6960 §4.1.1) is computed over."""
    spki = public_key.public_bytes(*_SPKI)
    _, start, _ = _der_item(spki, 0)  # SubjectPublicKeyInfo SEQUENCE
    _, _, after_algorithm = _der_item(spki, start)  # AlgorithmIdentifier
    tag, bits_start, bits_end = _der_item(spki, after_algorithm)
    if tag != 0x03:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return spki[bits_start + 1 : bits_end]


def certificate_hash_data(
    cert: x509.Certificate, issuer: x509.Certificate | None = None, algorithm: str = "SHA256"
) -> dict[str, str]:
    """OCPP 2.0.1 CertificateHashDataType of ``cert``, as an OCSP CertID (RFC 6960): the
    hash of the DER issuer name, the hash of the issuer's public key bits, the serial
    number in hex (lowercase, no leading zeros). ``issuer`` defaults to ``cert`` itself
    (a root certificate)."""
    issuer_key = (issuer or cert).public_key()
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": _digest(algorithm, cert.issuer.public_bytes()),
        "issuerKeyHash": _digest(algorithm, public_key_bits(issuer_key)),
        "serialNumber": format(cert.serial_number, "x"),
    }


def same_hash_data(a: dict, b: dict) -> bool:
    """Whether two CertificateHashData name the same certificate (hex compared without
    regard to case, serial numbers without leading zeros)."""

    def norm(data: dict) -> tuple:
        return (
            str(data.get("hashAlgorithm", "")),
            str(data.get("issuerNameHash", "")).lower(),
            str(data.get("issuerKeyHash", "")).lower(),
            str(data.get("serialNumber", "")).lower().lstrip("0"),
        )

    return norm(a) == norm(b)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()
