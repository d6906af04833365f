"""SM2 signatures (GB/T 32918.2) with SM3 and the default user ID, for every SM2 use.

Why a module of its own: the bench signs with SM2 in two places (``report.sig`` with
``[report] signature = "sm2"`` and the T/CEC 102 / grid-platform envelope ``Sig``) and
both must draw the per-signature nonce ``k`` from the operating system's CSPRNG
(:mod:`secrets`). ``gmssl`` (pure Python, BSD; ``cryptography`` has no SM2) draws it from
:mod:`random` when the caller gives none — a predictable ``k`` lets anyone who sees two
signatures compute the private key. So ``gmssl`` is used here only for the curve
arithmetic and SM3; the nonce, the retry on a degenerate ``r``/``s`` and the range checks
of a signature before it is verified are ours.

Signatures are ``r || s`` (64 bytes). OpenSSL 3 writes and reads them DER-encoded
(``SEQUENCE {INTEGER r, INTEGER s}``): :func:`to_der` / :func:`from_der` convert, and
``tests/test_sm2.py`` checks both directions against the ``openssl`` command.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

__all__ = [
    "DEFAULT_ID",
    "N",
    "Sm2Key",
    "from_der",
    "new_private_key",
    "public_from_private",
    "to_der",
    "verify",
]

#: Curve order n of the SM2 recommended curve (GB/T 32918.5).
N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
#: The default signer ID (GM/T 0009): ``gmssl``'s Z value hard-codes it.
DEFAULT_ID = b"1234567812345678"
_ATTEMPTS = 64  # a degenerate r or s has probability ~2^-255; a loop that never ends is worse


def _crypt(private_hex: str = "", public_hex: str = "") -> Any:
    from gmssl import sm2

    return sm2.CryptSM2(private_key=private_hex, public_key=public_hex, mode=1)


def new_private_key() -> int:
    """A fresh private scalar d in [1, n-2] from the CSPRNG."""
    return secrets.randbelow(N - 2) + 1


def public_from_private(private: int) -> bytes:
    """x || y (64 bytes) of d·G."""
    probe = _crypt(f"{private:064x}")
    return bytes.fromhex(probe._kg(private, probe.ecc_table["g"]))


def _nonce() -> str:
    return f"{secrets.randbelow(N - 1) + 1:064x}"  # k in [1, n-1]


@dataclass(frozen=True)
class Sm2Key:
    """A private key and its public point; ``sign`` uses a CSPRNG nonce for every call."""

    private: int
    public: bytes  # x || y

    @classmethod
    def from_hex(cls, private_hex: str) -> Sm2Key:
        private = int(private_hex, 16)
        if not 0 < private < N - 1:
            raise ValueError("SM2 private key out of range [1, n-2]")
        return cls(private, public_from_private(private))

    def sign(self, message: bytes, *, k: int | None = None) -> bytes:
        """r || s over SM3(Z || message). ``k`` only for known-answer tests."""
        crypt = _crypt(f"{self.private:064x}", self.public.hex())
        for _ in range(_ATTEMPTS):
            nonce = f"{k:064x}" if k is not None else _nonce()
            signature = crypt.sign_with_sm3(message, nonce)
            if signature is not None:
                return bytes.fromhex(signature)
            if k is not None:
                raise ValueError("this k gives a degenerate SM2 signature")
        raise RuntimeError("no valid SM2 signature after repeated nonces")  # pragma: no cover


def verify(public: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` (r || s) is ``public``'s over ``message``; never raises."""
    if len(public) != 64 or len(signature) != 64:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):  # GB/T 32918.2 §7.1 B1/B2: gmssl does not check
        return False
    try:  # gmssl raises on points off the curve
        return bool(_crypt(public_hex=public.hex()).verify_with_sm3(signature.hex(), message))
    except Exception:
        return False


def to_der(signature: bytes) -> bytes:
    """r || s -> DER, the form OpenSSL's ``pkeyutl -sign`` writes."""
    return encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )


def from_der(der: bytes) -> bytes:
    """DER (as OpenSSL writes) -> r || s; ValueError if it is not a DER signature."""
    r, s = decode_dss_signature(der)
    if not (0 <= r < 1 << 256 and 0 <= s < 1 << 256):
        raise ValueError("SM2 signature integers longer than 32 bytes")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
