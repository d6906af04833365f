"""GB/T 27930 editions as data: 2015, 2023 Class A, the V2G draft; ``extends``; aliases."""

from __future__ import annotations

import json
from collections import deque
from importlib import resources
from pathlib import Path

import cantools
import pytest

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.transport import TP_CM_PGN, TpCompleted, TpReceiver, TpSender
from vgi_bench.cases import Measurements
from vgi_bench.gbt27930.dbc import export_dbc
from vgi_bench.gbt27930.messages import EDITIONS, Decoded, DecodeError, MessageTable
from vgi_bench.profile import load_profile, parse_profile
from vgi_bench.rigs.gbt27930 import charger_rig

T2015 = MessageTable.edition("2015")
T2023 = MessageTable.edition("2023a")
DRAFT = MessageTable.edition("v2g-draft")
BASE_2015 = str(resources.files("vgi_bench.gbt27930").joinpath("data", "gbt27930_2015.toml"))


def decoded(table: MessageTable, name: str, hexdata: str) -> Decoded:
    result = table.decode_by_name(name, bytes.fromhex(hexdata))
    assert isinstance(result, Decoded), result
    return result


def derived(**doc) -> MessageTable:
    return MessageTable.from_document({"extends": "gbt27930_2015", **doc})


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_each_edition_loads_and_round_trips_its_defaults(edition: str) -> None:
    table = MessageTable.edition(edition)
    assert MessageTable.edition(edition) is table  # parsed once
    assert table.title.startswith("GB/T 27930")
    assert {"CHM", "BHM", "BCL", "CCS", "BST", "CST"} <= {spec.name for spec in table}
    for spec in table:
        if all(s.optional or s.default is not None for s in spec.signals):
            payload = table.encode(spec.name)
            assert isinstance(table.decode(spec.pgn, payload), Decoded), spec.name


def test_registry() -> None:
    assert dict(EDITIONS) == {
        "2015": "gbt27930_2015.toml",
        "2023a": "gbt27930_2023a.toml",
        "v2g-draft": "gbt27930_v2g_draft.toml",
    }
    with pytest.raises(TypeError):
        EDITIONS["2030"] = "x.toml"  # type: ignore[index]
    assert MessageTable.gbt27930_2015() is T2015
    with pytest.raises(ValueError, match=r"unknown GB/T 27930 edition '2023'.*'2015', '2023a'"):
        MessageTable.edition("2023")
    assert T2023.source["extends"] == "gbt27930_2015"
    assert "doubts" in T2023.source and "doubts" in T2023.source["base"]
    assert DRAFT.source["status"].startswith("DRAFT")
    assert "departure time" in DRAFT.source["rationale"]


# --------------------------------------------------------------------------- 2023 Class A


def test_2023a_bhm_has_the_new_name_and_answers_to_the_old_one() -> None:
    bhm = decoded(T2023, "BHM", "4C 1D")  # 750.0 V
    assert bhm["insulation_check_voltage"] == 750.0
    assert bhm["max_charge_voltage"] == 750.0
    assert bhm.values.get("max_charge_voltage") == 750.0 and "max_charge_voltage" in bhm.values
    assert list(bhm.values) == ["insulation_check_voltage"]  # shown once, under the new name
    assert json.loads(json.dumps(bhm.values)) == {"insulation_check_voltage": 750.0}
    assert bhm.values.get("nope", 1) == 1 and "nope" not in bhm.values
    with pytest.raises(KeyError):
        bhm["nope"]
    spec = T2023["BHM"]
    assert spec.signal("max_charge_voltage") is spec.signal("insulation_check_voltage")
    assert (spec.signal("insulation_check_voltage").minimum, spec.signals[0].maximum) == (0, 6553.5)
    # Code that sets BHM values works across editions.
    assert T2023.encode("BHM", {"max_charge_voltage": 700}) == bytes.fromhex("58 1B")
    assert T2023.encode("BHM", {"insulation_check_voltage": 700}) == bytes.fromhex("58 1B")
    assert T2023.encode_raw("BHM", {"max_charge_voltage": 7000}) == bytes.fromhex("58 1B")
    with pytest.raises(ValueError, match="given twice"):
        T2023.encode("BHM", {"max_charge_voltage": 700, "insulation_check_voltage": 700})
    # 2015 unchanged: the old name only.
    assert list(decoded(T2015, "BHM", "4C 1D").values) == ["max_charge_voltage"]
    with pytest.raises(ValueError, match="unknown signal"):
        T2015.encode("BHM", {"insulation_check_voltage": 700})


