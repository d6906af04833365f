"""The bench profile: which DUT is tested, and how the bench reaches it.

A profile is a TOML file (see CONTRACT.md / README for the format)::

    [dut]                  # identity, printed on the report (all four keys required)
    vendor = "..."; model = "..."; serial = "..."; firmware = "..."
    [can]                  # passed to python-can
    interface = "socketcan"; channel = "can0"; bitrate = 250000
    [instruments]          # optional: the VISA library every instrument is opened with
    visa_library = "@py"   # pyvisa-py (default); "@ivi" NI-VISA/Keysight; a library path
    [instruments.supply]   # one table per instrument
    driver = "..."; resource = "TCPIP::..."; limits = { max_voltage_v = 1000 }
    [ocpp]
    version = "2.0.1"; listen = "127.0.0.1:9000"; url = "ws://..."; ...
    [platform]
    url = "http://..."; listen = "127.0.0.1:8081"; cipher = "aes-128-cbc"; ...
    [gbt27930]             # optional
    edition = "2015"       # or "2023a" (2023 Class A), "v2g-draft" (a draft, not a standard)
    [report]               # optional: who signs the report, in which language
    lab = "..."; operator = "..."; signing_key = "lab-ed25519.pem"; language = "en"

``[gbt27930] edition`` picks the GB/T 27930 message set (``MessageTable.edition``) for the
whole run: the bench's roles, the simulated DUT and the capture. Without the section it
is ``"2015"``.

``[report]`` names the lab and operator printed on the report's cover, the PEM file of
the lab's Ed25519 private key that signs ``report.sig`` (relative to the profile's
directory; without it the bench signs with its own per-machine key, see
``vgi_bench.reports.signing``), and the report's ``language`` (``"en"`` or ``"zh-CN"``).

Extensions to the contract's format in ``[dut]``:

* ``simulated = true`` -- the DUT is not a real device: the bench starts its own
  reference DUT in-process for each suite (the embedded default profile does this).
* ``faults = ["name", ...]`` -- named faults switched on in that simulated DUT
  (``vgi-bench sim --list-faults ROLE`` lists them); only allowed with ``simulated``.

Other rules:

* ``[can]`` keys beyond ``interface``/``channel``/``bitrate`` are python-can's own bus
  configuration (``receive_own_messages``, ``fd``, ``data_bitrate``, ``app_name``, ...)
  and go to :attr:`CanConfig.options` unchanged, unless they look like a misspelling of
  one of the three (``bitrat``), which is refused. ``channel`` may be an integer; it is
  stored as a string.
* ``[instruments.NAME]`` has ``driver`` (required), ``resource``, ``limits`` (a table of
  numbers); further keys go to :attr:`InstrumentConfig.options` in the same way.
  Keys of ``[instruments]`` itself that are not tables are the rack's settings
  (:class:`RackConfig`: ``visa_library``).
* Relative certificate paths in ``[ocpp]`` and ``[platform]`` are resolved against the
  profile's directory.
* Anything else that is unknown, of the wrong type or out of range is refused with a
  :class:`ProfileError` whose one-line message names the key.

Validation is declarative: each section is a table of field name -> :class:`_Field`.
The same tables give the profile's JSON Schema (:func:`profile_schema`, shipped as
``vgi_bench/data/profile.schema.json``, printed by ``vgi-bench schema``) for editors that
validate TOML: each check carries the JSON Schema words that say what it accepts.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from vgi_bench.gbt27930.editions import DEFAULT_EDITION, EDITIONS
from vgi_bench.ocpp.operator import ACTIONS as OPERATOR_ACTIONS
from vgi_bench.ocpp.operator import check_operator_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_SOURCE",
    "DEFAULT_VISA_LIBRARY",
    "SECRET_KEYS",
    "CanConfig",
    "DutInfo",
    "Gbt27930Config",
    "InstrumentConfig",
    "OcppConfig",
    "PlatformConfig",
    "PowerConfig",
    "Profile",
    "ProfileError",
    "RackConfig",
    "ReportConfig",
    "load_profile",
    "parse_profile",
    "profile_schema",
    "profile_schema_text",
    "shipped_schema_path",
]

DEFAULT_SOURCE = "<default>"
MASK = "***"
#: Keys whose values never leave the process (masked in :meth:`Profile.to_dict`).
SECRET_KEYS = frozenset(
    {"password", "operator_secret", "data_secret", "data_iv", "sig_secret", "key"}
)
_SECRET_WORDS = ("password", "secret", "token", "passphrase")


class ProfileError(ValueError):
    """A profile that cannot be used; ``str(err)`` is one line naming the file and key."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class DutInfo:
    """The device under test.

    ``simulated`` and ``faults`` extend the contract: with ``simulated=True`` the bench
    starts its own reference DUT in-process for each suite, with the named ``faults``
    switched on in it.
    """

    vendor: str
    model: str
    serial: str
    firmware: str
    simulated: bool = False
    faults: tuple[str, ...] = ()
    description: str = ""  # what the item is, in words, on the report's cover
    rating: str = ""  # e.g. "DC 200-750 V, 0-250 A, 120 kW"
    connector: str = ""  # e.g. "GB/T 20234.3 DC"
    hardware: str = ""  # hardware revision


