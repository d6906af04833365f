"""The profile's JSON Schema (``vgi-bench schema``, ``vgi_bench/data/profile.schema.json``) is
built from the loader's own tables, ships with the package as generated, and agrees
with the loader on the embedded default profile, every profile in the README and a set
of bad ones."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import tomllib

from vgi_bench import profile as prof
from vgi_bench.profile import (
    ProfileError,
    parse_profile,
    profile_schema,
    profile_schema_text,
    shipped_schema_path,
)

REPO = Path(__file__).resolve().parent.parent
MIN_DUT = {"dut": {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"}}
#: README TOML blocks that are other files, by their top-level keys.
NOT_PROFILES = ({"campaign", "run"}, {"rule"})  # campaign files, .taplo.toml


def validator() -> jsonschema.Draft7Validator:
    schema = profile_schema()
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def errors(data: dict[str, Any]) -> list[str]:
    """Schema errors of a parsed TOML document (dates as editors see them: strings)."""
    return [e.message for e in validator().iter_errors(prof._jsonable(data))]


def test_shipped_file_is_the_generated_schema() -> None:
    shipped = shipped_schema_path().read_text(encoding="utf-8")
    assert shipped == profile_schema_text(), (
        "vgi_bench/data/profile.schema.json is stale: regenerate it with `make schema`"
    )
    assert shipped_schema_path().parent == Path(prof.__file__).parent / "data"


def test_schema_is_valid_draft7() -> None:
    schema = profile_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert set(schema["properties"]) == {*prof._SECTIONS, "instruments"}
    assert schema["required"] == ["dut"]


def test_every_check_says_what_it_accepts() -> None:
    """A check without JSON Schema words would make the schema silently looser."""
    tables = {**prof._SECTIONS, "instruments": prof._RACK, "instrument": prof._INSTRUMENT}
    missing = [
        f"{section}.{name}"
        for section, spec in tables.items()
        for name, f in spec.fields.items()
        if f.check is not None and not isinstance(f.check, prof._Check)
    ]
    assert not missing, f"wrap these checks with @_schema(...) in vgi_bench/profile.py: {missing}"


def test_cli_prints_the_schema(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "schema"],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == profile_schema_text()
    where = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "schema", "--path"],
        capture_output=True, text=True, check=True, cwd=tmp_path, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert Path(where) == shipped_schema_path() and Path(where).is_file()


def test_default_profile_validates() -> None:
    data = tomllib.loads(prof._default_text())
    assert errors(data) == []
    assert data["instruments"]["supply"]["calibration_date"]  # a TOML date, checked as one


def readme_profiles() -> list[tuple[str, dict[str, Any]]]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"```toml\n(.*?)```", text, re.S)
    found += [body for _, body in re.findall(r"<<'(EOF\w*)'\n(.*?)\n\1\n", text, re.S)]
    docs = [(block, tomllib.loads(block)) for block in found]
    return [(block, doc) for block, doc in docs if set(doc) not in NOT_PROFILES]


def test_readme_has_profiles() -> None:
    sections = {name for _, doc in readme_profiles() for name in doc}
    assert {"dut", "can", "instruments", "ocpp", "platform", "report"} <= sections


@pytest.mark.parametrize(
    ("block", "doc"), readme_profiles(), ids=lambda v: "" if isinstance(v, dict) else v[:30]
)
def test_readme_profile_validates_and_loads(block: str, doc: dict[str, Any]) -> None:
    """Each README profile (a fragment gets a [dut]) passes both the schema and the loader."""
    data = {**MIN_DUT, **doc}
    assert errors(data) == [], block
    parse_profile(data)


BAD = [
    {"dutt": {}},
    {"dut": {"vendor": "v", "model": "m", "serial": "s"}},
    {"dut": {**MIN_DUT["dut"], "vendr": "x"}},
    {"dut": {**MIN_DUT["dut"], "model": " "}},
    {"dut": {**MIN_DUT["dut"], "faults": ["no_crm_aa"]}},
    {"can": {"interface": "pcan", "channel": "PCAN_USBBUS1", "bitrate": 0}},
    {"can": {"interface": "pcan", "channel": 1.5}},
    {"instruments": {"visa_library": "@ni"}},
    {"instruments": {"visa_library": ""}},
    {"instruments": {"supply": "ea-psb"}},
    {"instruments": {"supply": {"resource": "TCPIP0::1.2.3.4::5025::SOCKET"}}},
    {"instruments": {"supply": {"driver": "ea-psb", "limits": {"max_voltage_v": "high"}}}},
    {"instruments": {"relay": {"driver": "relay-ascii", "channels": {"estop": -1}}}},
    {"ocpp": {"version": "2.1"}},
    {"ocpp": {"listen": "localhost"}},
    {"ocpp": {"url": "http://csms/ocpp"}},
    {"ocpp": {"security_profile": 4}},
    {"ocpp": {"operator": {"remote_strat": "csms start"}}},
    {"platform": {"cipher": "des"}},
    {"platform": {"sm2_public_key": "abc"}},
    {"platform": {"field_names": {"Signature": "sig"}}},
    {"gbt27930": {"edition": "2011"}},
    {"power": {"rated_power_w": -1}},
    {"report": {"language": "fr"}},
]


@pytest.mark.parametrize("data", BAD, ids=lambda d: str(d)[:50])
def test_schema_and_loader_refuse_the_same(data: dict[str, Any]) -> None:
    full = data if "dut" in data or "dutt" in data else {**MIN_DUT, **data}
    with pytest.raises(ProfileError):
        parse_profile(full)
    assert errors(full), f"the schema accepts what the loader refuses: {full}"
