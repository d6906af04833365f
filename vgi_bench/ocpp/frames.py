"""OCPP-J RPC frames (CALL, CALLRESULT, CALLERROR) parsed without ever raising.

``ocpp.messages.unpack`` raises on what it cannot parse and the library's ``ChargePoint``
then only logs the frame; a bench must instead see garbage as data (to report it, or to
answer it with a CALLERROR as OCPP-J requires), so :func:`parse_frame` returns a
:class:`Frame` of kind ``garbage`` with the reason. Encoding reuses ``ocpp.messages``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ocpp.messages import Call, CallError, CallResult

#: OCPP-J error codes (2.0.1 Part 4 §4.3; 1.6 OCPP-J §4.2.3 spells FormationViolation).
ERROR_CODES_201 = frozenset(
    {
        "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
        "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
        "TypeConstraintViolation",
    }
)  # fmt: skip
ERROR_CODES_16 = frozenset(
    {
        "FormationViolation", "GenericError", "InternalError", "NotImplemented",
        "NotSupported", "OccurrenceConstraintViolation", "PropertyConstraintViolation",
        "ProtocolError", "SecurityError", "TypeConstraintViolation",
    }
)  # fmt: skip
#: Codes that say "your payload is wrong", in either version.
PAYLOAD_ERROR_CODES = frozenset(
    {
        "FormatViolation", "FormationViolation", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "TypeConstraintViolation",
    }
)  # fmt: skip
#: The message id OCPP-J uses in a CALLERROR answering a frame whose id cannot be read.
UNKNOWN_ID = "-1"
MAX_ID_LENGTH = 36


def error_codes(version: str) -> frozenset[str]:
    return ERROR_CODES_16 if version == "1.6" else ERROR_CODES_201


def format_violation_code(version: str) -> str:
    return "FormationViolation" if version == "1.6" else "FormatViolation"


class Kind(str, Enum):
    CALL = "call"
    RESULT = "result"
    ERROR = "error"
    GARBAGE = "garbage"
    EVENT = "event"  # not a frame: a bench note in the log (connect, refuse, close)


@dataclass(frozen=True)
class Frame:
    """One websocket text message as OCPP-J sees it."""

    kind: Kind
    unique_id: str | None = None
    action: str | None = None  # CALL only
    payload: Any = None  # CALL/CALLRESULT payload; CALLERROR errorDetails
    error_code: str | None = None
    error_description: str | None = None
    reason: str = ""  # why it is garbage
    message_type_id: Any = None  # as sent (garbage may carry an unknown type id)
    raw: str = field(default="", repr=False)

    def describe(self) -> str:
        if self.kind is Kind.CALL:
            return f"CALL {self.action} [{self.unique_id}] {_short(self.payload)}"
        if self.kind is Kind.RESULT:
            return f"CALLRESULT [{self.unique_id}] {_short(self.payload)}"
        if self.kind is Kind.ERROR:
            return f"CALLERROR [{self.unique_id}] {self.error_code} {self.error_description!r}"
        if self.kind is Kind.EVENT:
            return f"event: {self.reason}"
        return f"garbage ({self.reason}): {_short(self.raw)}"


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _garbage(raw: str, reason: str, type_id: Any = None, unique_id: Any = None) -> Frame:
    uid = unique_id if isinstance(unique_id, str) else None
    return Frame(Kind.GARBAGE, uid, reason=reason, message_type_id=type_id, raw=raw)


def parse_frame(raw: str | bytes) -> Frame:
    """Parse one websocket message; never raises (garbage comes back as ``Kind.GARBAGE``)."""
    if isinstance(raw, bytes):
        binary = raw
        try:
            raw = binary.decode("utf-8")
        except UnicodeDecodeError:
            return _garbage(binary.decode("utf-8", "replace"), "binary frame, not UTF-8")
        reason_prefix = "binary frame; "
    else:
        reason_prefix = ""
    try:
        msg = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        return _garbage(raw, reason_prefix + "not JSON")
    if not isinstance(msg, list) or not msg:
        return _garbage(raw, reason_prefix + "not a non-empty JSON array")
    type_id, rest = msg[0], msg[1:]
    uid = rest[0] if rest else None
    if type_id not in (2, 3, 4) or isinstance(type_id, bool):
        return _garbage(raw, f"unknown MessageTypeId {type_id!r}", type_id, uid)
    if not isinstance(uid, str) or not uid or len(uid) > MAX_ID_LENGTH:
        return _garbage(raw, f"MessageId must be a string of 1..36 characters, got {uid!r}")
    shapes = {2: 3, 3: 2, 4: 4}
    if len(rest) != shapes[type_id]:
        return _garbage(
            raw, f"MessageTypeId {type_id} needs {shapes[type_id] + 1} elements", type_id, uid
        )
    if type_id == 2:
        action, payload = rest[1], rest[2]
        if not isinstance(action, str) or not isinstance(payload, dict):
            return _garbage(raw, "CALL needs a string action and an object payload", 2, uid)
        return Frame(Kind.CALL, uid, action, payload, message_type_id=2, raw=raw)
    if type_id == 3:
        if not isinstance(rest[1], dict):
            return _garbage(raw, "CALLRESULT payload must be an object", 3, uid)
        return Frame(Kind.RESULT, uid, payload=rest[1], message_type_id=3, raw=raw)
    code, description, details = rest[1], rest[2], rest[3]
    if not isinstance(code, str) or not isinstance(description, str):
        return _garbage(raw, "CALLERROR code and description must be strings", 4, uid)
    return Frame(
        Kind.ERROR, uid, payload=details, error_code=code, error_description=description,
        message_type_id=4, raw=raw,
    )  # fmt: skip


def encode_call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return Call(unique_id, action, payload).to_json()


def encode_result(unique_id: str, payload: dict[str, Any]) -> str:
    return CallResult(unique_id, payload).to_json()


def encode_error(
    unique_id: str, code: str, description: str = "", details: dict[str, Any] | None = None
) -> str:
    return CallError(unique_id, code, description[:255], details or {}).to_json()
