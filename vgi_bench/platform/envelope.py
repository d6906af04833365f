"""The T/CEC 102.4 envelope: encrypted ``Data``, signed fields, configurable field names.

Request ``{OperatorID, Data, TimeStamp, Seq, Sig}`` with ``Sig`` over
``OperatorID‖Data‖TimeStamp‖Seq``; response ``{Ret, Msg, Data, Sig}`` with ``Sig`` over
``str(Ret)‖Msg‖Data``. The signature covers the ciphertext, so it is checked before
``Data`` is decrypted. Field names come from :class:`FieldNames` (deployments differ in
case, e.g. lower-case ``ret/msg/data/sig``).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vgi_bench.platform.algorithms import CryptoError, DataCipher, Signer, make_cipher, make_signer
from vgi_bench.platform.ret import Ret

ENVELOPE_FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig", "Ret", "Msg")


@dataclass(frozen=True)
class FieldNames:
    """Wire name of each envelope field (the standard's names unless the profile says)."""

    OperatorID: str = "OperatorID"
    Data: str = "Data"
    TimeStamp: str = "TimeStamp"
    Seq: str = "Seq"
    Sig: str = "Sig"
    Ret: str = "Ret"
    Msg: str = "Msg"

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, str] | None) -> FieldNames:
        return cls(**dict(overrides or {}))


class EnvelopeError(ValueError):
    """An envelope the receiver refuses, with the ``Ret`` code it answers."""

    def __init__(self, ret: int, reason: str) -> None:
        super().__init__(reason)
        self.ret = ret
        self.reason = reason


@dataclass(frozen=True)
class Request:
    """An opened (or to-be-sealed) request; ``data`` is the decrypted business payload."""

    operator_id: str
    data: Any
    timestamp: str
    seq: str


@dataclass(frozen=True)
class Response:
    """An opened response; ``data`` is the decrypted payload (``None`` when empty)."""

    ret: int
    msg: str
    data: Any = None


def timestamp_now(now: float | None = None) -> str:
    """``yyyyMMddHHmmss`` in local time (T/CEC 102.4 §4.4)."""
    return time.strftime("%Y%m%d%H%M%S", time.localtime(now if now is not None else time.time()))


@dataclass
class SeqCounter:
    """``Seq``: a 4-digit counter that restarts with each new second (thread-safe)."""

    _second: str = ""
    _n: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def next(self, timestamp: str) -> str:
        with self._lock:
            if timestamp != self._second:
                self._second, self._n = timestamp, 0
            self._n = self._n % 9999 + 1
            return f"{self._n:04d}"


def _json_text(data: Any) -> str:
    return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)


@dataclass(frozen=True)
class EnvelopeCodec:
    """Seals and opens envelopes with one set of secrets and algorithms."""

    cipher: DataCipher
    signer: Signer
    names: FieldNames = field(default_factory=FieldNames)

    @classmethod
    def from_config(cls, config: Any) -> EnvelopeCodec:
        """From a :class:`vgi_bench.profile.PlatformConfig` (or anything with its attributes)."""
        missing = [k for k in ("data_secret", "data_iv", "sig_secret") if not getattr(config, k)]
        if missing:
            raise CryptoError(f"[platform] needs {', '.join(missing)}")
        return cls(
            make_cipher(config.cipher, config.data_secret, config.data_iv),
            make_signer(config.signature, config.sig_secret, config.sm2_public_key),
            FieldNames.from_overrides(config.field_names),
        )

    def with_signer(self, signer: Signer) -> EnvelopeCodec:
        return dataclasses.replace(self, signer=signer)

    # ---------------------------------------------------------------- requests

    def request_signed_text(self, operator_id: str, data: str, timestamp: str, seq: str) -> str:
        return f"{operator_id}{data}{timestamp}{seq}"

    def seal_request(self, request: Request) -> dict[str, str]:
        n = self.names
        data = self.cipher.encrypt(_json_text(request.data))
        text = self.request_signed_text(request.operator_id, data, request.timestamp, request.seq)
        return {
            n.OperatorID: request.operator_id,
            n.Data: data,
            n.TimeStamp: request.timestamp,
            n.Seq: request.seq,
            n.Sig: self.signer.sign(text),
        }

    def open_request(self, body: Any) -> Request:
        """Check an incoming request; :class:`EnvelopeError` with the Ret to answer."""
        n = self.names
        if not isinstance(body, dict):
            raise EnvelopeError(Ret.POST_PARAMS, "body is not a JSON object")
        fields = (n.OperatorID, n.Data, n.TimeStamp, n.Seq, n.Sig)
        missing = [f for f in fields if f not in body]
        if missing:
            raise EnvelopeError(Ret.POST_PARAMS, f"missing {', '.join(missing)}")
        wrong = [f for f in fields if not isinstance(body[f], str)]
        if wrong:
            raise EnvelopeError(Ret.POST_PARAMS, f"not a string: {', '.join(wrong)}")
        ts, seq = body[n.TimeStamp], body[n.Seq]
        if not (len(ts) == 14 and ts.isdigit()) or not (len(seq) == 4 and seq.isdigit()):
            raise EnvelopeError(Ret.POST_PARAMS, "TimeStamp or Seq malformed")
        text = self.request_signed_text(body[n.OperatorID], body[n.Data], ts, seq)
        if not self.signer.verify(text, body[n.Sig]):
            raise EnvelopeError(Ret.SIGNATURE, "signature does not verify")
        data = self._decrypt(body[n.Data], Ret.POST_PARAMS)
        return Request(body[n.OperatorID], data, ts, seq)

    # ---------------------------------------------------------------- responses

    def response_signed_text(self, ret: int, msg: str, data: str) -> str:
        return f"{ret}{msg}{data}"

    def seal_response(self, response: Response) -> dict[str, Any]:
        n = self.names
        data = "" if response.data is None else self.cipher.encrypt(_json_text(response.data))
        text = self.response_signed_text(response.ret, response.msg, data)
        return {
            n.Ret: int(response.ret),
            n.Msg: response.msg,
            n.Data: data,
            n.Sig: self.signer.sign(text),
        }

    def open_response(self, body: Any) -> Response:
        """Check a response; :class:`EnvelopeError` (Ret of the fault) if it is not sound."""
        n = self.names
        if not isinstance(body, dict):
            raise EnvelopeError(Ret.POST_PARAMS, "response is not a JSON object")
        missing = [f for f in (n.Ret, n.Msg, n.Data, n.Sig) if f not in body]
        if missing:
            raise EnvelopeError(Ret.POST_PARAMS, f"response lacks {', '.join(missing)}")
        ret, msg, data, sig = body[n.Ret], body[n.Msg], body[n.Data], body[n.Sig]
        if isinstance(ret, bool) or not isinstance(ret, int):
            raise EnvelopeError(Ret.POST_PARAMS, f"response Ret is not an integer: {ret!r}")
        if not all(isinstance(v, str) for v in (msg, data, sig)):
            raise EnvelopeError(Ret.POST_PARAMS, "response Msg, Data or Sig is not a string")
        if not self.signer.verify(self.response_signed_text(ret, msg, data), sig):
            raise EnvelopeError(Ret.SIGNATURE, "response signature does not verify")
        return Response(ret, msg, self._decrypt(data, Ret.POST_PARAMS) if data else None)

    def _decrypt(self, data: str, ret: int) -> Any:
        try:
            text = self.cipher.decrypt(data)
        except CryptoError as exc:
            raise EnvelopeError(ret, str(exc)) from None
        try:
            return json.loads(text)
        except ValueError:
            raise EnvelopeError(ret, f"Data is not JSON: {text[:80]!r}") from None
