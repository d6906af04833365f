"""The bench profile: which DUT is tested, and how the bench reaches it.

A profile is a TOML file (see CONTRACT.md / README for the format)::

    [dut]                  # identity, printed on the report (all four keys required)
    vendor = "..."; model = "..."; serial = "..."; firmware = "..."
    [can]                  # passed to python-can
    interface = "socketcan"; channel = "can0"; bitrate = 250000
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
``reports.signing``), and the report's ``language`` (``"en"`` or ``"zh-CN"``).

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
* Relative certificate paths in ``[ocpp]`` and ``[platform]`` are resolved against the
  profile's directory.
* Anything else that is unknown, of the wrong type or out of range is refused with a
  :class:`ProfileError` whose one-line message names the key.

Validation is declarative: each section is a table of field name -> :class:`_Field`.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bench.gbt27930.editions import DEFAULT_EDITION, EDITIONS
from bench.ocpp.operator import check_operator_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_SOURCE",
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
    "ReportConfig",
    "load_profile",
    "parse_profile",
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


@dataclass(frozen=True)
class CanConfig:
    """``[can]``: ``interface``/``channel``/``bitrate`` plus python-can's own ``options``.

    ``bench.can.bus.open_bus`` turns these into ``can.Bus`` arguments.
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
    # operator action at the CSMS under test -> command template (bench.ocpp.operator)
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
    #: ILAC-G8 decision rule of every timing and electrical verdict (bench/decision.py):
    #: "guarded" (guard band w = U) or "simple" (w = 0, shared risk)
    decision_rule: str = "guarded"


@dataclass(frozen=True)
class Profile:
    """A validated profile. ``source`` is the file path, or ``"<default>"``."""

    dut: DutInfo
    can: CanConfig | None = None
    instruments: dict[str, InstrumentConfig] = field(default_factory=dict, hash=False)
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


@dataclass(frozen=True)
class _Section:
    cls: type
    fields: dict[str, _Field]
    extras: bool = False  # further keys go to ``options`` (misspellings refused)


def _positive(value: int) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


def _host_port(value: str) -> str | None:
    host, sep, port = value.rpartition(":")
    if sep and host and port.isdigit() and 0 < int(port) < 65536:
        return None
    return f"must be HOST:PORT, got {value!r}"


def _scheme(*schemes: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if any(value.startswith(f"{s}://") and len(value) > len(s) + 3 for s in schemes):
            return None
        wanted = " or ".join(f"{s}://" for s in schemes)
        return f"must be a {wanted} URL, got {value!r}"

    return check


def _length(n: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        size = len(value.encode("utf-8"))
        return None if size == n else f"must be {n} bytes long, got {size}"

    return check


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _number_table(value: dict[str, Any]) -> str | None:
    for name, v in value.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return f"entry {name!r} must be a number, got {type(v).__name__}"
    return None


def _accuracy_table(value: dict[str, Any]) -> str | None:
    for name, pair in value.items():
        ok = isinstance(pair, list) and len(pair) == 2
        if not ok or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in pair):
            return f"entry {name!r} must be [fraction of reading, absolute], e.g. [0.001, 0.05]"
    return None


def _channel_table(value: dict[str, Any]) -> str | None:
    for name, channel in value.items():
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            return f"entry {name!r} must be a relay channel number >= 0"
    return None


def _positive_table(value: dict[str, Any]) -> str | None:
    for name, seconds in value.items():
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            return f"entry {name!r} must be a positive number of seconds"
    return None


def _hex(n: int) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        digits = value.lower().removeprefix("04") if len(value) == n + 2 else value.lower()
        if len(digits) == n and all(c in "0123456789abcdef" for c in digits):
            return None
        return f"must be {n} hex characters"

    return check


_ENVELOPE_FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig", "Ret", "Msg")


def _field_names(value: dict[str, Any]) -> str | None:
    for name, wire in value.items():
        if name not in _ENVELOPE_FIELDS:
            return f"has unknown field {name!r} (known: {', '.join(_ENVELOPE_FIELDS)})"
        if not isinstance(wire, str) or not wire:
            return f"entry {name!r} must be a non-empty string"
    return None


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
        "operator": _Field((dict,), default={}, check=check_operator_table),
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


def _positive_number(value: float) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


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
    built["instruments"] = {
        name: _section(f"instruments.{name}", _INSTRUMENT, table, base_dir)
        for name, table in instruments.items()
    }
    faults = built["dut"].faults
    if faults and not built["dut"].simulated:
        raise _Invalid("'dut.faults' needs 'dut.simulated = true'")
    return built


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
        resources.files("bench").joinpath("data/default_profile.toml").read_text(encoding="utf-8")
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
