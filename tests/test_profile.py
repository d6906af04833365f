"""The profile: embedded default, the contract's full example, one-line errors, masking."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from vgi_bench.profile import (
    DEFAULT_SOURCE,
    CanConfig,
    Gbt27930Config,
    InstrumentConfig,
    Profile,
    ProfileError,
    load_profile,
    parse_profile,
)

# The contract's example, filled in. The contract writes several keys on one line with
# `;`, which TOML does not allow, so those are split onto their own lines here.
FULL_EXAMPLE = """\
[dut]        # identity, printed on the report
vendor = "ACME"
model = "DC-60"
serial = "SN123"
firmware = "1.2.3"
[can]        # passed to python-can: any interface it supports
interface = "udp_multicast"   # socketcan, pcan, kvaser, vector, slcan, virtual, ...
channel = "239.74.163.2"
bitrate = 250000
[instruments.supply]   # driver name, VISA resource, safety limits
driver = "scpi_supply"
resource = "TCPIP::192.168.0.10::INSTR"
limits = { max_voltage_v = 1000, max_current_a = 62.5 }
[instruments.analyzer]
driver = "power_analyzer"
resource = "USB0::0x1234::0x5678::INSTR"
[ocpp]
version = "2.0.1"                  # or "1.6"
listen = "127.0.0.1:9000"          # the bench as CSMS: where the DUT charge point connects
url = "ws://127.0.0.1:9000/CP_1"   # the bench as charge point: the DUT CSMS's endpoint
charge_point_id = "CP_1"
security_profile = 3               # 0 none, 1 basic auth, 2 TLS + basic auth, 3 mutual TLS
password = "hunter2hunter2"        # basic auth
ca_cert = "ca.pem"
cert = "cp.pem"
key = "cp.key"
[platform]
url = "http://127.0.0.1:8080/evcs/v1/"  # the DUT platform (bench as caller)
listen = "127.0.0.1:8081"                # the bench as server (the DUT calls it)
operator_id = "MA0000001"
operator_secret = "opsecret-0000001"
data_secret = "datasecret000001"
data_iv = "datasecretiv0001"
sig_secret = "sigsecret0000001"
cipher = "sm4-cbc"                       # or "sm4-cbc"
signature = "hmac-sm3"                   # or "hmac-sm3", "sm2"
"""

MINIMAL = '[dut]\nvendor = "v"\nmodel = "m"\nserial = "s"\nfirmware = "f"\n'


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"profile {path}: ")
    return message


def test_default_profile_loads() -> None:
    profile = load_profile(None)
    assert profile.source == DEFAULT_SOURCE
    assert profile.is_default
    assert profile.dut.vendor == "vgi-bench"
    assert profile.dut.model == "reference DUTs"
    assert profile.dut.serial == "SIM-0001"
    assert profile.dut.firmware == "built-in"
    assert profile.dut.simulated is True
    assert profile.dut.faults == ()
    assert profile.can == CanConfig("virtual", "vgi-bench", 250000, {})
    assert {n: i.resource for n, i in profile.instruments.items()} == {
        "supply": "sim",
        "analyzer": "sim",
        "relay": "sim",
    }  # simulated instruments on the simulated charger's power stage
    assert profile.ocpp is not None
    assert profile.ocpp.version == "2.0.1"
    assert profile.ocpp.listen == "127.0.0.1:9000"
    assert profile.ocpp.url == "ws://127.0.0.1:9000/CP_1"
    assert profile.ocpp.charge_point_id == "CP_1"
    assert profile.ocpp.security_profile == 0
    assert profile.platform is not None
    assert profile.platform.url == "http://127.0.0.1:8080/evcs/v1/"
    assert profile.platform.listen == "127.0.0.1:8081"
    assert profile.platform.cipher == "aes-128-cbc"
    assert profile.platform.signature == "hmac-md5"
    for secret in ("operator_id", "operator_secret", "data_secret", "data_iv", "sig_secret"):
        assert len(getattr(profile.platform, secret)) == 16
    # The default is also plain package data, loadable as any other profile.
    assert load_profile().dut == profile.dut


def test_full_contract_example_loads(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_EXAMPLE, "full.toml")
    profile = load_profile(path)
    assert profile.source == str(path)
    assert not profile.is_default
    assert profile.dut.vendor == "ACME"
    assert profile.dut.simulated is False
    assert profile.can is not None
    assert profile.can.interface == "udp_multicast"
    assert profile.can.channel == "239.74.163.2"
    assert profile.can.bitrate == 250000
    supply = profile.instruments["supply"]
    assert supply == InstrumentConfig(
        "scpi_supply",
        "TCPIP::192.168.0.10::INSTR",
        {"max_voltage_v": 1000.0, "max_current_a": 62.5},
        options={},
    )
    assert isinstance(supply.limits["max_voltage_v"], float)
    assert profile.instruments["analyzer"].limits == {}
    assert profile.ocpp is not None
    assert profile.ocpp.security_profile == 3
    # Relative certificate paths are taken relative to the profile file.
    assert profile.ocpp.ca_cert == str(tmp_path.resolve() / "ca.pem")
    assert profile.ocpp.key == str(tmp_path.resolve() / "cp.key")
    assert profile.platform is not None
    assert profile.platform.cipher == "sm4-cbc"
    assert profile.platform.signature == "hmac-sm3"
    assert profile.raw["dut"]["serial"] == "SN123"


def test_minimal_profile_has_no_optional_sections() -> None:
    profile = parse_profile({"dut": {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"}})
    assert profile.can is None and profile.ocpp is None and profile.platform is None
    assert profile.instruments == {}
    assert profile.source == DEFAULT_SOURCE


def test_defaults_within_sections() -> None:
    profile = parse_profile(
        {
            "dut": {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"},
            "can": {"interface": "socketcan", "channel": 0},
            "ocpp": {},
            "platform": {},
        },
        "p.toml",
    )
    assert profile.can == CanConfig("socketcan", "0", 250000, {})
    assert profile.ocpp is not None and profile.ocpp.version == "2.0.1"
    assert profile.ocpp.security_profile == 0 and profile.ocpp.password is None
    assert profile.platform is not None and profile.platform.cipher == "aes-128-cbc"


def test_can_extra_options_pass_through(tmp_path: Path) -> None:
    text = (
        MINIMAL + "[can]\ninterface = 'pcan'\nchannel = 1\nbitrate = 500000\n"
        "receive_own_messages = true\nfd = true\ndata_bitrate = 2000000\n"
        "app_name = 'vgi'\nnested = { a = [1, 2] }\n"
    )
    profile = load_profile(write(tmp_path, text, "can.toml"))
    assert profile.can is not None
    assert profile.can.channel == "1"
    assert profile.can.bitrate == 500000
    assert profile.can.options == {
        "receive_own_messages": True,
        "fd": True,
        "data_bitrate": 2000000,
        "app_name": "vgi",
        "nested": {"a": [1, 2]},
    }


def test_instrument_extra_options_pass_through() -> None:
    profile = parse_profile(
        {
            "dut": {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"},
            "instruments": {"supply": {"driver": "sim", "timeout_ms": 2000}},
        }
    )
    assert profile.instruments["supply"].options == {"timeout_ms": 2000}
    assert profile.instruments["supply"].resource == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "[can]\ninterface='virtual'\nchannel='x'\nbitrat=250000\n",
            "unknown key 'can.bitrat'",
        ),
        (
            MINIMAL + "[can]\ninterface='virtual'\nchannel='x'\nbitrate='250000'\n",
            "'can.bitrate' must be an integer, got str",
        ),
        (
            MINIMAL + "[can]\ninterface='virtual'\nchannel='x'\nbitrate=true\n",
            "'can.bitrate' must be an integer, got bool",
        ),
        (
            MINIMAL + "[can]\ninterface='virtual'\nchannel='x'\nbitrate=0\n",
            "'can.bitrate' must be positive, got 0",
        ),
        (
            MINIMAL + "[can]\ninterface='virtual'\nchannel=1.5\n",
            "'can.channel' must be a string or an integer, got float",
        ),
        (MINIMAL + "[can]\ninterface='virtual'\n", "missing key 'can.channel'"),
        (MINIMAL + "[ocpp]\nsecurity_profile=5\n", "'ocpp.security_profile' must be 0..3, got 5"),
        (MINIMAL + "[ocpp]\nversion='2.0'\n", "'ocpp.version' must be one of '1.6', '2.0.1'"),
        (MINIMAL + "[ocpp]\nversion=2.0\n", "'ocpp.version' must be a string, got float"),
        (MINIMAL + "[ocpp]\nlisten='9000'\n", "'ocpp.listen' must be HOST:PORT"),
        (MINIMAL + "[ocpp]\nurl='http://x/CP_1'\n", "'ocpp.url' must be a ws:// or wss:// URL"),
        (MINIMAL + "[ocpp]\npasswd='x'\n", "unknown key 'ocpp.passwd'"),
        (MINIMAL + "[platform]\ncipher='des'\n", "'platform.cipher' must be one of"),
        (MINIMAL + "[platform]\nsignature='rsa'\n", "'platform.signature' must be one of"),
        (MINIMAL + "[platform]\ndata_iv='short'\n", "'platform.data_iv' must be 16 bytes"),
        (MINIMAL + "[dut.extra]\nx=1\n", "unknown key 'dut.extra'"),
        (MINIMAL + "faults=['x']\n", "'dut.faults' needs 'dut.simulated = true'"),
        (MINIMAL + "simulated=true\nfaults=[1]\n", "'dut.faults[0]' must be a string, got int"),
        (MINIMAL + "simulated='yes'\n", "'dut.simulated' must be a boolean, got str"),
        ('[dut]\nvendor="v"\nmodel="m"\nserial="s"\n', "missing key 'dut.firmware'"),
        ("[can]\ninterface='virtual'\nchannel='x'\n", "missing section '[dut]'"),
        (MINIMAL + "[bogus]\nx=1\n", "unknown section 'bogus'"),
        (MINIMAL + "[instrument.supply]\ndriver='x'\n", "unknown section 'instrument'"),
        ("stray = 1\n" + MINIMAL, "unknown key 'stray'"),
        ('can = "virtual"\n' + MINIMAL, "'can' must be a table, got str"),
        (
            MINIMAL + "[instruments.supply]\nresource='x'\n",
            "missing key 'instruments.supply.driver'",
        ),
        (
            MINIMAL + "[instruments.supply]\ndriver='x'\nlimits={max_v='high'}\n",
            "'instruments.supply.limits' entry 'max_v' must be a number, got str",
        ),
        (
            MINIMAL + "[instruments.supply]\ndriver='x'\nresourse='y'\n",
            "unknown key 'instruments.supply.resourse'",
        ),
        (
            MINIMAL + "[gbt27930]\nedition='2023'\n",
            "'gbt27930.edition' must be one of '2015', '2023a', 'v2g-draft', got '2023'",
        ),
        (MINIMAL + "[gbt27930]\nedition=2015\n", "'gbt27930.edition' must be a string, got int"),
        (
            MINIMAL + "[gbt27930]\neditoin='2015'\n",
            "unknown key 'gbt27930.editoin' (did you mean 'gbt27930.edition'?)",
        ),
        (MINIMAL + "[gbt27930]\nversion='2015'\n", "unknown key 'gbt27930.version'"),
        ("gbt27930 = '2015'\n" + MINIMAL, "'gbt27930' must be a table, got str"),
        (MINIMAL + "[gbt2793]\nedition='2015'\n", "unknown section 'gbt2793' (did you mean"),
        (MINIMAL + "[can\n", "invalid TOML: "),
    ],
)
def test_errors_are_one_line_and_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in load_error(tmp_path, text)


def test_misspelt_key_gets_a_hint(tmp_path: Path) -> None:
    message = load_error(tmp_path, MINIMAL + "[can]\ninterface='v'\nchannel='x'\nbitrat=1\n")
    assert message.endswith("unknown key 'can.bitrat' (did you mean 'can.bitrate'?)")


def test_invalid_toml_message(tmp_path: Path) -> None:
    path = write(tmp_path, "[dut\nvendor = 1\n")
    with pytest.raises(ProfileError, match=r"^profile .*bad\.toml: invalid TOML: .+\(at line 1"):
        load_profile(path)
    path.write_bytes(b'[dut]\nvendor = "\xff"\n')
    with pytest.raises(ProfileError, match="invalid TOML: not UTF-8"):
        load_profile(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert str(info.value) == f"profile {path}: cannot read: No such file or directory"
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path)


def test_profile_error_is_a_value_error() -> None:
    assert issubclass(ProfileError, ValueError)
    with pytest.raises(ValueError, match=r"^profile mem: "):
        parse_profile({"dut": []}, "mem")


def test_secrets_are_masked_in_to_dict(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, FULL_EXAMPLE, "full.toml"))
    data = profile.to_dict()
    text = json.dumps(data)  # serialisable as-is
    for secret in (
        "hunter2hunter2",
        "opsecret-0000001",
        "datasecret000001",
        "datasecretiv0001",
        "sigsecret0000001",
        "cp.key",
    ):
        assert secret not in text
    assert data["ocpp"]["password"] == "***"
    assert data["ocpp"]["key"] == "***"
    for key in ("operator_secret", "data_secret", "data_iv", "sig_secret"):
        assert data["platform"][key] == "***"
    # What is not secret is kept.
    assert data["source"] == str(tmp_path / "full.toml")
    assert data["dut"] == {
        "vendor": "ACME",
        "model": "DC-60",
        "serial": "SN123",
        "firmware": "1.2.3",
        "simulated": False,
        "faults": [],
        "description": "",
        "rating": "",
        "connector": "",
        "hardware": "",
    }
    assert data["ocpp"]["cert"].endswith("cp.pem")
    assert data["platform"]["operator_id"] == "MA0000001"
    assert data["instruments"]["supply"]["limits"] == {
        "max_voltage_v": 1000.0,
        "max_current_a": 62.5,
    }
    assert "raw" not in data
    # The profile object itself still holds the real values.
    assert profile.ocpp is not None and profile.ocpp.password == "hunter2hunter2"


def test_to_dict_masks_secret_like_options_and_handles_toml_dates() -> None:
    profile = parse_profile(
        {
            "dut": {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"},
            "can": {
                "interface": "vector",
                "channel": "0",
                "app_password": "pw",
                "when": __import__("datetime").date(2024, 1, 2),
            },
        }
    )
    data = profile.to_dict()
    json.dumps(data)
    assert data["can"]["options"] == {"app_password": "***", "when": "2024-01-02"}
    assert data["ocpp"] is None


def test_profile_is_frozen_and_hashable() -> None:
    profile = load_profile(None)
    with pytest.raises(AttributeError):
        profile.source = "x"  # type: ignore[misc]
    assert isinstance(hash(profile), int)
    assert isinstance(profile, Profile)


def test_faults_on_simulated_dut() -> None:
    profile = parse_profile(
        {
            "dut": {
                "vendor": "v",
                "model": "m",
                "serial": "s",
                "firmware": "f",
                "simulated": True,
                "faults": ["no_crm", "late_bro"],
            }
        }
    )
    assert profile.dut.faults == ("no_crm", "late_bro")


def test_gbt27930_edition_defaults_to_2015() -> None:
    profile = parse_profile({"dut": {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"}})
    assert profile.gbt27930 == Gbt27930Config("2015")
    assert profile.to_dict()["gbt27930"] == {"edition": "2015"}
    assert load_profile(None).gbt27930.edition == "2015"
    assert parse_profile({**profile.raw, "gbt27930": {}}).gbt27930.edition == "2015"


@pytest.mark.parametrize("edition", ["2015", "2023a", "v2g-draft"])
def test_gbt27930_edition_is_chosen_in_the_profile(tmp_path: Path, edition: str) -> None:
    profile = load_profile(write(tmp_path, MINIMAL + f"[gbt27930]\nedition = '{edition}'\n"))
    assert profile.gbt27930 == Gbt27930Config(edition)
    assert json.loads(json.dumps(profile.to_dict()))["gbt27930"] == {"edition": edition}
    with pytest.raises(AttributeError):
        profile.gbt27930.edition = "2015"  # type: ignore[misc]
    assert isinstance(hash(profile), int)


def test_gbt27930_choices_are_the_packaged_editions() -> None:
    from vgi_bench.gbt27930.messages import EDITIONS, MessageTable
    from vgi_bench.profile import _GBT27930

    assert _GBT27930.fields["edition"].choices == tuple(EDITIONS)
    for edition in EDITIONS:
        MessageTable.edition(edition)


def test_default_profile_shows_the_gbt27930_section_commented_out(tmp_path: Path) -> None:
    from vgi_bench.profile import _default_text

    text = _default_text()
    assert "# [gbt27930]" in text
    uncommented = text.replace("# [gbt27930]", "[gbt27930]").replace(
        '# edition = "2015"', 'edition = "2015"'
    )
    profile = load_profile(write(tmp_path, uncommented, "default.toml"))
    assert profile.raw["gbt27930"] == {"edition": "2015"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[platform]\nca_cert=5\n", "'platform.ca_cert' must be a string, got int"),
        ("[platform]\ncert=''\n", "'platform.cert'"),
        ("[platform]\nca_crt='ca.pem'\n", "unknown key 'platform.ca_crt'"),
        ("[platform]\ncharge_status_period_s=0\n", "'platform.charge_status_period_s'"),
        ("[platform]\ncheck_orders_wait_s='x'\n", "'platform.check_orders_wait_s'"),
        ("[platform]\nretry_wait_s=-1\n", "'platform.retry_wait_s'"),
    ],
)
def test_platform_tls_and_timing_keys_are_checked(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in load_error(tmp_path, MINIMAL + text)


def test_platform_certificate_paths_are_resolved(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(MINIMAL + "[platform]\nca_cert='ca.pem'\ncert='b.pem'\nkey='b.key'\n")
    platform = load_profile(path).platform
    assert platform is not None
    assert platform.ca_cert == str(tmp_path.resolve() / "ca.pem")
    assert platform.key == str(tmp_path.resolve() / "b.key")


REPORT_17025 = """\
[dut]
vendor = "ACME"
model = "DC-120"
serial = "A1"
firmware = "2.3"
description = "DC charger, two guns"
rating = "DC 200-750 V, 0-250 A, 120 kW"
connector = "GB/T 20234.3"
hardware = "rev C"