@dataclass(frozen=True)
class CanConfig:
    """``[can]``: ``interface``/``channel``/``bitrate`` plus python-can's own ``options``.

    ``vgi_bench.can.bus.open_bus`` turns these into ``can.Bus`` arguments.
    """

    interface: str
    channel: str
    bitrate: int = 250000
    options: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class InstrumentConfig:
    """``[instruments.NAME]``: driver name, VISA resource, safety limits, driver options."""

    driver: str
    resource: str = ""
    limits: dict[str, float] = field(default_factory=dict, hash=False)
    serial: str = ""
    calibration_date: datetime.date | None = None
    calibration_due: datetime.date | None = None
    #: quantity -> (fraction of reading, absolute) accuracy from the instrument's data sheet
    accuracy: dict[str, tuple[float, float]] = field(default_factory=dict, hash=False)
    allow_expired_calibration: bool = False  # else a power case refuses to run
    channels: dict[str, int] = field(default_factory=dict, hash=False)  # relay boards
    options: dict[str, Any] = field(default_factory=dict, hash=False)


#: pyvisa-py: works with no vendor VISA installed (TCPIP, and USB/GPIB with the extras).
DEFAULT_VISA_LIBRARY = "@py"


@dataclass(frozen=True)
class RackConfig:
    """``[instruments]`` keys beside the instrument tables: settings of the whole rack.

    ``visa_library`` is what ``pyvisa.ResourceManager`` is opened with, one for every VISA
    instrument: ``"@py"`` (pyvisa-py), ``"@ivi"`` (the installed IVI VISA: NI-VISA,
    Keysight IO Libraries, R&S VISA), a VISA library's path (``path@ivi``), ``"@sim"``
    (pyvisa-sim, ``file.yaml@sim``) or another ``pyvisa_NAME`` backend as ``"@NAME"``.
    """

    visa_library: str = DEFAULT_VISA_LIBRARY


@dataclass(frozen=True)
class OcppConfig:
    """``[ocpp]``: the bench as CSMS (``listen``) or as charge point (``url``)."""

    version: str = "2.0.1"
    listen: str | None = None
    url: str | None = None
    charge_point_id: str | None = None
    security_profile: int = 0
    password: str | None = None
    ca_cert: str | None = None
    cert: str | None = None
    key: str | None = None
    ca_key: str | None = None  # the CA's private key: lets cases sign certificates it trusts
    call_timeout_s: float = 10.0  # wait for the answer to a CALL the bench sends
    timeouts: dict[str, float] = field(default_factory=dict, hash=False)  # action -> s
    # operator action at the CSMS under test -> command template (vgi_bench.ocpp.operator)
    operator: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class PlatformConfig:
    """``[platform]``: T/CEC 102-style platform interconnection."""

    url: str | None = None
    listen: str | None = None
    operator_id: str | None = None
    operator_secret: str | None = None
    data_secret: str | None = None
    data_iv: str | None = None
    sig_secret: str | None = None
    cipher: str = "aes-128-cbc"
    signature: str = "hmac-md5"
    # Bench extensions (README, "The platform suites"):
    peer_operator_id: str | None = None  # the DUT's identity when it calls the bench
    peer_operator_secret: str | None = None  # (default: operator_id / operator_secret)
    field_names: dict[str, str] = field(default_factory=dict, hash=False)
    endpoints: dict[str, str] = field(default_factory=dict, hash=False)  # logical -> wire name
    sm2_public_key: str | None = None  # the peer's; derived from sig_secret when absent
    timeout_s: float = 10.0  # per HTTP exchange
    ack_limit_s: float = 5.0  # an answer or a push the bench waits for
    token_ttl_s: int = 7200  # token lifetime the simulated reference platforms issue
    token_wait_max_s: float = 30.0  # longest the token-expiry case waits
    max_body_bytes: int = 1048576  # the oversized-body case sends more than this
    realtime_period_s: float = 15.0  # gridplat: required real-time upload period
    charge_status_period_s: float = 50.0  # notification_equip_charge_status period
    check_orders_wait_s: float = 60.0  # longest wait for a check_charge_orders push
    retry_wait_s: float = 90.0  # longest wait for a refused push to come again
    ca_cert: str | None = None  # trust for an https:// url of the DUT
    cert: str | None = None  # the bench's server identity at ``listen`` (HTTPS when set)
    key: str | None = None