def test_2023a_cst_new_fault_bits() -> None:
    # Fault stop; byte 3 b5 self-check fault; byte 4 b5 parameter mismatch (b7-8 padding).
    cst = decoded(T2023, "CST", "10 00 10 D0")
    assert cst["fault_stop"] == 1
    assert (cst["self_check_fault"], cst["precharge_fault"], cst["parameter_mismatch"]) == (1, 0, 1)
    cst = decoded(T2023, "CST", "10 00 40 C0")
    assert (cst["self_check_fault"], cst["precharge_fault"], cst["parameter_mismatch"]) == (0, 1, 0)
    assert T2023.encode("CST", {"precharge_fault": "fault"}) == bytes.fromhex("00 00 40 C0")
    # 2015 has no such fields: the same bits are padding to it.
    assert "self_check_fault" not in decoded(T2015, "CST", "10 00 10 D0").values
    assert T2015.encode("CST") == bytes.fromhex("00 00 F0 F0")
    # A 2015 charger's padding is an undefined code (11) in the 2023 fields.
    bad = T2023.decode_by_name("CST", bytes.fromhex("04 00 F0 F0"))
    assert isinstance(bad, DecodeError) and "CST.self_check_fault" in bad.reason


def test_2023a_bst_renamed_faults_keep_the_2015_names() -> None:
    renamed = {
        "vehicle_inlet_over_temperature": "output_connector_over_temperature",
        "internal_harness_over_temperature": "bms_component_over_temperature",
        "coupler_fault": "charging_connector_fault",
    }
    for bit, (new, old) in enumerate(renamed.items(), start=1):
        payload = T2023.encode("BST", {old: "fault"})
        assert payload == T2015.encode("BST", {old: "fault"})[:3] + b"\xc0"
        assert payload[1] == 1 << (2 * bit)
        bst = decoded(T2023, "BST", payload.hex())
        assert bst[new] == bst[old] == 1
        assert T2023["BST"].signal(new).aliases == (old,)
    bst = decoded(T2023, "BST", "00 00 00 D0")
    assert bst["parameter_mismatch"] == 1


# --------------------------------------------------------------------------- V2G draft

BDP_VALUES = {
    "service": "charge_and_discharge",
    "max_discharge_current": 125.5,
    "min_discharge_current": 5.0,
    "max_discharge_power": 60.0,
    "departure_time": 480,
    "target_soc": 80,
    "discharge_min_soc": 30,
}
BDP_PAYLOAD = bytes.fromhex("02 87 14 D2 0F 58 02 E0 01 50 1E")


def tp_transfer(pgn: int, payload: bytes) -> tuple[list[Frame], list[TpCompleted]]:
    """BMS -> charger connection-mode transfer, sender and receiver back-to-back."""
    sender = TpSender(pgn, payload, BMS_ADDRESS, CHARGER_ADDRESS)
    receiver = TpReceiver(CHARGER_ADDRESS)
    queue = deque(sender.start(0.0))
    trace: list[Frame] = []
    events = []
    while queue:
        frame = queue.popleft()
        trace.append(frame)
        frames, got = receiver.on_frame(frame, 0.0)
        events += got
        queue += frames + sender.on_frame(frame, 0.0)
    assert sender.done and isinstance(sender.result, TpCompleted)
    return trace, events


def test_draft_bdp_round_trips_and_crosses_the_transport() -> None:
    spec = DRAFT["BDP"]
    assert (spec.pgn, spec.priority, spec.sender, spec.period_s) == (0x3000, 6, "bms", 0.5)
    assert spec.multi_packet and spec.can_id == 0x183056F4
    assert DRAFT["CDC"].pgn == 0x3100 and DRAFT["CDC"].length == 8
    assert DRAFT["CDC"].can_id == 0x1831F456
    payload = DRAFT.encode("BDP", BDP_VALUES)
    assert payload == BDP_PAYLOAD
    bdp = decoded(DRAFT, "BDP", payload.hex())
    assert bdp.values == {**BDP_VALUES, "service": 2}
    assert spec.signal("service").label(bdp["service"]) == "charge_and_discharge"
    # Not available: departure time and SOCs sent as all ones.
    sparse = DRAFT.encode("BDP", {"service": "charge_only"})
    assert sparse[7:] == b"\xff" * 4
    assert decoded(DRAFT, "BDP", sparse.hex())["departure_time"] is None
    with pytest.raises(ValueError, match="out of range"):
        DRAFT.encode("BDP", {"departure_time": 1441})
    with pytest.raises(ValueError, match="out of range"):
        DRAFT.encode("BDP", {"max_discharge_current": -10})

    trace, events = tp_transfer(spec.pgn, payload)
    rts = trace[0]
    assert rts.pgn == TP_CM_PGN and rts.data == bytes.fromhex("10 0B 00 02 FF 00 30 00")
    assert [(e.pgn, e.payload) for e in events] == [(0x3000, payload)]
    assert DRAFT.decode(events[0].pgn, events[0].payload) == bdp
    # The 2015 table does not know the PGN.
    unknown = T2015.decode(0x3000, payload)
    assert isinstance(unknown, DecodeError) and "unknown PGN 0x3000" in unknown.reason


