"""GB/T 27930-2015 message table and codec: real-trace frames, padding, errors, fuzz, DBC."""

from __future__ import annotations

import random
from pathlib import Path

import cantools
import pytest

from vgi_bench.gbt27930.dbc import export_dbc, to_cantools_database
from vgi_bench.gbt27930.messages import Decoded, DecodeError, MessageSpec, MessageTable

TABLE = MessageTable.gbt27930_2015()
ALL_NAMES = [spec.name for spec in TABLE]
EXPECTED = (
    "CHM BHM CRM BRM BCP CTS CML BRO CRO BCL BCS CCS BSM BMV BMT BSP BST CST BSD CSD BEM CEM"
).split()


def _decoded(pgn: int, hexdata: str) -> Decoded:
    result = TABLE.decode(pgn, bytes.fromhex(hexdata))
    assert isinstance(result, Decoded), result
    return result


def test_table_holds_the_2015_message_set() -> None:
    assert sorted(ALL_NAMES) == sorted(EXPECTED)
    assert TABLE["CHM"].can_id == 0x1826F456
    assert TABLE["BEM"].can_id == 0x081E56F4
    assert TABLE["CCS"].length == 7
    assert (TABLE["BRM"].length, TABLE["BRM"].min_length) == (49, 41)
    assert TABLE["BRM"].multi_packet and not TABLE["CML"].multi_packet
    assert TABLE.by_pgn(0x1000) is TABLE["BCL"]
    assert TABLE.by_pgn(0xEC00) is None
    assert TABLE["BCL"].period_s == pytest.approx(0.05)
    assert "doubts" in TABLE.source


@pytest.mark.parametrize("name", ALL_NAMES)
def test_defaults_round_trip(name: str) -> None:
    spec: MessageSpec = TABLE[name]
    data = TABLE.encode(name)
    assert len(data) == spec.length
    decoded = TABLE.decode(spec.pgn, data)
    assert isinstance(decoded, Decoded), decoded
    assert decoded.ok and decoded.raw == data
    for sig in spec.signals:
        expected = sig.default
        if isinstance(expected, float):
            assert decoded[sig.name] == pytest.approx(expected), sig.name
        else:
            assert decoded[sig.name] == expected, sig.name
    assert TABLE.encode(name, decoded.values) == data


@pytest.mark.parametrize(
    ("pgn", "hexdata", "expected"),
    [
        (0x2600, "01 01 00", {"protocol_version": 0x000101}),
        (
            0x1000,
            "A5 10 D8 0E 02",
            {"voltage_demand": 426.1, "current_demand": -20.0, "charge_mode": 2},
        ),
        (
            0x0800,
            "1C 25 7C 01 DC 05 A0 0F",
            {
                "max_output_voltage": 950.0,
                "min_output_voltage": 38.0,
                "max_output_current": -250.0,
                "min_output_current": 0.0,
            },
        ),
        (
            0x1C00,
            "4D 4D 01 4E 01 35 36",
            {
                "final_soc": 77,
                "min_cell_voltage": 3.33,
                "max_cell_voltage": 3.34,
                "min_temperature": 3,
                "max_temperature": 4,
            },
        ),
        (
            0x1D00,
            "00 00 01 00 01 01 01 01",
            {"charging_time": 0, "energy": 0.1, "charger_number": 0x01010101},
        ),
        (0x1A00, "04 00 F0 F0", {"manual_stop": 1, "condition_reached": 0, "bms_stopped": 0}),
        (0x1900, "40 00 00 00", {"charger_stopped": 1, "soc_target_reached": 0}),
        (0x1F00, "FD F0 C0 FC", {"brm_timeout": 1, "bcp_timeout": 0, "bro_timeout": 0}),
        (0x1F00, "FC F1 C0 FC", {"brm_timeout": 0, "bcp_timeout": 1, "bro_timeout": 0}),
        (0x1F00, "FC F4 C0 FC", {"brm_timeout": 0, "bcp_timeout": 0, "bro_timeout": 1}),
        (0x1200, "D8 0E B8 0B 00 00 FD", {"charging_permitted": 1, "output_current": -100.0}),
        (0x1300, "00 4B 00 4B 00 00 10", {"charging_permitted": 1, "max_temperature": 25}),
    ],
)
def test_real_trace_frames(pgn: int, hexdata: str, expected: dict[str, object]) -> None:
    values = _decoded(pgn, hexdata).values
    for key, value in expected.items():
        assert values[key] == pytest.approx(value), key