@dataclass(frozen=True)
class Gbt27930Config:
    """``[gbt27930]``: which GB/T 27930 message set (a key of ``EDITIONS``) the run uses."""

    edition: str = DEFAULT_EDITION


@dataclass(frozen=True)
class PowerConfig:
    """``[power]``: the power suite's battery and the DUT's rating (its load points)."""

    rated_power_w: float = 90_000.0
    battery_voltage_v: float = 380.0
    internal_resistance_ohm: float = 0.05  # set on supplies that emulate it
    watchdog_s: float = 5.0  # the supply's comm watchdog while a case runs
    sample_period_s: float = 0.05  # analyzer polling


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: lab identity on the cover, the signing key, the report's language."""

    lab: str = ""
    operator: str = ""
    signing_key: str | None = None
    language: str = "en"
    signature: str = "ed25519"  # or "sm2" (then signing_key holds 64 hex characters)
    pdf_signing_key: str | None = None  # PEM key of the PDF signature (PAdES), with:
    pdf_certificate: str | None = None  # its X.509 certificate (PEM), and optionally
    pdf_chain: str | None = None  # the intermediate CA certificates (PEM)
    # ISO/IEC 17025 §7.8 report content (vgi_bench/reports/cover.py):
    number: str = ""  # the report number; derived from the run when empty
    number_prefix: str = "VGI"  # the derived number's prefix (the lab's code)
    lab_address: str = ""
    accreditation: str = ""  # accreditation number, e.g. "CNAS L1234"
    accreditation_body: str = ""  # e.g. "CNAS"
    customer: str = ""
    customer_address: str = ""
    location: str = ""  # where the tests were done
    ambient_temperature_c: float | None = None
    relative_humidity_pct: float | None = None
    tested_by: str = ""  # default: operator
    reviewed_by: str = ""
    approved_by: str = ""
    deviations: tuple[str, ...] = ()  # departures from the methods, stated by the lab
    #: ILAC-G8 decision rule of every timing and electrical verdict (vgi_bench/decision.py):
    #: "guarded" (guard band w = U) or "simple" (w = 0, shared risk)
    decision_rule: str = "guarded"


@dataclass(frozen=True)
class Profile:
    """A validated profile. ``source`` is the file path, or ``"<default>"``."""

    dut: DutInfo
    can: CanConfig | None = None
    instruments: dict[str, InstrumentConfig] = field(default_factory=dict, hash=False)
    rack: RackConfig = field(default_factory=RackConfig)
    ocpp: OcppConfig | None = None
    platform: PlatformConfig | None = None
    gbt27930: Gbt27930Config = field(default_factory=Gbt27930Config)
    power: PowerConfig = field(default_factory=PowerConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    source: str = DEFAULT_SOURCE
    raw: dict[str, Any] = field(default_factory=dict, hash=False, repr=False)

    @property
    def is_default(self) -> bool:
        return self.source == DEFAULT_SOURCE

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form for ``summary.json``, with secrets replaced by ``***``."""
        return {
            "source": self.source,
            "dut": _jsonable(dataclasses.asdict(self.dut)),
            "can": _section_dict(self.can),
            "instruments": {name: _section_dict(inst) for name, inst in self.instruments.items()},
            "rack": _section_dict(self.rack),
            "ocpp": _section_dict(self.ocpp),
            "platform": _section_dict(self.platform),
            "gbt27930": _section_dict(self.gbt27930),
            "power": _section_dict(self.power),
            "report": _section_dict(self.report),
        }


def _section_dict(obj: Any) -> dict[str, Any] | None:
    if obj is None:
        return None
    return _masked(_jsonable(dataclasses.asdict(obj)))


def _is_secret(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or any(word in lowered for word in _SECRET_WORDS)


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (MASK if _is_secret(str(k)) and v is not None else _masked(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    """TOML values (dates, times, tuples, nested tables) as plain JSON types."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------- schema


class _Invalid(Exception):
    """Internal: a one-line reason, turned into ProfileError with the source prefixed."""


_REQUIRED = object()

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    list: "an array",
    dict: "a table",
    datetime.date: "a date (YYYY-MM-DD)",
}


@dataclass(frozen=True)
class _Check:
    """A value check (returns a reason, or None when the value is fine) and the JSON
    Schema words that accept the same values, for :func:`profile_schema`."""

    test: Callable[[Any], str | None]
    schema: Mapping[str, Any]

    def __call__(self, value: Any) -> str | None:
        return self.test(value)