def test_draft_cdc_layout() -> None:
    payload = DRAFT.encode(
        "CDC",
        {
            "discharge_supported": "yes",
            "max_discharge_current": 100,
            "max_discharge_power": 50,
            "min_discharge_current": 2,
        },
    )
    assert payload == bytes.fromhex("01 88 13 F4 01 B4 0F FF")
    cdc = decoded(DRAFT, "CDC", payload.hex())
    assert (cdc["discharge_supported"], cdc["max_discharge_current"]) == (1, 100.0)


def test_positive_current_is_discharge_in_the_draft_only() -> None:
    bcl = "A0 0F 94 11 02"  # 400 V, +50 A, constant current
    assert decoded(DRAFT, "BCL", bcl)["current_demand"] == 50.0
    error = T2015.decode_by_name("BCL", bytes.fromhex(bcl))
    assert isinstance(error, DecodeError)
    assert "BCL.current_demand" in error.reason and "out of range [-400, 0]" in error.reason
    assert isinstance(T2023.decode_by_name("BCL", bytes.fromhex(bcl)), DecodeError)
    ccs = DRAFT.encode("CCS", {"output_current": 50})
    assert decoded(DRAFT, "CCS", ccs.hex())["output_current"] == 50.0
    with pytest.raises(ValueError, match="out of range"):
        T2015.encode("CCS", {"output_current": 50})
    # Charging keeps working the 2015 way.
    assert decoded(DRAFT, "BCL", "A5 10 D8 0E 02")["current_demand"] == pytest.approx(-20.0)


# --------------------------------------------------------------------------- extends


def test_extends_does_not_leak_into_the_base() -> None:
    for name in EDITIONS:
        MessageTable.edition(name)
    before = list(MessageTable.load(BASE_2015))
    changed = derived(
        overrides=[{"message": "BHM", "change": [{"signal": "max_charge_voltage", "max": 800}]}]
    )
    assert changed["BHM"].signals[0].maximum == 800
    fresh = MessageTable.load(BASE_2015)
    assert list(fresh) == before
    assert list(MessageTable.edition("2015")) == list(fresh)
    assert T2015["BHM"].signals[0].name == "max_charge_voltage"
    assert T2015["BHM"].signals[0].aliases == () and T2015["BHM"].aliases == {}
    assert T2015["BCL"].signal("current_demand").maximum == 0
    assert "BDP" not in T2015 and "CDC" not in T2015
    assert "self_check_fault" not in {s.name for s in T2015["CST"].signals}
    assert "extends" not in T2015.source
    assert len(T2015) == 22 and len(DRAFT) == 24


