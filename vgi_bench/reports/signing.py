"""``report.sig``: an Ed25519 (or SM2) signature over the SHA-256 of every file of a run.

Why: a certification report is only worth something if nobody can change it, or the raw
captures and results it was built from, without it showing. The manifest (relative path
-> SHA-256) and its signature live in one JSON file, ``report.sig``, beside the files;
every regular file under the run directory is in it except ``report.sig`` itself.

Keys: the lab's PEM private key named by the profile (``[report] signing_key``). Without
one, the bench signs with its own key, made once per machine and kept at
``$XDG_CONFIG_HOME/vgi-bench/bench-ed25519.pem`` (``~/.config/...``; mode 0600) so that
every run of one bench carries the same fingerprint; such a report is marked
"self-signed by bench key". The signature carries its public key, so ``verify`` proves
the files are the ones that key signed; *whose* key it is shows by its fingerprint, or
``verify --key`` checks it against the lab's published public key.

Algorithms (``[report] signature``): ``ed25519`` (default; PEM keys, the ``cryptography``
library) or ``sm2`` (GB/T 32918 with SM3 and the default user ID, for labs that must use
national algorithms; ``cryptography`` has no SM2, so :mod:`vgi_bench.sm2` does it over
``gmssl``'s curve arithmetic, with a CSPRNG nonce, as for the platform envelopes). An
SM2 key file holds the private key as 64 hex characters; a published SM2 public key is
128 hex characters (x || y, ``04`` prefix allowed). The bench's own SM2 key lives
beside its Ed25519 one (``bench-sm2.key``).

Beside ``report.sig``, for checking a run with standard tools (:mod:`vgi_bench.reports.checksums`):
``SHA256SUMS`` (``sha256sum -c``), ``SHA256SUMS.sig`` — a detached signature of it by
the same key, raw Ed25519 or DER SM2, that ``openssl pkeyutl -verify`` checks — and the
key as a PEM SubjectPublicKeyInfo in ``SHA256SUMS.pub.pem``.

Hand-written here (no library does it): the manifest and its canonical JSON form, and
the DER of an SM2 public key (``cryptography`` has no SM2 curve; five fixed ASN.1 items).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vgi_bench import sm2
from vgi_bench.reports.checksums import (
    SUMS_KEY_NAME,
    SUMS_NAME,
    SUMS_SIG_NAME,
    SumsCheck,
    check_sums,
    sums_text,
)

__all__ = [
    "ALGORITHMS",
    "FORMAT",
    "SIG_NAME",
    "PublicKey",
    "SignatureError",
    "Signer",
    "SigningKey",
    "Verification",
    "bench_key_path",
    "create_private_file",
    "fingerprint",
    "load_public_key",
    "load_signer",
    "manifest",
    "sign_run",
    "verify_run",
    "write_checksums",
]

SIG_NAME = "report.sig"
FORMAT = "vgi-bench-signature/1"
ALGORITHM = "ed25519"  # the default
ALGORITHMS = ("ed25519", "sm2")
_CHUNK = 1 << 20


class SignatureError(ValueError):
    """A key or signature file that cannot be used; ``str(err)`` is one line."""


@dataclass(frozen=True)
class Signer:
    """The key that signs a run, and whether it is a lab's key or the bench's own."""

    key: SigningKey
    origin: str  # "lab" or "bench"
    path: Path
    lab: str = ""
    operator: str = ""

    @property
    def self_signed(self) -> bool:
        return self.origin == "bench"

    @property
    def fingerprint(self) -> str:
        return self.key.public.fingerprint

    def describe(self) -> dict[str, Any]:
        """What the report prints about its signature (rendered before signing)."""
        return {
            "algorithm": self.key.public.algorithm,
            "key": self.origin,
            "fingerprint": self.fingerprint,
            "self_signed": self.self_signed,
            "lab": self.lab,
            "operator": self.operator,
        }


@dataclass
class Verification:
    """The outcome of checking a run directory against its ``report.sig``."""

    signature_valid: bool
    altered: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    key_mismatch: bool = False
    signed: dict[str, Any] = field(default_factory=dict)
    checksums: SumsCheck | None = None  # None: the run has no SHA256SUMS

    @property
    def ok(self) -> bool:
        return (
            self.signature_valid
            and not (self.altered or self.missing or self.added)
            and not self.key_mismatch
            and (self.checksums is None or self.checksums.ok)
        )


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class PublicKey:
    """A public key as ``report.sig`` carries it: the algorithm and the raw key bytes
    (Ed25519: 32 bytes; SM2: x || y, 64 bytes)."""

    algorithm: str
    raw: bytes

    @property
    def fingerprint(self) -> str:
        return "SHA256:" + hashlib.sha256(self.raw).hexdigest()[:32]

    def verify(self, signature: bytes, message: bytes) -> bool:
        return _VERIFIERS[self.algorithm](self.raw, signature, message)

    def pem(self) -> bytes:
        """The key as a PEM SubjectPublicKeyInfo, as ``openssl pkey -pubout`` writes it."""
        if self.algorithm == "sm2":
            body = base64.encodebytes(_sm2_spki(self.raw)).decode().replace("\n", "")
            lines = [body[i : i + 64] for i in range(0, len(body), 64)]
            text = "\n".join(["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----"])
            return (text + "\n").encode()
        return Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def detached(self, signature: bytes) -> bytes:
        """A signature as ``openssl pkeyutl`` reads it: Ed25519 raw, SM2 DER."""
        return sm2.to_der(signature) if self.algorithm == "sm2" else signature

    def verify_detached(self, detached: bytes, message: bytes) -> bool:
        """:meth:`verify` of a signature in :meth:`detached` form; never raises."""
        if self.algorithm == "sm2":
            try:
                detached = sm2.from_der(detached)
            except ValueError:
                return False
        return self.verify(detached, message)


@dataclass(frozen=True)
class SigningKey:
    """A private key of either algorithm: ``sign`` and the public half."""

    public: PublicKey
    sign: Callable[[bytes], bytes]


def _verify_ed25519(raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


def _verify_sm2(raw: bytes, signature: bytes, message: bytes) -> bool:
    return sm2.verify(raw, signature, message)


_VERIFIERS: dict[str, Callable[[bytes, bytes, bytes], bool]] = {
    "ed25519": _verify_ed25519,
    "sm2": _verify_sm2,
}


def _der(tag: int, body: bytes) -> bytes:
    """One DER TLV (definite length)."""
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(arc) for arc in dotted.split("."))
    body = bytearray([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


_EC_PUBLIC_KEY = "1.2.840.10045.2.1"  # id-ecPublicKey (RFC 5480)
_SM2_CURVE = "1.2.156.10197.1.301"  # sm2p256v1 (GM/T 0006), as OpenSSL 3 writes SM2 keys


def _sm2_spki(raw: bytes) -> bytes:
    """SubjectPublicKeyInfo {id-ecPublicKey, sm2p256v1} with the uncompressed point."""
    algorithm = _der(0x30, _oid(_EC_PUBLIC_KEY) + _oid(_SM2_CURVE))
    return _der(0x30, algorithm + _der(0x03, b"\x00\x04" + raw))


def _ed25519_key(key: Ed25519PrivateKey) -> SigningKey:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(PublicKey("ed25519", raw), key.sign)


def _sm2_key(private_hex: str) -> SigningKey:
    """An SM2 key from its 64-hex-character private scalar; signatures are SM2 with SM3
    and the default user ID ``1234567812345678`` (GM/T 0009), ``r || s``, each with a
    fresh CSPRNG nonce (:mod:`vgi_bench.sm2`)."""
    key = sm2.Sm2Key.from_hex(private_hex)
    return SigningKey(PublicKey("sm2", key.public), key.sign)


def _sm2_scalar(text: str) -> str | None:
    """The private key in an SM2 key file's text (64 hex characters), else ``None``."""
    digits = "".join(text.split()).lower()
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        return None
    return digits if 0 < int(digits, 16) < sm2.N - 1 else None