def _schema(**words: Any) -> Callable[[Callable[[Any], str | None]], _Check]:
    """Decorate a check with its JSON Schema words."""

    def wrap(test: Callable[[Any], str | None]) -> _Check:
        return _Check(test, words)

    return wrap


@dataclass(frozen=True)
class _Field:
    """How one key of a section is checked and converted."""

    types: tuple[type, ...]
    default: Any = _REQUIRED
    choices: tuple[Any, ...] | None = None
    bounds: tuple[int, int] | None = None  # inclusive
    items: type | None = None  # element type of an array
    check: Callable[[Any], str | None] | None = None  # returns a reason or None
    convert: Callable[[Any], Any] | None = None
    path: bool = False  # a file path, resolved against the profile's directory
    doc: str = ""  # the key's description in the JSON Schema (editors show it)


@dataclass(frozen=True)
class _Section:
    cls: type
    fields: dict[str, _Field]
    extras: bool = False  # further keys go to ``options`` (misspellings refused)
    rules: Mapping[str, Any] = field(default_factory=dict)  # JSON Schema of a cross-key rule


@_schema(exclusiveMinimum=0)
def _positive(value: int) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


@_schema(
    pattern=r"^.+:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}"
    r"|655[0-2][0-9]|6553[0-5])$"
)
def _host_port(value: str) -> str | None:
    host, sep, port = value.rpartition(":")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return None
    return f"must be HOST:PORT, got {value!r}"


def _scheme(*schemes: str) -> _Check:
    def check(value: str) -> str | None:
        if any(value.startswith(f"{s}://") and len(value) > len(s) + 3 for s in schemes):
            return None
        wanted = " or ".join(f"{s}://" for s in schemes)
        return f"must be a {wanted} URL, got {value!r}"

    return _Check(check, {"pattern": f"^({'|'.join(schemes)})://."})


