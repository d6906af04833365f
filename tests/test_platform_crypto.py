"""Known-answer tests of every envelope algorithm, and the envelope both ways.

Vectors: T/CEC 102.4 App. C.3 and the query_token pair published with Xiaoju's
interconnection guide (AES-128-CBC + HMAC-MD5, keys ``1234567890abcdef``); SM3 "abc"
(GB/T 32905 App. A); SM4 (GB/T 32907 App. A); SM2 (GB/T 32918.5 A.2: the key pair and r
from the standard, s computed independently from (1+d)^-1 (k - r d) mod n); SM4-CBC and
HMAC-SM3 with independent computations (a second implementation each: ECB blocks XOR-ed
by hand, HMAC built from the bare hash per RFC 2104).
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from vgi_bench.platform.algorithms import CryptoError, Sm2Signer, make_cipher, make_signer
from vgi_bench.platform.envelope import EnvelopeCodec, EnvelopeError, FieldNames, Request, Response
from vgi_bench.platform.ret import Ret

KEY = "1234567890abcdef"

TOKEN_REQUEST = {
    "OperatorID": "123456789",
    "Data": (
        "mYvffpNoFf4E/ZTC1tOw41TC5OlkEobfAYCm5N8hEusaLUaUIqOrXtdbMrSck0DSmfM7mRuOGMoCQzH0nWPGuw=="
    ),
    "TimeStamp": "20180120165755",
    "Seq": "0001",
    "Sig": "D2D584A14F3F284445DF85D0E8C0697C",
}
TOKEN_RESPONSE = {
    "Ret": 0,
    "Msg": "",
    "Data": (
        "uxeKP0ezR5yL8xSg4/ZCDh/N91/u86NXFxd2DrwZVW8zCPYcpl59Twz/yQZ3RaO4rDDrGmkvQignmNEJ+k4PGxdm"
        "IC+4fpJ8rU6osSobY+AeA0uueuQ5+eQiWBL6p6v5XMMm91brtK8yfFELYUWQzVcxABnAwK/+dyxtUhqLIxUpkwTE"
        "U/4ktN40df9IzzlLO5uvUknPGYu9yL0pp5w9vdRxmA1RiiTDNCysz6klr9bunGV3VJa2qpLcgeZMf/oG"
    ),
    "Sig": "58E52010C7DEE87FE183B0AFA5B2BE30",
}
APPENDIX_C3 = {
    "OperatorID": "123456789",
    "Data": (
        "il7B0BSEjFdzpyKzfOFpvg/Se1CP802RItKYFPfSLRxJ3jf0bVl9hvYOEktPAYW2nd7S8MBcyHYyacHKbISq5iTm"
        "DzG+ivnR+SZJv3USNTYVMz9rCQVSxd0cLlqsJauko79NnwQJbzDTyLooYoIwz75qBOH2/xOMirpeEqRJrF/EQjWe"
        "kJmGk9RtboXePu2rka+Xm51syBPhiXJAq0GfbfaFu9tNqs/e2Vjja/ltE1M0lqvxfXQ6da6HrThsm5id4ClZFIi0"
        "acRfrsPLRixS/IQYtksxghvJwbqOsbIsITail9Ayy4tKcogeEZiOO+4Ed264NSKmk7l3wKwJLAFjCFogBx8GE3OB"
        "z4pqcAn/ydA="
    ),
    "TimeStamp": "20160729142400",
    "Seq": "0001",
    "Sig": "745166E8C43C84D37FFEC0F529C4136F",
}

SM2_PRIVATE = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
SM2_PUBLIC = (
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
SM2_K = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"
SM2_R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def aes_codec() -> EnvelopeCodec:
    return EnvelopeCodec(make_cipher("aes-128-cbc", KEY, KEY), make_signer("hmac-md5", KEY))


def test_appendix_c3_signature() -> None:
    codec = aes_codec()
    c = APPENDIX_C3
    text = codec.request_signed_text(c["OperatorID"], c["Data"], c["TimeStamp"], c["Seq"])
    assert codec.signer.sign(text) == c["Sig"]
    plain = codec.cipher.decrypt(c["Data"])  # the appendix's plaintext is not strict JSON
    assert '"status":4' in plain.replace(" ", "")


def test_published_query_token_pair() -> None:
    codec = aes_codec()
    request = codec.open_request(dict(TOKEN_REQUEST))
    assert request.data == {"OperatorID": "123456789", "OperatorSecret": KEY}
    response = codec.open_response(dict(TOKEN_RESPONSE))
    assert response.ret == 0 and response.data["TokenAvailableTime"] == 7200


def test_request_and_response_round_trip_and_tampering() -> None:
    for cipher in ("aes-128-cbc", "sm4-cbc"):
        for signature, secret in (("hmac-md5", KEY), ("hmac-sm3", KEY), ("sm2", SM2_PRIVATE)):
            codec = EnvelopeCodec(make_cipher(cipher, KEY, KEY), make_signer(signature, secret))
            sealed = codec.seal_request(
                Request("123456789", {"PageNo": 1}, "20260101000000", "0001")
            )
            assert codec.open_request(dict(sealed)).data == {"PageNo": 1}
            with pytest.raises(EnvelopeError) as err:
                codec.open_request({**sealed, "Seq": "0002"})
            assert err.value.ret == Ret.SIGNATURE
            answer = codec.seal_response(Response(0, "ok", {"Status": 0}))
            assert codec.open_response(answer).data == {"Status": 0}
            with pytest.raises(EnvelopeError):
                codec.open_response({**answer, "Msg": "changed"})


def test_field_name_overrides() -> None:
    names = FieldNames.from_overrides({"Ret": "ret", "Msg": "msg", "Data": "data", "Sig": "sig"})
    codec = EnvelopeCodec(make_cipher("aes-128-cbc", KEY, KEY), make_signer("hmac-md5", KEY), names)
    answer = codec.seal_response(Response(0, "", {"a": 1}))
    assert set(answer) == {"ret", "msg", "data", "sig"}
    assert codec.open_response(answer).data == {"a": 1}


def test_sm3_abc() -> None:
    h = hashes.Hash(hashes.SM3())
    h.update(b"abc")
    assert h.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_standard_example_and_cbc() -> None:
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    ecb = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert ecb.update(key).hex() == "681edf34d206965e86b3e94f536e4246"
    # SM4-CBC of the bench == ECB of (block XOR previous) done by hand, with PKCS#7
    cipher = make_cipher("sm4-cbc", KEY, "fedcba0987654321")
    plain = b'{"x":1}' + bytes([9]) * 9
    block = bytes(a ^ b for a, b in zip(plain, b"fedcba0987654321", strict=True))
    manual = Cipher(algorithms.SM4(KEY.encode()), modes.ECB()).encryptor().update(block)
    assert base64.b64decode(cipher.encrypt('{"x":1}')) == manual
    assert cipher.decrypt(cipher.encrypt("中文")) == "中文"


def test_hmac_sm3_matches_rfc2104_construction() -> None:
    def sm3(data: bytes) -> bytes:
        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize()

    key = KEY.encode().ljust(64, b"\0")
    inner = sm3(bytes(b ^ 0x36 for b in key) + b"message")
    expected = sm3(bytes(b ^ 0x5C for b in key) + inner).hex().upper()
    assert make_signer("hmac-sm3", KEY).sign("message") == expected


def test_hmac_md5_rfc2202() -> None:
    signer = make_signer("hmac-md5", "Jefe")
    assert signer.sign("what do ya want for nothing?") == "750C783E6AB0B503EAA86E310A5DB738"


def test_sm2_standard_example() -> None:
    signer = Sm2Signer(SM2_PRIVATE)
    assert signer.public_key == SM2_PUBLIC
    d, k, r = int(SM2_PRIVATE, 16), int(SM2_K, 16), int(SM2_R, 16)
    s = pow(1 + d, -1, SM2_N) * (k - r * d) % SM2_N
    signature = signer.sign("message digest", SM2_K.lower())
    assert signature == SM2_R + f"{s:064X}"
    assert signer.verify("message digest", signature)
    assert not signer.verify("message digesT", signature)
    assert not signer.verify("message digest", "zz")


def test_bad_keys_and_ciphertexts_are_errors_not_crashes() -> None:
    with pytest.raises(CryptoError):
        make_cipher("aes-128-cbc", "short", KEY)
    with pytest.raises(CryptoError):
        make_signer("rsa", KEY)
    with pytest.raises(CryptoError):
        aes_codec().cipher.decrypt("not base64!")
    codec = aes_codec()
    for body in ([], {"OperatorID": 1}, {**TOKEN_REQUEST, "Seq": 1}, json.loads("{}")):
        with pytest.raises(EnvelopeError) as err:
            codec.open_request(body)
        assert err.value.ret == Ret.POST_PARAMS