def bench_key_path(algorithm: str = ALGORITHM) -> Path:
    """Where this machine's bench key lives (``$XDG_CONFIG_HOME`` or ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    name = "bench-ed25519.pem" if algorithm == "ed25519" else f"bench-{algorithm}.key"
    return Path(base) / "vgi-bench" / name


def fingerprint(public_key: Ed25519PublicKey | PublicKey) -> str:
    if isinstance(public_key, PublicKey):
        return public_key.fingerprint
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey("ed25519", raw).fingerprint


def _read_private_key(path: Path, algorithm: str = ALGORITHM) -> SigningKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SignatureError(f"signing key {path}: {exc.strerror or exc}") from None
    if algorithm == "sm2":
        scalar = _sm2_scalar(data.decode("ascii", "replace"))
        if scalar is None:
            raise SignatureError(f"signing key {path}: not an SM2 key (64 hex characters)")
        return _sm2_key(scalar)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or "not a PEM private key"
        raise SignatureError(f"signing key {path}: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"signing key {path}: not an Ed25519 key")
    return _ed25519_key(key)


def _new_key_bytes(algorithm: str) -> bytes:
    if algorithm == "sm2":
        return f"{sm2.new_private_key():064x}\n".encode()
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_private_file(path: Path, data: bytes) -> None:
    """Write a new key file (mode 0600) atomically; if another process won the race to
    make it, keep that one, so every user of the key agrees on it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bench-key.")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)  # fails if the key exists: the first key wins
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def load_signer(
    signing_key: str | None, *, algorithm: str = ALGORITHM, lab: str = "", operator: str = ""
) -> Signer:
    """The lab's key at ``signing_key``, or (``None``) the bench key, made on first use."""
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"unknown signature algorithm {algorithm!r} "
                             f"(known: {', '.join(ALGORITHMS)})")  # fmt: skip
    if signing_key:
        path = Path(signing_key).expanduser()
        return Signer(_read_private_key(path, algorithm), "lab", path, lab, operator)
    path = bench_key_path(algorithm)
    if not path.exists():
        try:
            create_private_file(path, _new_key_bytes(algorithm))
        except OSError as exc:  # read-only home, ...: the run keeps its reports unsigned
            raise SignatureError(f"bench key {path}: {exc.strerror or exc}") from None
    return Signer(_read_private_key(path, algorithm), "bench", path, lab, operator)