def _length(n: int) -> _Check:
    def check(value: str) -> str | None:
        size = len(value.encode("utf-8"))
        return None if size == n else f"must be {n} bytes long, got {size}"

    # JSON Schema counts characters, not UTF-8 bytes: n bytes are n // 4 to n characters
    return _Check(check, {"minLength": n // 4, "maxLength": n, "$comment": f"{n} UTF-8 bytes"})


@_schema(pattern=r"\S")
def _non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


@_schema(additionalProperties={"type": "number"})
def _number_table(value: dict[str, Any]) -> str | None:
    for name, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"entry {name!r} must be a number, got {type(v).__name__}"
    return None


@_schema(
    additionalProperties={
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
        "description": "[fraction of reading, absolute]",
    }
)
def _accuracy_table(value: dict[str, Any]) -> str | None:
    for name, pair in value.items():
        ok = isinstance(pair, list) and len(pair) == 2
        if not ok or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair):
            return f"entry {name!r} must be [fraction of reading, absolute], e.g. [0.001, 0.05]"
    return None


@_schema(additionalProperties={"type": "integer", "minimum": 0})
def _channel_table(value: dict[str, Any]) -> str | None:
    for name, channel in value.items():
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            return f"entry {name!r} must be a relay channel number >= 0"
    return None


@_schema(additionalProperties={"type": "number", "exclusiveMinimum": 0})
def _positive_table(value: dict[str, Any]) -> str | None:
    for name, seconds in value.items():
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            return f"entry {name!r} must be a positive number of seconds"
    return None


def _hex(n: int) -> _Check:
    def check(value: str) -> str | None:
        digits = value.lower().removeprefix("04") if len(value) == n + 2 else value.lower()
        if len(digits) == n and all(c in "0123456789abcdef" for c in digits):
            return None
        return f"must be {n} hex characters"

    return _Check(check, {"pattern": f"^(04)?[0-9a-fA-F]{{{n}}}$"})


_ENVELOPE_FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig", "Ret", "Msg")


@_schema(
    propertyNames={"enum": list(_ENVELOPE_FIELDS)},
    additionalProperties={"type": "string", "minLength": 1},
)
def _field_names(value: dict[str, Any]) -> str | None:
    for name, wire in value.items():
        if name not in _ENVELOPE_FIELDS:
            return f"has unknown field {name!r} (known: {', '.join(_ENVELOPE_FIELDS)})"
        if not isinstance(wire, str) or not wire:
            return f"entry {name!r} must be a non-empty string"
    return None


@_schema(additionalProperties={"type": "string", "pattern": "^[^/]*[^/\\s][^/]*$"})
def _endpoint_names(value: dict[str, Any]) -> str | None:
    for name, wire in value.items():
        if not isinstance(wire, str) or not wire.strip() or "/" in wire:
            return f"entry {name!r} must be an endpoint name (no '/')"
    return None


def _str(**kw: Any) -> _Field:
    return _Field((str,), **kw)


_DUT = _Section(
    DutInfo,
    {
        "vendor": _str(check=_non_empty),
        "model": _str(check=_non_empty),
        "serial": _str(),
        "firmware": _str(),
        "simulated": _Field((bool,), default=False),
        "faults": _Field((list,), default=(), items=str, convert=tuple),
        "description": _str(default=""),
        "rating": _str(default=""),
        "connector": _str(default=""),
        "hardware": _str(default=""),
    },
    rules={  # as _parse: faults only on a simulated DUT
        "if": {"required": ["faults"], "properties": {"faults": {"minItems": 1}}},
        "then": {"required": ["simulated"], "properties": {"simulated": {"const": True}}},
    },
)

_CAN = _Section(
    CanConfig,
    {
        "interface": _str(check=_non_empty),
        "channel": _Field((str, int), convert=str),
        "bitrate": _Field((int,), default=250000, check=_positive),
    },
    extras=True,
)

_INSTRUMENT = _Section(
    InstrumentConfig,
    {
        "driver": _str(check=_non_empty),
        "resource": _str(default=""),
        "limits": _Field(
            (dict,),
            default={},
            check=_number_table,
            convert=lambda d: {k: float(v) for k, v in d.items()},
        ),
        "serial": _str(default=""),
        "calibration_date": _Field((datetime.date,), default=None),
        "calibration_due": _Field((datetime.date,), default=None),
        "accuracy": _Field(
            (dict,),
            default={},
            check=_accuracy_table,
            convert=lambda d: {k: (float(v[0]), float(v[1])) for k, v in d.items()},
        ),
        "allow_expired_calibration": _Field((bool,), default=False),
        "channels": _Field((dict,), default={}, check=_channel_table),
    },
    extras=True,
)

_VISA_BACKEND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
#: pyvisa 1.11 renamed the ``ni`` backend ``ivi``; ``"@ni"`` no longer loads.
_VISA_RENAMED = {"ni": "ivi"}


@_schema(
    allOf=[
        {"pattern": r"\S"},
        {"pattern": r"^([^@]*|.*@[A-Za-z0-9_]+)$"},
        {"not": {"pattern": "@ni$"}},
    ]
)
def _visa_library(value: str) -> str | None:
    """``[PATH][@BACKEND]`` as pyvisa's ``open_visa_library`` splits it (at the last ``@``)."""
    if not value.strip():
        return "must not be empty (the default is '@py', pyvisa-py)"
    _, at, backend = value.rpartition("@")
    if not at:
        return None  # a VISA library's path: pyvisa opens it with the ivi backend
    if backend in _VISA_RENAMED:
        return f"backend '@{backend}' is now '@{_VISA_RENAMED[backend]}' (pyvisa >= 1.11)"
    if not backend or not set(backend.lower()) <= _VISA_BACKEND_CHARS:
        return (
            f"must be '@py', '@ivi', '@sim', a VISA library's path or PATH@BACKEND, got {value!r}"
        )
    return None


_RACK = _Section(
    RackConfig,
    {
        "visa_library": _str(
            default=DEFAULT_VISA_LIBRARY,
            check=_visa_library,
            doc="the VISA library every VISA instrument is opened with: '@py' (pyvisa-py), "
            "'@ivi' (NI-VISA, Keysight IO Libraries), a library's path, PATH@BACKEND, '@sim'",
        )
    },
)

#: ``[ocpp.operator]``: one command line per known action (vgi_bench.ocpp.operator).
_OPERATOR_TABLE = _Check(
    check_operator_table,
    {
        "properties": {name: {"type": "string", "pattern": r"\S"} for name in OPERATOR_ACTIONS},
        "additionalProperties": False,
    },
)

_OCPP = _Section(
    OcppConfig,
    {
        "version": _str(default="2.0.1", choices=("1.6", "2.0.1")),
        "listen": _str(default=None, check=_host_port),
        "url": _str(default=None, check=_scheme("ws", "wss")),
        "charge_point_id": _str(default=None, check=_non_empty),
        "security_profile": _Field((int,), default=0, bounds=(0, 3)),
        "password": _str(default=None),
        "ca_cert": _str(default=None, path=True),
        "cert": _str(default=None, path=True),
        "key": _str(default=None, path=True),
        "ca_key": _str(default=None, path=True),
        "call_timeout_s": _Field((float,), default=10.0, check=_positive, convert=float),
        "timeouts": _Field(
            (dict,),
            default={},
            check=_positive_table,
            convert=lambda d: {k: float(v) for k, v in d.items()},
        ),
        "operator": _Field((dict,), default={}, check=_OPERATOR_TABLE),
    },
)

_PLATFORM = _Section(
    PlatformConfig,
    {
        "url": _str(default=None, check=_scheme("http", "https")),
        "listen": _str(default=None, check=_host_port),
        "operator_id": _str(default=None, check=_non_empty),
        "operator_secret": _str(default=None),
        "data_secret": _str(default=None, check=_length(16)),
        "data_iv": _str(default=None, check=_length(16)),
        "sig_secret": _str(default=None),
        "cipher": _str(default="aes-128-cbc", choices=("aes-128-cbc", "sm4-cbc")),
        "signature": _str(default="hmac-md5", choices=("hmac-md5", "hmac-sm3", "sm2")),
        "peer_operator_id": _str(default=None, check=_non_empty),
        "peer_operator_secret": _str(default=None),
        "field_names": _Field((dict,), default={}, check=_field_names),
        "endpoints": _Field((dict,), default={}, check=_endpoint_names),
        "sm2_public_key": _str(default=None, check=_hex(128)),
        "timeout_s": _Field((float,), default=10.0, check=_positive, convert=float),
        "ack_limit_s": _Field((float,), default=5.0, check=_positive, convert=float),
        "token_ttl_s": _Field((int,), default=7200, bounds=(1, 7 * 24 * 3600)),
        "token_wait_max_s": _Field((float,), default=30.0, check=_positive, convert=float),
        "max_body_bytes": _Field((int,), default=1048576, bounds=(1024, 64 * 1048576)),
        "realtime_period_s": _Field((float,), default=15.0, check=_positive, convert=float),
        "charge_status_period_s": _Field((float,), default=50.0, check=_positive, convert=float),
        "check_orders_wait_s": _Field((float,), default=60.0, check=_positive, convert=float),
        "retry_wait_s": _Field((float,), default=90.0, check=_positive, convert=float),
        "ca_cert": _str(default=None, check=_non_empty, path=True),
        "cert": _str(default=None, check=_non_empty, path=True),
        "key": _str(default=None, check=_non_empty, path=True),
    },
)

_GBT27930 = _Section(
    Gbt27930Config,
    {"edition": _str(default=DEFAULT_EDITION, choices=tuple(EDITIONS))},
)


@_schema(exclusiveMinimum=0)
def _positive_number(value: float) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


@_schema(minimum=0, maximum=100)
def _percent(value: float) -> str | None:
    return None if 0 <= value <= 100 else f"must be 0..100, got {value}"


_POWER = _Section(
    PowerConfig,
    {
        "rated_power_w": _Field((float,), default=90_000.0, check=_positive_number, convert=float),
        "battery_voltage_v": _Field((float,), default=380.0, check=_positive_number, convert=float),
        "internal_resistance_ohm": _Field(
            (float,), default=0.05, check=_positive_number, convert=float
        ),
        "watchdog_s": _Field((float,), default=5.0, check=_positive_number, convert=float),
        "sample_period_s": _Field((float,), default=0.05, check=_positive_number, convert=float),
    },
)

_REPORT = _Section(
    ReportConfig,
    {
        "lab": _str(default=""),
        "operator": _str(default=""),
        "signing_key": _str(default=None, check=_non_empty, path=True),
        "language": _str(default="en", choices=("en", "zh-CN")),
        "signature": _str(default="ed25519", choices=("ed25519", "sm2")),
        "pdf_signing_key": _str(default=None, check=_non_empty, path=True),
        "pdf_certificate": _str(default=None, check=_non_empty, path=True),
        "pdf_chain": _str(default=None, check=_non_empty, path=True),
        "number": _str(default=""),
        "number_prefix": _str(default="VGI", check=_non_empty),
        "lab_address": _str(default=""),
        "accreditation": _str(default=""),
        "accreditation_body": _str(default=""),
        "customer": _str(default=""),
        "customer_address": _str(default=""),
        "location": _str(default=""),
        "ambient_temperature_c": _Field((float,), default=None, convert=float),
        "relative_humidity_pct": _Field((float,), default=None, check=_percent, convert=float),
        "tested_by": _str(default=""),
        "reviewed_by": _str(default=""),
        "approved_by": _str(default=""),
        "deviations": _Field((list,), default=(), items=str, convert=tuple),
        "decision_rule": _str(default="guarded", choices=("guarded", "simple")),
    },
)

#: Top-level sections (``instruments`` is a table of :data:`_INSTRUMENT` sections).
_SECTIONS: dict[str, _Section] = {
    "dut": _DUT,
    "can": _CAN,
    "ocpp": _OCPP,
    "platform": _PLATFORM,
    "gbt27930": _GBT27930,
    "power": _POWER,
    "report": _REPORT,
}
_REQUIRED_SECTIONS = ("dut",)


# --------------------------------------------------------------------------- JSON Schema

SCHEMA_FILE = "data/profile.schema.json"
JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"  # what taplo and VS Code read
_JSON_TYPES = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    list: {"type": "array"},
    dict: {"type": "object"},
    datetime.date: {"type": "string", "format": "date"},  # a TOML local date, as editors see it
}


