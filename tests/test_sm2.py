"""SM2 signatures: CSPRNG nonces everywhere, range checks, and OpenSSL 3 both ways.

The nonce tests fail on the bench as it was before ``vgi_bench/sm2.py``: ``gmssl`` drew ``k``
from :mod:`random`, so re-seeding ``random`` before two signatures gave the same ``r``
(and the private key follows from two signatures with a known or repeated ``k``).
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vgi_bench import sm2
from vgi_bench.platform.algorithms import Sm2Signer
from vgi_bench.reports.signing import load_signer

PRIVATE = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
OPENSSL_ID = "distid:1234567812345678"  # OpenSSL 3.0's pkeyutl default ID is not GM/T 0009's


@pytest.fixture
def no_python_random(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any nonce drawn from ``random`` (gmssl's default) makes the test fail loudly."""
    import gmssl.func

    def refuse(*_: object) -> str:
        raise AssertionError("an SM2 nonce was drawn from the random module")

    monkeypatch.setattr(gmssl.func, "random_hex", refuse)


def _r_values(sign, count: int = 3) -> set[bytes]:
    values = set()
    for _ in range(count):
        random.seed(1234)  # a predictable PRNG state before each signature
        values.add(sign()[:32])
    return values


def test_report_signature_nonce_is_from_csprng(no_python_random: None, tmp_path: Path) -> None:
    key_file = tmp_path / "lab-sm2.key"
    key_file.write_text(PRIVATE)
    signer = load_signer(str(key_file), algorithm="sm2")
    assert len(_r_values(lambda: signer.key.sign(b"manifest"))) == 3


def test_platform_signature_nonce_is_from_csprng(no_python_random: None) -> None:
    signer = Sm2Signer(PRIVATE)
    values = _r_values(lambda: bytes.fromhex(signer.sign("OperatorID+Data+TimeStamp+Seq")))
    assert len(values) == 3
    signature = signer.sign("m")
    assert signer.verify("m", signature)


def test_verify_refuses_out_of_range_integers() -> None:
    key = sm2.Sm2Key.from_hex(PRIVATE)
    good = key.sign(b"m")
    assert sm2.verify(key.public, good, b"m")
    zero_r = bytes(32) + good[32:]
    big_s = good[:32] + sm2.N.to_bytes(32, "big")
    for bad in (zero_r, big_s, good[:63], b""):
        assert not sm2.verify(key.public, bad, b"m")
    assert not sm2.verify(b"\x00" * 64, good, b"m")  # not a point on the curve


def test_der_round_trip() -> None:
    signature = sm2.Sm2Key.from_hex(PRIVATE).sign(b"m")
    assert sm2.from_der(sm2.to_der(signature)) == signature
    with pytest.raises(ValueError):
        sm2.from_der(b"\x30\x00garbage")


# --------------------------------------------------------------------------- OpenSSL 3


def _openssl_sm2_key(tmp_path: Path) -> tuple[Path, Path, str]:
    """A key pair made by OpenSSL: private PEM, public PEM, and the private scalar (hex)."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    key, pub = tmp_path / "k.pem", tmp_path / "pub.pem"
    made = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "SM2", "-out", str(key)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"this OpenSSL has no SM2: {made.stderr.strip()[:80]}")
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
    text = subprocess.run(
        ["openssl", "pkey", "-in", key, "-text", "-noout"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"priv:\s*([0-9a-f:\s]+?)\s*pub:", text)
    assert found, text
    return key, pub, re.sub(r"[^0-9a-f]", "", found.group(1)).rjust(64, "0")


def test_openssl_verifies_bench_signature(tmp_path: Path) -> None:
    _, pub, scalar = _openssl_sm2_key(tmp_path)
    message = tmp_path / "msg"
    message.write_bytes(b"report.sig manifest")
    (tmp_path / "sig.der").write_bytes(
        sm2.to_der(sm2.Sm2Key.from_hex(scalar).sign(message.read_bytes()))
    )
    checked = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", OPENSSL_ID,
         "-pubin", "-inkey", pub, "-in", message, "-sigfile", tmp_path / "sig.der"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_bench_verifies_openssl_signature(tmp_path: Path) -> None:
    key, _, scalar = _openssl_sm2_key(tmp_path)
    message = tmp_path / "msg"
    message.write_bytes(b"OperatorID+Data+TimeStamp+Seq")
    subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", OPENSSL_ID,
         "-inkey", key, "-in", message, "-out", tmp_path / "sig.der"],
        check=True,
    )  # fmt: skip
    signature = sm2.from_der((tmp_path / "sig.der").read_bytes())
    public = sm2.Sm2Key.from_hex(scalar).public
    assert sm2.verify(public, signature, message.read_bytes())
    assert not sm2.verify(public, signature, message.read_bytes() + b"!")
    assert Sm2Signer(scalar).verify(message.read_text(), signature.hex())