def test_encode_matches_trace_padding() -> None:
    assert TABLE.encode("CEM", {"brm_timeout": 1}) == bytes.fromhex("FD F0 C0 FC")
    assert TABLE.encode("CEM", {"bcp_timeout": "timeout"}) == bytes.fromhex("FC F1 C0 FC")
    assert TABLE.encode("CST", {"manual_stop": 1}) == bytes.fromhex("04 00 F0 F0")
    assert TABLE.encode("CHM") == bytes.fromhex("01 01 00")
    assert TABLE.encode("CCS", {"charging_permitted": 1})[6] == 0xFD
    assert TABLE.encode("CCS", {"charging_permitted": "paused"})[6] == 0xFC
    cml = {
        "max_output_voltage": 950.0,
        "min_output_voltage": 38.0,
        "max_output_current": -250.0,
        "min_output_current": 0.0,
    }
    assert TABLE.encode("CML", cml) == bytes.fromhex("1C 25 7C 01 DC 05 A0 0F")
    assert TABLE.encode("CRM", {"recognition": "recognised"})[5:] == b"\xff\xff\xff"


def test_split_bcs_highest_cell_and_group() -> None:
    data = TABLE.encode("BCS", {"highest_cell_voltage": 3.45, "highest_cell_group": 5})
    assert data[4:6] == (345 | 5 << 12).to_bytes(2, "little")
    values = _decoded(0x1100, data.hex()).values
    assert (values["highest_cell_voltage"], values["highest_cell_group"]) == (3.45, 5)


def test_brm_ascii_fields_and_short_form() -> None:
    vin = "LSVAU2A37N2183294"
    data = TABLE.encode("BRM", {"vin": vin, "manufacturer": "CATL", "production_year": 2023})
    assert len(data) == 49 and data[23] == 0xFF  # byte 24 reserved
    values = _decoded(0x0200, data.hex()).values
    assert (values["vin"], values["manufacturer"], values["production_year"]) == (
        vin,
        "CATL",
        2023,
    )
    assert values["production_month"] is None
    short = _decoded(0x0200, data[:41].hex()).values  # 41-byte BRM without SPN2576
    assert short["vin"] == vin and short["software_year"] is None
    assert TABLE.encode("BRM", {"vin": vin}, length=41) == TABLE.encode("BRM", {"vin": vin})[:41]


def test_variable_length_bmv() -> None:
    data = TABLE.encode(
        "BMV", {"cell_1_voltage": 3.3, "cell_1_group": 1, "cell_2_voltage": 3.31}, length=4
    )
    assert data == (330 | 1 << 12).to_bytes(2, "little") + bytes.fromhex("4B F1")
    values = _decoded(0x1500, data.hex()).values
    assert values["cell_2_voltage"] == 3.31 and values["cell_2_group"] is None
    assert values["cell_3_voltage"] is None


@pytest.mark.parametrize(
    ("pgn", "hexdata", "fragments"),
    [
        (0x1200, "D8 0E B8 0B 00 00 FD FF", ["CCS", "length 8", "expected 7"]),
        (0x2600, "01 01", ["CHM", "length 2", "expected 3"]),
        (0x0200, "01" * 40, ["BRM", "length 40", "expected 41..49"]),
        (
            0x0800,
            "1C 25 7C 01 FF FF A0 0F",
            ["CML.max_output_current: raw 0xFFFF -> 6153.5 A out of range [-400, 0]"],
        ),
        (0x0900, "FF", ["BRO.bms_ready", "0xFF", "not one of"]),
        (0x1000, "A5 10 D8 0E 03", ["BCL.charge_mode", "0x03"]),
        (0x1F00, "FF F0 C0 FC", ["CEM.brm_timeout", "0x3"]),
        (0x1C00, "65 4D 01 4E 01 35 36", ["BSD.final_soc", "101", "[0, 100]"]),
        (0x0700, "1A 00 00 01 01 24 20", ["CTS.time", "BCD"]),
        (0x4321, "00", ["unknown PGN 0x4321"]),
    ],
)
def test_decode_errors_say_expected_and_seen(pgn: int, hexdata: str, fragments: list[str]) -> None:
    result = TABLE.decode(pgn, bytes.fromhex(hexdata))
    assert isinstance(result, DecodeError) and not result.ok
    for fragment in fragments:
        assert fragment in result.reason, result.reason