def profile_schema() -> dict[str, Any]:
    """The profile's JSON Schema (draft-07), built from the tables the loader checks with.

    It accepts what the loader accepts as nearly as JSON Schema can say it; the loader
    has the last word where it cannot (a near miss of a key in ``[can]`` or an
    instrument's table, which the loader refuses but the schema lets through as a
    python-can or driver option).
    """
    properties: dict[str, Any] = {name: _section_schema(spec) for name, spec in _SECTIONS.items()}
    instruments = _section_schema(_RACK)
    instruments["description"] = (
        "One table per instrument ([instruments.NAME]) and, beside them, the rack's settings "
        "(visa_library)."
    )
    instruments["additionalProperties"] = {"$ref": "#/definitions/instrument"}
    properties["instruments"] = instruments
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "vgi-bench profile",
        "description": "Which DUT is tested and how the bench reaches it (README: Profiles). "
        "Generated by `vgi-bench schema` from the tables in vgi_bench/profile.py.",
        "type": "object",
        "properties": dict(sorted(properties.items())),
        "required": list(_REQUIRED_SECTIONS),
        "additionalProperties": False,
        "definitions": {"instrument": _section_schema(_INSTRUMENT)},
    }


def profile_schema_text() -> str:
    """:func:`profile_schema` as the shipped file holds it (``vgi-bench schema`` prints it)."""
    return json.dumps(profile_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema_path() -> Path:
    """Where the installed package keeps its copy (``vgi_bench/data/profile.schema.json``)."""
    return Path(str(resources.files("vgi_bench").joinpath(SCHEMA_FILE)))


def _doc(cls: type) -> str:
    """The first paragraph of a class's docstring, on one line."""
    first = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first.replace("``", "").split())


