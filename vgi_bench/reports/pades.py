"""``report.pdf`` signed inside the PDF (PAdES baseline B-B), so a PDF reader shows who
signed it and whether it changed.

Why beside ``report.sig``: a customer opens the PDF, not the run directory. PDF readers
verify signatures made with an X.509 certificate: the lab's (``[report]
pdf_signing_key`` + ``pdf_certificate``, PEM, optionally ``pdf_chain`` with the
intermediate certificates), or, without them, a key and a self-signed certificate the
bench makes on first use beside its report key (``$XDG_CONFIG_HOME/vgi-bench/``, the key
mode 0600), named "vgi-bench self-signed (<lab>)"; the signature's reason then says it
is self-signed.

Key algorithm: the bench's own key is ECDSA P-256 with SHA-256, which Acrobat/Reader,
poppler (``pdfsig``, Okular, Evince) and pyHanko all verify. Ed25519 PDF signatures
(ISO 32002) are signed and validated by pyHanko, but Adobe's readers do not verify
them, so the bench never makes one even when ``report.sig`` is Ed25519; a lab key may be
RSA (2048 bits or more) or ECDSA, and Ed25519/Ed448 only at the lab's choice. SM2 has no
PDF signature profile that readers check: with ``signature = "sm2"`` the PDF is still
signed with the certificate's algorithm.

Level B-B: no time-stamp (the bench has no network for a TSA), no embedded revocation
data; the signing time is the bench's clock, as the signed attributes state it.

pyHanko is imported only here and lazily: without it the bench keeps the unsigned PDF
and :mod:`vgi_bench.reports.build` logs why.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from vgi_bench.reports.signing import bench_key_path, create_private_file

__all__ = [
    "FIELD_NAME",
    "PdfSignatureCheck",
    "PdfSigner",
    "PdfSigningError",
    "bench_common_name",
    "bench_pdf_paths",
    "check_pdf",
    "load_pdf_signer",
    "pyhanko_available",
    "sign_pdf",
]

FIELD_NAME = "vgi-bench"  # the PDF's signature field
_CN_MAX = 64  # X.520 ub-common-name
_BENCH_DAYS = 5 * 365  # the bench's self-signed certificate; renewed 30 days before it ends
_RENEW = datetime.timedelta(days=30)
_MIN_RSA_BITS = 2048
_REASON = "vgi-bench conformance test report"
_SELF_SIGNED_REASON = (
    "vgi-bench conformance test report; self-signed by the bench (no lab certificate)"
)

_T = TypeVar("_T")
_AnyKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)


class PdfSigningError(ValueError):
    """A PDF key, certificate or signing step that failed; ``str(err)`` is one line."""


@dataclass(frozen=True)
class PdfSigner:
    """The key and certificate (with its chain) that sign ``report.pdf``."""

    key: Any  # a cryptography private key (RSA, EC, Ed25519, Ed448)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    origin: str = "lab"  # or "bench": the bench's own self-signed certificate
    lab: str = ""

    @property
    def self_signed(self) -> bool:
        return self.origin == "bench"

    @property
    def subject(self) -> str:
        """The certificate's common name (else its whole subject), as readers show it."""
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.certificate.subject.rfc4514_string()

    def describe(self) -> dict[str, Any]:
        """What the report can print about the PDF signature (made after it is rendered)."""
        return {
            "subject": self.subject,
            "self_signed": self.self_signed,
            "certificate_sha256": self.certificate.fingerprint(hashes.SHA256()).hex(),
        }


@dataclass
class PdfSignatureCheck:
    """What a PDF reader would say about ``report.pdf``'s signature."""

    signed: bool = False
    intact: bool = False  # the signed bytes are unchanged
    valid: bool = False  # the signature is the certificate's key's over them
    whole_file: bool = False  # nothing was appended after the signature
    subject: str = ""
    self_signed: bool = False  # the certificate is its own issuer
    error: str = ""  # the PDF could not be read: a finding
    skipped: str = ""  # why it could not be checked here (no pyHanko): not a finding

    @property
    def ok(self) -> bool:
        """An unsigned PDF is not a failure (it was logged when the run was built), nor
        one this installation cannot check (report.sig still covers its bytes)."""
        return not self.error and (
            not self.signed or (self.intact and self.valid and self.whole_file)
        )

    def describe(self) -> str:
        """One line for ``vgi-bench verify``."""
        if self.error or self.skipped:
            return f"signature not checked: {self.error or self.skipped}"
        if not self.signed:
            return "not signed (no PDF signature)"
        if not (self.intact and self.valid):
            return f"FAILED: the PDF signature by {self.subject} does not match the file"
        if not self.whole_file:
            return f"FAILED: changed after {self.subject} signed it (bytes appended)"
        kind = "self-signed certificate" if self.self_signed else "certificate"
        return f"OK: PAdES signature intact, whole file, by {self.subject} ({kind})"


