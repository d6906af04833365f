"""The DBC export (vgi_bench/gbt27930/dbc.py) as CAN tools read it: a J1939 database whose
messages decode a recorded session to the values the bench decodes.

The J1939 attributes are checked in the file's text (``BA_DEF_`` / ``BA_DEF_DEF_`` /
``BA_`` lines as CANalyzer and CANoe parse them) and as cantools loads them back.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cantools
import pytest

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS
from vgi_bench.cli import main
from vgi_bench.gbt27930.dbc import export_dbc
from vgi_bench.gbt27930.editions import EDITIONS
from vgi_bench.gbt27930.messages import MessageSpec, MessageTable, SignalSpec, Value
from vgi_bench.gbt27930.trace import decode_log
from vgi_bench.reference.gbt27930.recording import record_session

TABLE = MessageTable.gbt27930_2015()


@pytest.fixture(scope="module")
def dbc_2015(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dbc") / "gbt27930-2015.dbc"
    assert main(["dbc", str(path)]) == 0
    return path


def test_database_is_declared_j1939(dbc_2015: Path) -> None:
    text = dbc_2015.read_text(encoding="utf-8")
    assert re.search(r'^BA_DEF_ +"ProtocolType" +STRING *;', text, re.M)
    assert re.search(r'^BA_ +"ProtocolType" +"J1939";', text, re.M)
    assert re.search(r'^BA_ +"BusType" +"CAN";', text, re.M)
    assert re.search(r'^BA_ +"DBName" +"GBT_27930_2015";', text, re.M)
    enum = re.search(r'^BA_DEF_ +BO_ +"VFrameFormat" +ENUM +([^;]*);', text, re.M)
    assert enum is not None
    choices = [c.strip().strip('"') for c in enum[1].split(",")]
    assert choices[:4] == ["StandardCAN", "ExtendedCAN", "reserved", "J1939PG"]
    assert choices[14:] == ["StandardCAN_FD", "ExtendedCAN_FD"]
    assert re.search(r'^BA_DEF_DEF_ +"VFrameFormat" +"StandardCAN";', text, re.M)


def test_every_message_is_a_j1939_parameter_group(dbc_2015: Path) -> None:
    text = dbc_2015.read_text(encoding="utf-8")
    frame_format = {
        int(m[1]): int(m[2])
        for m in re.finditer(r'^BA_ +"VFrameFormat" +BO_ +(\d+) +(\d+);', text, re.M)
    }
    expected = {spec.can_id | 0x80000000: 3 for spec in TABLE}  # DBC: extended-id flag
    assert frame_format == expected  # 3 = J1939PG, on every message
    db = cantools.database.load_file(str(dbc_2015))
    assert {m.name: m.protocol for m in db.messages} == {spec.name: "j1939" for spec in TABLE}
    assert db.dbc is not None and db.dbc.attributes["ProtocolType"].value == "J1939"
    assert (db.get_message_by_name("BRM").length, db.get_message_by_name("BMV").length) == (
        49,
        512,
    )


def test_nodes_carry_their_j1939_address(dbc_2015: Path) -> None:
    text = dbc_2015.read_text(encoding="utf-8")
    assert re.search(r'^BA_DEF_ +BU_ +"NmStationAddress" +HEX +0 +255;', text, re.M)
    found = dict(re.findall(r'^BA_ +"NmStationAddress" +BU_ +(\w+) +(\d+);', text, re.M))
    assert found == {"Charger": str(CHARGER_ADDRESS), "BMS": str(BMS_ADDRESS)}
    db = cantools.database.load_file(str(dbc_2015))
    addresses = {n.name: n.dbc.attributes["NmStationAddress"].value for n in db.nodes}
    assert addresses == {"Charger": CHARGER_ADDRESS, "BMS": BMS_ADDRESS}


# ------------------------------------------------------------- decoding like the bench


def _dbc_value(
    sig: SignalSpec, physical: dict[str, Any], raw: dict[str, Any]
) -> Value | tuple[str, int]:
    """What the DBC's signal(s) for bench field ``sig`` say, in the bench's terms."""
    if sig.bits > 64:  # split into one byte signal each
        data = bytes(int(raw[f"{sig.name}_{i + 1}"]) for i in range(sig.bits // 8))
    elif sig.kind == "uint":
        return ("raw", int(raw[sig.name])) if sig.optional else physical[sig.name]
    else:
        data = int(raw[sig.name]).to_bytes(sig.bits // 8, "little")
    if sig.optional and data == b"\xff" * len(data):
        return None
    if sig.kind == "ascii":
        return data.rstrip(b"\xff\x00").decode("ascii")
    return data


def assert_dbc_decodes_like_the_bench(
    db: cantools.database.can.Database, spec: MessageSpec, data: bytes, values: dict
) -> None:
    message = db.get_message_by_frame_id(spec.can_id)
    physical = message.decode(data, decode_choices=False)
    raw = message.decode(data, decode_choices=False, scaling=False)
    for sig in spec.signals:
        seen = _dbc_value(sig, physical, raw)
        want = values[sig.name]
        if isinstance(seen, tuple):  # an optional uint: all ones = None in the bench
            seen = None if seen[1] == sig.all_ones else sig.to_physical(seen[1])
        if isinstance(want, float):
            assert seen == pytest.approx(want), f"{spec.name}.{sig.name}"
        else:
            assert seen == want, f"{spec.name}.{sig.name}"


@pytest.fixture(scope="module")
def recorded() -> list[Any]:
    """A whole session between the reference charger and the bench's BMS, decoded."""
    return [e for e in decode_log(record_session(), TABLE) if e.known and e.ok]


def test_dbc_decodes_a_recorded_session_as_the_bench_does(
    dbc_2015: Path, recorded: list[Any]
) -> None:
    db = cantools.database.load_file(str(dbc_2015))
    names = set()
    for entry in recorded:
        assert_dbc_decodes_like_the_bench(db, entry.spec, entry.data, dict(entry.values))
        names.add(entry.name)
    # Both directions, single frames and transport sessions (BRM 49 B, BCP, BCS).
    assert {"CHM", "BHM", "CRM", "BRM", "BCP", "CML", "BCL", "BCS", "CCS", "BSM", "CSD"} <= names


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_dbc_decodes_every_message_of_every_edition(edition: str, tmp_path: Path) -> None:
    table = MessageTable.edition(edition)
    path = tmp_path / f"{edition}.dbc"
    export_dbc(table, path)
    db = cantools.database.load_file(str(path))
    for spec in table:
        data = table.encode(spec.name)
        decoded = table.decode(spec.pgn, data)
        assert_dbc_decodes_like_the_bench(db, spec, data, dict(decoded.values))  # type: ignore[union-attr]