def _section_schema(spec: _Section) -> dict[str, Any]:
    required = [name for name, f in spec.fields.items() if f.default is _REQUIRED]
    schema: dict[str, Any] = {
        "type": "object",
        "description": _doc(spec.cls),
        "properties": {name: _field_schema(f) for name, f in spec.fields.items()},
        "additionalProperties": spec.extras,  # extras: python-can's or a driver's options
    }
    if required:
        schema["required"] = required
    schema.update(copy.deepcopy(dict(spec.rules)))
    return schema


def _field_schema(spec: _Field) -> dict[str, Any]:
    kinds = [_JSON_TYPES[t] for t in spec.types]
    if len(kinds) == 1:
        schema: dict[str, Any] = dict(kinds[0])
    elif all(set(k) == {"type"} for k in kinds):
        schema = {"type": [k["type"] for k in kinds]}
    else:
        schema = {"anyOf": kinds}
    notes = [spec.doc] if spec.doc else []
    if spec.path:
        notes.append("a file path; relative to the profile's directory")
    if notes:
        schema["description"] = "; ".join(notes)
    if spec.items is not None:
        schema["items"] = dict(_JSON_TYPES[spec.items])
    if spec.choices is not None:
        schema["enum"] = list(spec.choices)
    if spec.bounds is not None:
        schema["minimum"], schema["maximum"] = spec.bounds
    if spec.check is not None:
        schema.update(copy.deepcopy(dict(getattr(spec.check, "schema", {}))))
    if spec.default is not _REQUIRED and spec.default is not None:
        schema["default"] = _jsonable(spec.default)
    return schema


# --------------------------------------------------------------------------- parsing


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int in Python, not in TOML
        return bool in types
    if isinstance(value, int) and float in types:
        return True
    return isinstance(value, types)


def _hint(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.8)
    return close[0] if close else ""


def _value(name: str, spec: _Field, value: Any, base_dir: Path | None) -> Any:
    if not _type_ok(value, spec.types):
        raise _Invalid(f"'{name}' must be {_type_name(spec.types)}, got {type(value).__name__}")
    if spec.items is not None:
        for i, item in enumerate(value):
            if not _type_ok(item, (spec.items,)):
                raise _Invalid(
                    f"'{name}[{i}]' must be {_type_name((spec.items,))}, got {type(item).__name__}"
                )
    if spec.choices is not None and value not in spec.choices:
        allowed = ", ".join(repr(c) for c in spec.choices)
        raise _Invalid(f"'{name}' must be one of {allowed}, got {value!r}")
    if spec.bounds is not None:
        low, high = spec.bounds
        if not low <= value <= high:
            raise _Invalid(f"'{name}' must be {low}..{high}, got {value}")
    if spec.check is not None:
        reason = spec.check(value)
        if reason:
            raise _Invalid(f"'{name}' {reason}")
    if spec.convert is not None:
        value = spec.convert(value)
    if spec.path and base_dir is not None and not Path(value).expanduser().is_absolute():
        value = str(base_dir / value)
    return value