def load_public_key(path: str | Path) -> PublicKey:
    """A published public key: Ed25519 PEM (or the public half of a PEM private key), or
    SM2 as hex (128 characters x || y, ``04`` prefix allowed; or a 64-character private key)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SignatureError(f"key {path}: {exc.strerror or exc}") from None
    text = "".join(data.decode("ascii", "replace").split()).lower()
    if len(text) in (128, 130) and all(c in "0123456789abcdef" for c in text):
        return PublicKey("sm2", bytes.fromhex(text[-128:]))
    if (scalar := _sm2_scalar(text)) is not None:
        return _sm2_key(scalar).public
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise SignatureError(f"key {path}: not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"key {path}: not an Ed25519 key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey("ed25519", raw)


# --------------------------------------------------------------------------- manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def manifest(run_dir: Path) -> dict[str, str]:
    """Relative POSIX path -> SHA-256 of every regular file under ``run_dir`` but the sig."""
    run_dir = Path(run_dir)
    files = {}
    for path in sorted(run_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            name = path.relative_to(run_dir).as_posix()
            if name != SIG_NAME:
                files[name] = _sha256(path)
    return files


def _write_atomic(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_checksums(run_dir: Path, signer: Signer | None) -> list[Path]:
    """Write ``SHA256SUMS`` over every file now in ``run_dir`` and, with a signer, its
    detached signature and the signer's public key; return the paths written.

    Without a signer (its key could not be loaded) the sums are still written, and a
    signature or key left by an earlier build is removed: it would not match them."""
    run_dir = Path(run_dir)
    sums = sums_text(manifest(run_dir)).encode("utf-8")
    written = [run_dir / SUMS_NAME]
    _write_atomic(written[0], sums)
    sig_path, key_path = run_dir / SUMS_SIG_NAME, run_dir / SUMS_KEY_NAME
    if signer is None:
        sig_path.unlink(missing_ok=True)
        key_path.unlink(missing_ok=True)
        return written
    public = signer.key.public
    _write_atomic(sig_path, public.detached(signer.key.sign(sums)))
    _write_atomic(key_path, public.pem())
    return [*written, sig_path, key_path]


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------- sign / verify


def sign_run(run_dir: Path, signer: Signer) -> Path:
    """Write ``run_dir/report.sig`` over every file now in ``run_dir``; return its path."""
    run_dir = Path(run_dir)
    public = signer.key.public
    payload = {
        "format": FORMAT,
        "algorithm": public.algorithm,
        "signed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "signer": {
            "key": signer.origin,
            "self_signed": signer.self_signed,
            "lab": signer.lab,
            "operator": signer.operator,
        },
        "public_key": base64.b64encode(public.raw).decode(),
        "fingerprint": public.fingerprint,
        "files": manifest(run_dir),
    }
    document = {
        **payload,
        "signature": base64.b64encode(signer.key.sign(_canonical(payload))).decode(),
    }
    path = run_dir / SIG_NAME
    partial = path.with_name(f".{SIG_NAME}.tmp")
    partial.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)
    return path


def _read_sig(sig_path: Path) -> dict[str, Any]:
    try:
        document = json.loads(sig_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SignatureError(f"{sig_path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SignatureError(f"{sig_path}: not a vgi-bench signature file") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SignatureError(f"{sig_path}: not a {FORMAT} file")
    if document.get("algorithm") not in ALGORITHMS:
        raise SignatureError(f"{sig_path}: unsupported algorithm {document.get('algorithm')!r}")
    if not isinstance(document.get("files"), dict):
        raise SignatureError(f"{sig_path}: no file manifest")
    return document


def verify_run(sig_path: Path, expected_key: PublicKey | None = None) -> Verification:
    """Check the signature of ``sig_path`` and every file of its directory against it."""
    sig_path = Path(sig_path)
    document = _read_sig(sig_path)
    payload = {k: v for k, v in document.items() if k != "signature"}
    public: PublicKey | None
    try:
        public = PublicKey(document["algorithm"], base64.b64decode(document["public_key"]))
        valid = public.verify(base64.b64decode(document["signature"]), _canonical(payload))
    except (KeyError, TypeError, ValueError):
        valid = False
        public = None
    signed: dict[str, str] = document["files"]
    present = manifest(sig_path.parent)
    result = Verification(
        signature_valid=valid,
        altered=sorted(n for n in signed if n in present and present[n] != signed[n]),
        missing=sorted(n for n in signed if n not in present),
        added=sorted(n for n in present if n not in signed),
        signed=payload,
    )
    if expected_key is not None:
        result.key_mismatch = public is None or public != expected_key
    result.checksums = check_sums(
        sig_path.parent,
        present,
        public.verify_detached if public is not None else None,
        _public_pem(public),
    )
    return result


def _public_pem(public: PublicKey | None) -> bytes | None:
    if public is None:
        return None
    try:
        return public.pem()
    except ValueError:  # not a valid key of its algorithm: its signature failed already
        return None