# --------------------------------------------------------------------------- keys


def pyhanko_available() -> bool:
    try:
        import pyhanko.sign  # noqa: F401
    except ImportError:
        return False
    return True


def bench_pdf_paths() -> tuple[Path, Path]:
    """The bench's own PDF key and self-signed certificate, beside its report key."""
    folder = bench_key_path().parent
    return folder / "bench-pdf-p256.pem", folder / "bench-pdf-cert.pem"


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PdfSigningError(f"{what} {path}: {exc.strerror or exc}") from None


def _load_key(path: Path) -> _AnyKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "PDF signing key"), password=None)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or "not a PEM private key"
        raise PdfSigningError(f"PDF signing key {path}: {reason}") from None
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < _MIN_RSA_BITS:
        raise PdfSigningError(f"PDF signing key {path}: RSA {key.key_size} bits, need 2048")
    if not isinstance(key, _AnyKey):
        raise PdfSigningError(f"PDF signing key {path}: not an RSA, ECDSA or EdDSA key")
    return key


def _load_certificates(path: Path, what: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(_read(path, what))
    except ValueError:
        raise PdfSigningError(f"{what} {path}: not a PEM certificate") from None
    return certificates


def _public_der(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _check_lab_certificate(certificate: x509.Certificate, key: Any, path: Path) -> None:
    if _public_der(certificate.public_key()) != _public_der(key.public_key()):
        raise PdfSigningError(f"PDF certificate {path}: not the certificate of pdf_signing_key")
    now = datetime.datetime.now(datetime.timezone.utc)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise PdfSigningError(
            f"PDF certificate {path}: valid {certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}, not now"
        )


def bench_common_name(lab: str) -> str:
    """The bench certificate's CN: "vgi-bench self-signed (<lab>)", a long lab name cut
    so that it fits 64 bytes of UTF-8 (``cryptography`` counts bytes, X.520 characters)."""
    name = f"vgi-bench self-signed ({lab})" if lab else "vgi-bench self-signed"
    while len(name.encode()) > _CN_MAX:
        lab = lab[:-1]
        name = f"vgi-bench self-signed ({lab}...)"
    return name


def _self_signed(key: ec.EllipticCurvePrivateKey, lab: str) -> x509.Certificate:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, bench_common_name(lab))]
    if lab:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, lab[:_CN_MAX]))
    name = x509.Name(attributes)
    now = datetime.datetime.now(datetime.timezone.utc)
    usage = x509.KeyUsage(
        digital_signature=True, content_commitment=True, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))  # a reader's clock a little behind
        .not_valid_after(now + datetime.timedelta(days=_BENCH_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _usable_bench_certificate(
    path: Path, key: ec.EllipticCurvePrivateKey, lab: str
) -> x509.Certificate | None:
    """The stored bench certificate if it is this key's, for this lab, and not ending."""
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    now = datetime.datetime.now(datetime.timezone.utc)
    if (
        _public_der(certificate.public_key()) != _public_der(key.public_key())
        or not names
        or names[0].value != bench_common_name(lab)
        or certificate.not_valid_after_utc - _RENEW < now
    ):
        return None
    return certificate


def _bench_signer(lab: str) -> PdfSigner:
    """The bench's P-256 key (made once) and a self-signed certificate naming the lab
    (made again, for the same key, when the lab's name changes or it nears its end)."""
    key_path, cert_path = bench_pdf_paths()
    try:
        if not key_path.exists():
            create_private_file(
                key_path,
                ec.generate_private_key(ec.SECP256R1()).private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
        key = _load_key(key_path)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PdfSigningError(f"bench PDF key {key_path}: not an ECDSA key")
        certificate = _usable_bench_certificate(cert_path, key, lab)
        if certificate is None:
            certificate = _self_signed(key, lab)
            partial = cert_path.with_name(f".{cert_path.name}.{os.getpid()}.tmp")
            partial.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
            os.replace(partial, cert_path)  # two benches racing: either certificate is good
    except OSError as exc:
        raise PdfSigningError(f"bench PDF key {key_path}: {exc.strerror or exc}") from None
    return PdfSigner(key, certificate, origin="bench", lab=lab)


def load_pdf_signer(
    key: str | None = None, certificate: str | None = None, chain: str | None = None, *,
    lab: str = "",
) -> PdfSigner:  # fmt: skip
    """The lab's key and certificate, or (neither given) the bench's own; PdfSigningError
    names the file when one cannot be used."""
    if not key and not certificate:
        if chain:
            raise PdfSigningError("pdf_chain without pdf_signing_key and pdf_certificate")
        return _bench_signer(lab)
    if not (key and certificate):
        given, needed = ("pdf_signing_key", "pdf_certificate")[:: 1 if key else -1]
        raise PdfSigningError(f"{given} needs {needed} too")
    key_path, cert_path = Path(key).expanduser(), Path(certificate).expanduser()
    private = _load_key(key_path)
    leaf, *extra = _load_certificates(cert_path, "PDF certificate")
    _check_lab_certificate(leaf, private, cert_path)
    if chain:
        extra += _load_certificates(Path(chain).expanduser(), "PDF certificate chain")
    return PdfSigner(private, leaf, tuple(extra), origin="lab", lab=lab)


# --------------------------------------------------------------------------- sign / check


def _sync(work: Callable[[], _T]) -> _T:
    """pyHanko's synchronous API calls ``asyncio.run``, which refuses to run inside a
    running event loop: run it on a thread of its own then."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


def _signed_bytes(pdf: bytes, signer: PdfSigner) -> bytes:
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    certificate = translate_pyca_cryptography_cert_to_asn1(signer.certificate)
    chain = [translate_pyca_cryptography_cert_to_asn1(c) for c in signer.chain]
    cms_signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=translate_pyca_cryptography_key_to_asn1(signer.key),
        cert_registry=SimpleCertificateStore.from_certs([certificate, *chain]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,  # ETSI.CAdES.detached: PAdES baseline
        reason=_SELF_SIGNED_REASON if signer.self_signed else _REASON,
        location=signer.lab or None,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    return _sync(lambda: signers.sign_pdf(writer, meta, signer=cms_signer)).getvalue()


def sign_pdf(path: Path, signer: PdfSigner) -> Path:
    """Sign the PDF at ``path`` in place (atomically): an unsigned PDF is kept on error."""
    path = Path(path)
    if not pyhanko_available():
        raise PdfSigningError("pyhanko is not installed (pip install 'vgi-bench[report]')")
    pdf = _read(path, "PDF")
    try:
        signed = _signed_bytes(pdf, signer)
    except Exception as exc:  # pyHanko's errors are many kinds; the report is kept anyway
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise PdfSigningError(f"{path.name}: {reason}") from None
    partial = path.with_name(f".{path.name}.signed.tmp")
    partial.write_bytes(signed)
    os.replace(partial, path)
    return path


def check_pdf(path: Path) -> PdfSignatureCheck:
    """Validate the last signature of the PDF at ``path`` as a reader would, except for
    trust: whether the certificate is the lab's is for the reader's trust list (or the
    lab's CA) to say, so the chain is anchored at the signer's own certificate here."""
    if not pyhanko_available():
        return PdfSignatureCheck(skipped="pyhanko is not installed")
    try:
        return _sync(lambda: _check(Path(path).read_bytes()))
    except Exception as exc:  # an unreadable or truncated PDF is a finding, not a crash
        return PdfSignatureCheck(error=" ".join(str(exc).split()) or type(exc).__name__)


def _check(pdf: bytes) -> PdfSignatureCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    if not signatures:
        return PdfSignatureCheck()
    embedded = signatures[-1]
    certificate = embedded.signer_cert
    status = validate_pdf_signature(
        embedded,
        ValidationContext(trust_roots=[certificate], allow_fetching=False),
        key_usage_settings=KeyUsageConstraints(),
    )
    return PdfSignatureCheck(
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        subject=str(
            certificate.subject.native.get("common_name") or certificate.subject.human_friendly
        ),
        self_signed=certificate.subject == certificate.issuer,
    )