def _section(prefix: str, spec: _Section, table: Any, base_dir: Path | None) -> Any:
    if not isinstance(table, dict):
        raise _Invalid(f"'{prefix}' must be a table, got {type(table).__name__}")
    values: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}"
        field_spec = spec.fields.get(key)
        if field_spec is not None:
            values[key] = _value(name, field_spec, value, base_dir)
            continue
        close = _hint(key, spec.fields)
        if spec.extras and not close:
            options[key] = value
            continue
        hint = f" (did you mean '{prefix}.{close}'?)" if close else ""
        raise _Invalid(f"unknown key '{name}'{hint}")
    for key, field_spec in spec.fields.items():
        if key not in values:
            if field_spec.default is _REQUIRED:
                raise _Invalid(f"missing key '{prefix}.{key}'")
            values[key] = copy.copy(field_spec.default)
    if spec.extras:
        values["options"] = options
    return spec.cls(**values)


def _parse(data: Mapping[str, Any], base_dir: Path | None) -> dict[str, Any]:
    known = [*_SECTIONS, "instruments"]
    for name, value in data.items():
        if name in known:
            continue
        what = "section" if isinstance(value, dict) else "key"
        close = _hint(name, known)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise _Invalid(f"unknown {what} '{name}'{hint}")
    for name in _REQUIRED_SECTIONS:
        if name not in data:
            raise _Invalid(f"missing section '[{name}]'")
    built: dict[str, Any] = {
        name: _section(name, spec, data[name], base_dir)
        for name, spec in _SECTIONS.items()
        if name in data
    }
    instruments = data.get("instruments", {})
    if not isinstance(instruments, dict):
        raise _Invalid(f"'instruments' must be a table, got {type(instruments).__name__}")
    settings = {k: v for k, v in instruments.items() if _is_rack_key(k, v)}
    built["rack"] = _section("instruments", _RACK, settings, base_dir)
    built["instruments"] = {
        name: _section(f"instruments.{name}", _INSTRUMENT, table, base_dir)
        for name, table in instruments.items()
        if name not in settings
    }
    faults = built["dut"].faults
    if faults and not built["dut"].simulated:
        raise _Invalid("'dut.faults' needs 'dut.simulated = true'")
    return built


def _is_rack_key(key: str, value: Any) -> bool:
    """A key of ``[instruments]`` that is a rack setting, not an instrument's table.

    A table is an instrument unless it is named like a setting (then the setting's type
    check refuses it); a non-table that is neither a setting nor a near miss of one is an
    instrument written wrong.
    """
    if key in _RACK.fields:
        return True
    if isinstance(value, dict):
        return False
    if not _hint(key, _RACK.fields):
        raise _Invalid(
            f"'instruments.{key}' must be a table (an instrument), got {type(value).__name__}"
        )
    return True  # a misspelt setting: _section names the key it looks like


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def parse_profile(
    data: Mapping[str, Any], source: str = DEFAULT_SOURCE, base_dir: Path | None = None
) -> Profile:
    """Validate an already-parsed TOML document.

    ``source`` names it in error messages; relative certificate paths are resolved
    against ``base_dir`` when given.
    """
    if not isinstance(data, Mapping):
        raise ProfileError(f"profile {source}: must be a table, got {type(data).__name__}")
    try:
        built = _parse(data, base_dir)
    except _Invalid as exc:
        raise ProfileError(_one_line(f"profile {source}: {exc}")) from None
    return Profile(source=source, raw=dict(data), **built)


def _default_text() -> str:
    return (
        resources.files("vgi_bench")
        .joinpath("data/default_profile.toml")
        .read_text(encoding="utf-8")
    )


def _loads(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(_one_line(f"profile {source}: invalid TOML: {exc}")) from None


def load_profile(path: str | Path | None = None) -> Profile:
    """Load and validate a profile file; ``None`` gives the embedded default profile."""
    if path is None:
        return parse_profile(_loads(_default_text(), DEFAULT_SOURCE), DEFAULT_SOURCE)
    source = str(path)
    file = Path(path)
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"profile {source}: invalid TOML: not UTF-8 (byte {exc.start})"
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ProfileError(_one_line(f"profile {source}: cannot read: {reason}")) from None
    return parse_profile(_loads(text, source), source, base_dir=file.resolve().parent)
