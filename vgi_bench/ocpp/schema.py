"""Schema checks of OCPP payloads against the official JSON schemas shipped with ``ocpp``.

``ocpp.messages`` validates by raising on the first error; a bench wants every
violation, named by field, as data (a DUT's invalid payload is a failed case, not a
crash). Written here by hand: ``date-time`` format checking (the library's validators
have no format checker, so timestamps go unchecked there) and the mapping of a violation
to the OCPP-J error code a receiver should answer with.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from ocpp.messages import MessageType, get_validator

from vgi_bench.ocpp.frames import format_violation_code

_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    """RFC 3339 date-time with a zone (``Z`` or an offset)."""
    if not isinstance(value, str):
        return True
    if "T" not in value.upper() or not (value.endswith(("Z", "z")) or value[-6] in "+-"):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time with a time zone")
    datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return True


@dataclass(frozen=True)
class Violation:
    """One way a payload breaks its schema: the field, the rule, and what was wrong."""

    field: str  # JSON path like "chargingStation.model" ("" for the payload itself)
    rule: str  # the JSON-schema keyword: required, type, enum, maxLength, ...
    message: str

    def describe(self) -> str:
        where = self.field or "payload"
        return f"{where}: {self.message} ({self.rule})"


class UnknownSchema(LookupError):
    """No schema for this action in this OCPP version (the action is not in the standard)."""


def _field_path(err: ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in err.absolute_path]
    path = ".".join(parts).replace(".[", "[")
    if err.validator == "required":  # the missing property itself is the field
        missing = err.message.split("'")[1] if "'" in err.message else ""
        path = f"{path}.{missing}" if path else missing
    if err.validator == "additionalProperties":
        extra = err.message.split("'")[1] if "'" in err.message else ""
        path = f"{path}.{extra}" if path else extra
    return path


@cache
def _validator(version: str, message_type_id: int, action: str) -> Draft4Validator:
    try:
        library = get_validator(message_type_id, action, version)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise UnknownSchema(f"no OCPP {version} schema for {action}") from exc
    # 1.6 limits carry ``multipleOf: 0.1``: compare as decimals, as ``ocpp.messages`` does.
    schema = json.loads(json.dumps(library.schema), parse_float=Decimal)
    return Draft4Validator(schema, format_checker=_FORMATS)


def has_schema(version: str, action: str) -> bool:
    try:
        _validator(version, MessageType.Call, action)
    except UnknownSchema:
        return False
    return True


def check_payload(version: str, action: str, payload: Any, *, response: bool) -> list[Violation]:
    """Every violation of ``payload`` against the request (or response) schema of ``action``.

    Raises :class:`UnknownSchema` for an action the version does not define.
    """
    kind = MessageType.CallResult if response else MessageType.Call
    validator = _validator(version, kind, action)
    payload = json.loads(json.dumps(payload), parse_float=Decimal)
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    return [Violation(_field_path(e), str(e.validator), e.message) for e in errors]


def error_code_for(violations: list[Violation], version: str) -> str:
    """The OCPP-J CALLERROR code for a payload with these violations (Part 4 §4.3)."""
    rules = {v.rule for v in violations}
    if "required" in rules:
        return "OccurrenceConstraintViolation"
    if "type" in rules:
        return "TypeConstraintViolation"
    if rules & {"additionalProperties"}:
        return format_violation_code(version)
    return "PropertyConstraintViolation"


def describe(violations: list[Violation]) -> str:
    return "; ".join(v.describe() for v in violations)