def test_override_forms() -> None:
    table = derived(
        source={"title": "GB/T 27930 test"},
        overrides=[
            {"message": "BHM", "period_ms": 500, "title": "x"},
            {"message": "BRO", "signals": [{"name": "ready", "byte": 1, "bits": 8, "default": 1}]},
            {
                "message": "CCS",
                "remove": ["charging_time"],
                "change": [{"signal": "output_voltage", "name": "volts", "default": 1.0}],
                "add": [{"name": "extra", "byte": 5, "bits": 8, "default": 7}],
            },
        ],
        messages=[{"name": "X", "pgn": 0x3200, "priority": 6, "length": 1, "sender": "bms"}],
    )
    assert table.title == "GB/T 27930 test"
    assert table["BHM"].period_s == 0.5 and table["BHM"].title == "x"
    assert [s.name for s in table["BRO"].signals] == ["ready"]
    ccs = table["CCS"]
    assert [s.name for s in ccs.signals] == [
        "volts",
        "output_current",
        "charging_permitted",
        "extra",
    ]
    assert ccs.signal("volts").scale == 0.1 and ccs.signal("volts").spn == 3081
    assert table.encode("X") == b"\xff" and table["X"].pgn == 0x3200


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"overrides": [{"message": "BXX"}]}, r"override of unknown message 'BXX': .* has CHM, "),
        (
            {"overrides": [{"message": "BHM", "change": [{"signal": "volts", "max": 1}]}]},
            r"override of BHM: change of unknown signal 'volts' \(BHM has max_charge_voltage\)",
        ),
        (
            {"overrides": [{"message": "CST", "remove": ["nope"]}]},
            r"override of CST: remove of unknown signal 'nope'",
        ),
        (
            {"overrides": [{"message": "BHM", "change": [{"max": 1}]}]},
            r"each change needs signal",
        ),
        ({"overrides": [{"message": "BHM", "perod_ms": 1}]}, r"unknown key\(s\) \['perod_ms'\]"),
        (
            {"messages": [{"name": "BHM", "pgn": 0x3200, "priority": 6, "length": 1}]},
            r"message BHM is already in gbt27930_2015; change it with \[\[overrides\]\]",
        ),
        (
            {
                "messages": [
                    {"name": "X", "pgn": 0x2700, "priority": 6, "length": 1, "sender": "bms"}
                ]
            },
            r"duplicate message X / PGN 0x2700",
        ),
        (
            {
                "overrides": [
                    {
                        "message": "BHM",
                        "add": [{"name": "max_charge_voltage", "byte": 2, "bits": 1}],
                    }
                ]
            },
            r"BHM: signal max_charge_voltage: overlaps|duplicate signal names",
        ),
        (
            {
                "overrides": [
                    {
                        "message": "CST",
                        "change": [{"signal": "other_fault", "aliases": ["manual_stop"]}],
                    }
                ]
            },
            r"CST: duplicate signal names or aliases \['manual_stop'\]",
        ),
    ],
)
def test_loader_refuses_bad_overrides(doc: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        derived(**doc)


def test_loader_refuses_bad_documents(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[\[overrides\]\] needs 'extends'"):
        MessageTable.from_document({"overrides": [{"message": "BHM"}]})
    with pytest.raises(ValueError, match=r"extends = 'gbt27930_2099': no table .* '2015'"):
        MessageTable.from_document({"extends": "gbt27930_2099"})
    with pytest.raises(ValueError, match=r"unknown top-level key\(s\) \['override'\]"):
        MessageTable.from_document({"extends": "2015", "override": []})
    (tmp_path / "a.toml").write_text('extends = "b"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ValueError, match=r"extends cycle: .*a\.toml -> .*b\.toml -> .*a\.toml"):
        MessageTable.load(tmp_path / "a.toml")


def test_load_follows_extends_next_to_the_file_then_packaged(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'extends = "v2g-draft"\n[source]\ntitle = "mine"\n'
        '[[overrides]]\nmessage = "CDC"\nperiod_ms = 100\n'
    )
    table = MessageTable.load(tmp_path / "mine.toml")
    assert table.title == "mine" and table["CDC"].period_s == 0.1 and "BDP" in table
    assert table.source["base"]["status"].startswith("DRAFT")
    # A local base of the same name wins over the packaged one.
    (tmp_path / "gbt27930_2015.toml").write_text(
        '[[messages]]\nname = "ONLY"\npgn = 0x3300\npriority = 6\nlength = 1\nsender = "bms"\n'
    )
    (tmp_path / "local.toml").write_text('extends = "gbt27930_2015"\n')
    assert [s.name for s in MessageTable.load(tmp_path / "local.toml")] == ["ONLY"]


# --------------------------------------------------------------------------- DBC


@pytest.mark.parametrize("edition", list(EDITIONS))
def test_dbc_export_of_every_edition_loads_in_cantools(edition: str, tmp_path: Path) -> None:
    table = MessageTable.edition(edition)
    path = tmp_path / f"{edition}.dbc"
    export_dbc(table, path)
    db = cantools.database.load_file(str(path))
    assert {m.name for m in db.messages} == {spec.name for spec in table}
    assert db.version == table.title
    bhm = db.get_message_by_name("BHM")
    assert [s.name for s in bhm.signals] == [s.name for s in table["BHM"].signals]
    if edition == "2023a":
        assert "also called max_charge_voltage" in (bhm.signals[0].comment or "")
    if edition == "v2g-draft":
        bdp = db.get_message_by_frame_id(0x183056F4)
        assert bdp.name == "BDP" and bdp.length == 11
        assert bdp.decode(BDP_PAYLOAD)["max_discharge_current"] == pytest.approx(125.5)
        bcl = db.get_message_by_name("BCL").decode(bytes.fromhex("A0 0F 94 11 02"))
        assert bcl["current_demand"] == pytest.approx(50.0)


# --------------------------------------------------------------------------- profile -> rig


def test_profile_edition_reaches_the_rig() -> None:
    raw = dict(load_profile(None).raw)
    profile = parse_profile({**raw, "gbt27930": {"edition": "2023a"}})
    assert profile.gbt27930.edition == "2023a"
    with charger_rig(profile, Measurements()) as rig:
        assert rig.table is T2023
        assert rig.capture.table is T2023
        assert rig.sim is not None and rig.sim.table is T2023  # the simulated charger too
        chm = rig.capture.wait_for("CHM", timeout=5.0)
        assert chm is not None and chm.values["protocol_version"] == 0x000101
