"""The envelope's algorithms by profile name: ciphers for ``Data``, signers for ``Sig``.

T/CEC 102.4 App. B/C: AES-128-CBC with PKCS#7 padding, Base64, and HMAC-MD5 as upper-case
hex. The national-algorithm option: SM4-CBC (GB/T 32907) and HMAC-SM3 (GB/T 32905) from
``cryptography`` (which has SM3/SM4 since 35.0), and SM2 signatures (GB/T 32918) by
:mod:`vgi_bench.sm2` over ``gmssl`` (duanhongyi, BSD, pure Python; nonces from the
CSPRNG): ``cryptography`` has no SM2, ``gmssl-python`` and ``gmssl-pyx`` need the
GmSSL C library installed, ``snowland-smx``/``gmalg`` are less used; ``gmssl`` is the
one most deployments use and its SM2 reproduces the GB/T 32918.5 example (see
``tests/test_platform_crypto.py``).
"""

from __future__ import annotations

import base64
import binascii
import hmac as std_hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from vgi_bench import sm2

BLOCK_BITS = 128


class CryptoError(ValueError):
    """Data that does not decrypt, or a key that cannot be used."""


class DataCipher(Protocol):
    """Encrypts the envelope's ``Data`` (JSON text -> Base64 text) and back."""

    @property
    def name(self) -> str: ...

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...


class Signer(Protocol):
    """Signs the envelope's concatenated fields; the signature is upper-case hex."""

    @property
    def name(self) -> str: ...

    def sign(self, message: str) -> str: ...

    def verify(self, message: str, signature: str) -> bool: ...


@dataclass(frozen=True)
class CbcCipher:
    """A 128-bit block cipher in CBC mode with PKCS#7 padding, Base64 on the wire."""

    name: str
    algorithm: Callable[[bytes], algorithms.BlockCipherAlgorithm]
    key: bytes
    iv: bytes

    def _cipher(self) -> Cipher:
        return Cipher(self.algorithm(self.key), modes.CBC(self.iv))

    def encrypt(self, plaintext: str) -> str:
        padder = padding.PKCS7(BLOCK_BITS).padder()
        padded = padder.update(plaintext.encode("utf-8")) + padder.finalize()
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(padded) + enc.finalize()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            raw = base64.b64decode(ciphertext.encode("ascii"), validate=True)
            dec = self._cipher().decryptor()
            padded = dec.update(raw) + dec.finalize()
            unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
            return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise CryptoError(f"Data does not decrypt with {self.name}: {exc}") from None


@dataclass(frozen=True)
class HmacSigner:
    """HMAC over the UTF-8 message, upper-case hex (T/CEC 102.4 App. C)."""

    name: str
    hash: Callable[[], hashes.HashAlgorithm]
    key: bytes

    def sign(self, message: str) -> str:
        mac = hmac.HMAC(self.key, self.hash())
        mac.update(message.encode("utf-8"))
        return mac.finalize().hex().upper()

    def verify(self, message: str, signature: str) -> bool:
        return std_hmac.compare_digest(self.sign(message), str(signature).upper())


class Sm2Signer:
    """SM2 with SM3 and the default user ID ``1234567812345678`` (GB/T 32918.2, GM/T 0009).

    The signature is ``r || s`` as 128 upper-case hex characters. ``private_key`` is 64
    hex characters; ``public_key`` (128 hex, without the ``04`` prefix) is the peer's,
    derived from the private key when not given (both sides share a key pair). Every
    signature takes a fresh nonce from the CSPRNG (:mod:`vgi_bench.sm2`).
    """

    name = "sm2"

    def __init__(self, private_key: str, public_key: str | None = None) -> None:
        try:
            self._key = sm2.Sm2Key.from_hex(private_key)
        except ValueError:
            raise CryptoError("SM2 private key must be 64 hex characters in [1, n-2]") from None
        own_public = self._key.public.hex()
        peer = (public_key or own_public).lower().removeprefix("04")
        if len(peer) != 128 or any(c not in "0123456789abcdef" for c in peer):
            raise CryptoError("SM2 public key must be 128 hex characters (x || y)")
        self._peer = bytes.fromhex(peer)
        self.public_key = own_public.upper()

    def sign(self, message: str, k: str | None = None) -> str:
        """``k`` (hex) only for known-answer tests; otherwise a CSPRNG nonce."""
        nonce = int(k, 16) if k is not None else None
        return self._key.sign(message.encode("utf-8"), k=nonce).hex().upper()

    def verify(self, message: str, signature: str) -> bool:
        sig = str(signature).lower()
        if len(sig) != 128 or any(c not in "0123456789abcdef" for c in sig):
            return False
        return sm2.verify(self._peer, bytes.fromhex(sig), message.encode("utf-8"))


def _key16(text: str, what: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) != 16:
        raise CryptoError(f"{what} must be 16 bytes, got {len(raw)}")
    return raw


CIPHERS: Mapping[str, Callable[[bytes], algorithms.BlockCipherAlgorithm]] = MappingProxyType(
    {"aes-128-cbc": algorithms.AES, "sm4-cbc": algorithms.SM4}
)
HMACS: Mapping[str, Callable[[], hashes.HashAlgorithm]] = MappingProxyType(
    {"hmac-md5": hashes.MD5, "hmac-sm3": hashes.SM3}
)
SIGNATURES = (*HMACS, "sm2")


def make_cipher(name: str, data_secret: str, data_iv: str) -> DataCipher:
    """The ``Data`` cipher named in the profile; secrets are 16-character strings taken as
    raw UTF-8 bytes, never hex-decoded (as every published T/CEC 102 vector does)."""
    if name not in CIPHERS:
        raise CryptoError(f"unknown cipher {name!r} (known: {', '.join(CIPHERS)})")
    return CbcCipher(
        name, CIPHERS[name], _key16(data_secret, "data_secret"), _key16(data_iv, "data_iv")
    )


def make_signer(name: str, sig_secret: str, peer_public_key: str | None = None) -> Signer:
    """The ``Sig`` algorithm named in the profile (for SM2, ``sig_secret`` is the private key)."""
    if name in HMACS:
        return HmacSigner(name, HMACS[name], sig_secret.encode("utf-8"))
    if name == "sm2":
        return Sm2Signer(sig_secret, peer_public_key)
    raise CryptoError(f"unknown signature {name!r} (known: {', '.join(SIGNATURES)})")