[report]
lab = "ACME Lab"
lab_address = "1 Test Road"
accreditation = "CNAS L1234"
accreditation_body = "CNAS"
customer = "Charger Co."
customer_address = "2 Grid Street"
number = "ACME-2026-001"
number_prefix = "ACME"
location = "Hall 2"
ambient_temperature_c = 23
relative_humidity_pct = 45.5
tested_by = "Li Wei"
reviewed_by = "Wang Fang"
approved_by = "Zhang San"
deviations = ["Insulation test at 500 V instead of 1000 V"]
"""


def test_report_and_dut_keys_of_an_accredited_lab(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, REPORT_17025, "lab.toml"))
    assert profile.dut.rating == "DC 200-750 V, 0-250 A, 120 kW"
    assert profile.dut.connector == "GB/T 20234.3" and profile.dut.hardware == "rev C"
    report = profile.report
    assert report.ambient_temperature_c == 23.0 and report.relative_humidity_pct == 45.5
    assert report.deviations == ("Insulation test at 500 V instead of 1000 V",)
    assert (report.accreditation, report.approved_by) == ("CNAS L1234", "Zhang San")
    data = profile.to_dict()
    assert data["report"]["deviations"] == ["Insulation test at 500 V instead of 1000 V"]
    assert data["dut"]["description"] == "DC charger, two guns"
    # Left out, they are empty: a profile of before stays valid.
    plain = load_profile(write(tmp_path, MINIMAL, "plain.toml"))
    assert plain.dut.rating == "" and plain.report.deviations == ()
    assert plain.report.ambient_temperature_c is None and plain.report.number_prefix == "VGI"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("relative_humidity_pct = 145", "'report.relative_humidity_pct' must be 0..100"),
        ('ambient_temperature_c = "warm"', "'report.ambient_temperature_c' must be a number"),
        ('deviations = "none"', "'report.deviations' must be an array"),
        ("deviations = [1]", "'report.deviations[0]' must be a string"),
        ('number_prefix = ""', "'report.number_prefix' must not be empty"),
        ('aproved_by = "x"', "did you mean 'report.approved_by'"),
    ],
)
def test_report_keys_refused_with_their_name(tmp_path: Path, line: str, reason: str) -> None:
    with pytest.raises(ProfileError, match=re.escape(reason)):
        load_profile(write(tmp_path, MINIMAL + "[report]\n" + line + "\n"))
