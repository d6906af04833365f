"""``report.sig``: an Ed25519 signature over the SHA-256 of every file of a run directory.

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

Hand-written here (no library does it): the manifest and its canonical JSON form. The
cryptography is the ``cryptography`` library's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "FORMAT",
    "SIG_NAME",
    "SignatureError",
    "Signer",
    "Verification",
    "bench_key_path",
    "fingerprint",
    "load_public_key",
    "load_signer",
    "manifest",
    "sign_run",
    "verify_run",
]

SIG_NAME = "report.sig"
FORMAT = "vgi-bench-signature/1"
ALGORITHM = "ed25519"
_CHUNK = 1 << 20


class SignatureError(ValueError):
    """A key or signature file that cannot be used; ``str(err)`` is one line."""


@dataclass(frozen=True)
class Signer:
    """The key that signs a run, and whether it is a lab's key or the bench's own."""

    private_key: Ed25519PrivateKey
    origin: str  # "lab" or "bench"
    path: Path
    lab: str = ""
    operator: str = ""

    @property
    def self_signed(self) -> bool:
        return self.origin == "bench"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.private_key.public_key())

    def describe(self) -> dict[str, Any]:
        """What the report prints about its signature (rendered before signing)."""
        return {
            "algorithm": ALGORITHM,
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

    @property
    def ok(self) -> bool:
        return (
            self.signature_valid
            and not (self.altered or self.missing or self.added)
            and not self.key_mismatch
        )


# --------------------------------------------------------------------------- keys


def bench_key_path() -> Path:
    """Where this machine's bench key lives (``$XDG_CONFIG_HOME`` or ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vgi-bench" / "bench-ed25519.pem"


def fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()[:32]


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SignatureError(f"signing key {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or "not a PEM private key"
        raise SignatureError(f"signing key {path}: {reason}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"signing key {path}: not an Ed25519 key")
    return key


def _create_bench_key(path: Path) -> None:
    """Write a new key atomically; if another process won the race, keep its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bench-key.")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)  # fails if the key exists: the first key wins
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def load_signer(signing_key: str | None, *, lab: str = "", operator: str = "") -> Signer:
    """The lab's key at ``signing_key``, or (``None``) the bench key, made on first use."""
    if signing_key:
        path = Path(signing_key).expanduser()
        return Signer(_read_private_key(path), "lab", path, lab, operator)
    path = bench_key_path()
    if not path.exists():
        try:
            _create_bench_key(path)
        except OSError as exc:  # read-only home, ...: the run keeps its reports unsigned
            raise SignatureError(f"bench key {path}: {exc.strerror or exc}") from None
    return Signer(_read_private_key(path), "bench", path, lab, operator)


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A published public key (PEM), or the public half of a PEM private key."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SignatureError(f"key {path}: {exc.strerror or exc}") from None
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise SignatureError(f"key {path}: not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"key {path}: not an Ed25519 key")
    return key


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


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# --------------------------------------------------------------------------- sign / verify


def sign_run(run_dir: Path, signer: Signer) -> Path:
    """Write ``run_dir/report.sig`` over every file now in ``run_dir``; return its path."""
    run_dir = Path(run_dir)
    public = signer.private_key.public_key()
    payload = {
        "format": FORMAT,
        "algorithm": ALGORITHM,
        "signed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "signer": {
            "key": signer.origin,
            "self_signed": signer.self_signed,
            "lab": signer.lab,
            "operator": signer.operator,
        },
        "public_key": base64.b64encode(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode(),
        "fingerprint": fingerprint(public),
        "files": manifest(run_dir),
    }
    document = {
        **payload,
        "signature": base64.b64encode(signer.private_key.sign(_canonical(payload))).decode(),
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
    if document.get("algorithm") != ALGORITHM:
        raise SignatureError(f"{sig_path}: unsupported algorithm {document.get('algorithm')!r}")
    if not isinstance(document.get("files"), dict):
        raise SignatureError(f"{sig_path}: no file manifest")
    return document


def verify_run(sig_path: Path, expected_key: Ed25519PublicKey | None = None) -> Verification:
    """Check the signature of ``sig_path`` and every file of its directory against it."""
    sig_path = Path(sig_path)
    document = _read_sig(sig_path)
    payload = {k: v for k, v in document.items() if k != "signature"}
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"]))
        public.verify(base64.b64decode(document["signature"]), _canonical(payload))
        valid = True
    except (KeyError, TypeError, ValueError, InvalidSignature):
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
        result.key_mismatch = public is None or fingerprint(public) != fingerprint(expected_key)
    return result