def test_optional_all_ones_is_none_not_error() -> None:
    assert _decoded(0x0700, "FF" * 7).values == {"time": None}
    assert _decoded(0x0100, "00 01 00 00 00 FF FF FF")["region_code"] is None


def test_encode_strictness() -> None:
    with pytest.raises(ValueError, match="unknown signal"):
        TABLE.encode("CML", {"max_voltage": 1})
    with pytest.raises(ValueError, match="out of range"):
        TABLE.encode("CML", {"max_output_current": 10.0})
    with pytest.raises(ValueError, match="not one of"):
        TABLE.encode("CRO", {"charger_ready": 1})
    with pytest.raises(ValueError, match="length"):
        TABLE.encode("CCS", length=8)
    # strict=False only clamps to the field width: out-of-range on purpose.
    data = TABLE.encode("CML", {"max_output_current": 10.0}, strict=False)
    assert data[4:6] == (4100).to_bytes(2, "little")
    assert TABLE.encode("CML", {"max_output_current": 1e9}, strict=False)[4:6] == b"\xff\xff"
    assert isinstance(TABLE.decode_by_name("CML", data), DecodeError)


def test_encode_raw_for_fault_injection() -> None:
    assert TABLE.encode_raw("BRO", {"bms_ready": 0xFF}) == b"\xff"
    assert TABLE.encode_raw("CEM", {"brm_timeout": 3}) == bytes.fromhex("FF F0 C0 FC")
    with pytest.raises(ValueError, match="does not fit"):
        TABLE.encode_raw("CCS", {"charging_permitted": 4})


def test_decode_never_raises_on_random_bytes() -> None:
    rng = random.Random(27930)
    pgns = [spec.pgn for spec in TABLE] + [0, 0xEC00, 0xEB00, 0x1400]
    for _ in range(4000):
        pgn = rng.choice(pgns)
        spec = TABLE.by_pgn(pgn)
        near = spec.length if spec is not None else 8
        size = rng.choice([0, 1, near - 1, near, near + 1, rng.randrange(0, 600)])
        data = bytes(rng.getrandbits(8) for _ in range(max(size, 0)))
        if rng.random() < 0.3:  # bias towards all-ones and zeros, where edge cases live
            data = bytes(rng.choice([0x00, 0xFF, b]) for b in data)
        result = TABLE.decode(pgn, data)
        assert isinstance(result, (Decoded, DecodeError))
    assert isinstance(TABLE.decode(0x2600, "01 01 00"), DecodeError)  # type: ignore[arg-type]


def test_load_from_file_and_validation(tmp_path: Path) -> None:
    text = (
        '[[messages]]\nname = "X"\npgn = 0x1234\npriority = 6\nlength = 2\nsender = "bms"\n'
        'signals = [{ name = "a", byte = 1, bits = 12, default = 1 }, '
        '{ name = "b", byte = 2, bit = 4, bits = 4, default = 2 }]\n'
    )
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match="X: signal b: overlaps"):
        MessageTable.load(path)
    path.write_text(text.replace("bit = 4", "bit = 5"))
    table = MessageTable.load(path)
    assert table.encode("X") == bytes.fromhex("01 20")
    assert table["X"].period_s is None


def test_dbc_export_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "gbt27930_2015.dbc"
    export_dbc(TABLE, path)
    db = cantools.database.load_file(str(path))
    chm = db.get_message_by_frame_id(0x1826F456)
    assert chm.name == "CHM" and chm.is_extended_frame and chm.length == 3
    assert {m.name for m in db.messages} == set(EXPECTED)
    bcl = db.get_message_by_name("BCL")
    assert bcl.decode(bytes.fromhex("A5 10 D8 0E 02"))["current_demand"] == pytest.approx(-20.0)
    assert "vin_17" in {s.name for s in db.get_message_by_name("BRM").signals}
    assert to_cantools_database(TABLE).get_message_by_name("CCS").length == 7
