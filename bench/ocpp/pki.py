"""Throwaway X.509 material for TLS cases: a CA and leaf certificates (``cryptography``).

Used where a case needs a certificate the DUT must refuse (one no trusted CA signed, or one
the right CA signed that has expired), and by the bench's own tests to run security
profiles 2 and 3 without a real PKI.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
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
    if ca is None:
        issuer, signer = _name(common_name), key
    else:
        ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
        issuer = ca_cert.subject
        signer = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
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
