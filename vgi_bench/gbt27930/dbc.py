"""Export a GB/T 27930 message table as a DBC, for CAN tools (SavvyCAN, BusMaster, cantools).

Any edition exports (``export_dbc(MessageTable.edition("2023a"), path)``); the DBC's
VERSION is the table's title, and a signal's aliases are listed in its comment.

The bench itself decodes with ``vgi_bench.gbt27930.messages``; the DBC is a by-product so
people can read bench traces in their usual viewers. What a DBC cannot express is
approximated and said in signal comments:

* a DBC signal is at most 64 bits, so longer ASCII/bytes fields (the 17-byte VIN) are split
  into one 8-bit signal per byte, ``vin_1`` .. ``vin_17``;
* ASCII/BCD/bytes fields of 64 bits or less are exported as plain unsigned integers;
* multi-packet messages (BRM, BCP, BCS, BMV, BMT, BSP) are exported at their full length
  with the id of the PGN, as J1939-aware tools show reassembled transport sessions;
* "all ones = not available" and the 0xFF padding rule have no DBC form.

The file is a J1939 database, as Vector's J1939 template declares one, so CANalyzer and
CANoe read BRM (49 bytes) or BMV (512 bytes) as J1939 parameter groups, not as invalid
classic frames: database attributes ``ProtocolType = "J1939"``, ``BusType = "CAN"`` and
``DBName``; ``VFrameFormat = J1939PG`` on every message (cantools writes it for messages
whose ``protocol`` is ``"j1939"`` once the enum is defined), ``GenMsgCycleTime`` and
``SPN`` (cantools, from the cycle time and the signals' SPNs), and each node's J1939
address as ``NmStationAddress``.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import cantools
from cantools.database import Database, Message, Signal
from cantools.database.can import Node
from cantools.database.can.formats.dbc import DbcAttribute, DbcAttributeDefinition, DbcSpecifics
from cantools.database.conversion import BaseConversion
from cantools.database.namedsignalvalue import NamedSignalValue

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS
from vgi_bench.gbt27930.messages import MessageSpec, MessageTable, SignalSpec

#: Node names used in the DBC for the two ends of the link.
NODES = {"charger": "Charger", "bms": "BMS"}
#: Their J1939 source addresses (GB/T 27930-2015: charger 0x56, BMS 0xF4).
NODE_ADDRESSES = {"Charger": CHARGER_ADDRESS, "BMS": BMS_ADDRESS}

#: Attribute definitions of a J1939 database as Vector's J1939 template has them (names,
#: types and the VFrameFormat enum, whose index 3 is J1939PG; CAN FD at 14/15).
#: cantools has no ready-made J1939 set, so they are declared here with its classes.
VFRAMEFORMAT = DbcAttributeDefinition(
    "VFrameFormat",
    default_value="StandardCAN",
    kind="BO_",
    type_name="ENUM",
    choices=["StandardCAN", "ExtendedCAN", "reserved", "J1939PG"]
    + ["reserved"] * 10
    + ["StandardCAN_FD", "ExtendedCAN_FD"],
)
PROTOCOL_TYPE = DbcAttributeDefinition("ProtocolType", default_value="", type_name="STRING")
BUS_TYPE = DbcAttributeDefinition("BusType", default_value="", type_name="STRING")
DB_NAME = DbcAttributeDefinition("DBName", default_value="", type_name="STRING")
NM_STATION_ADDRESS = DbcAttributeDefinition(
    "NmStationAddress", default_value=254, kind="BU_", type_name="HEX", minimum=0, maximum=255
)


def to_cantools_database(table: MessageTable) -> Database:
    """The table as a cantools J1939 Database: one message per PGN, sender -> receiver."""
    definitions = (PROTOCOL_TYPE, BUS_TYPE, DB_NAME, VFRAMEFORMAT, NM_STATION_ADDRESS)
    attributes = {PROTOCOL_TYPE: "J1939", BUS_TYPE: "CAN", DB_NAME: _db_name(table.title)}
    return Database(
        messages=[_message(spec) for spec in table],
        nodes=[
            Node(name, dbc_specifics=_attributes({NM_STATION_ADDRESS: NODE_ADDRESSES[name]}))
            for name in NODES.values()
        ],
        version=table.title,
        dbc_specifics=DbcSpecifics(
            attributes=_attributes(attributes).attributes,
            attribute_definitions=OrderedDict((d.name, d) for d in definitions),
        ),
        strict=False,  # see _message
    )


def _attributes(values: Mapping[DbcAttributeDefinition[Any], str | int]) -> DbcSpecifics:
    return DbcSpecifics(
        attributes=OrderedDict((d.name, DbcAttribute(value, d)) for d, value in values.items())
    )


def _db_name(title: str) -> str:
    """``DBName`` is a C identifier in Vector's tools: ``GB/T 27930-2015`` -> ``GBT_27930_2015``."""
    name = re.sub(r"\W+", "_", title.replace("/", "")).strip("_")
    return name if name and not name[0].isdigit() else f"DB_{name}"


def export_dbc(table: MessageTable, path: str | os.PathLike[str]) -> None:
    """Write the table to ``path`` as a DBC file (cantools' dumper)."""
    cantools.database.dump_file(to_cantools_database(table), os.fspath(path), "dbc")


def _message(spec: MessageSpec) -> Message:
    receiver = NODES[spec.receiver]
    signals = [s for sig in spec.signals for s in _signals(sig, receiver)]
    comment = spec.title + (" (optional)" if spec.optional else "")
    if spec.min_length != spec.max_length:
        comment += f"; length {spec.min_length}..{spec.max_length} bytes"
    return Message(
        frame_id=spec.can_id,
        name=spec.name,
        length=spec.length,
        signals=signals,
        senders=[NODES[spec.sender]],
        cycle_time=None if spec.period_s is None else round(spec.period_s * 1000),
        is_extended_frame=True,
        protocol="j1939",  # VFrameFormat J1939PG
        unused_bit_pattern=0xFF,
        comment=comment,
        # MessageTable.load already rejected overlaps; cantools' own check walks every bit of
        # every signal and takes seconds on the 512-byte BMV. load_file still checks strictly.
        strict=False,
    )


def _signals(sig: SignalSpec, receiver: str) -> list[Signal]:
    notes = [sig.doc.rstrip(".")] if sig.doc else []
    if sig.aliases:
        notes.append(f"also called {', '.join(sig.aliases)}")
    if sig.kind != "uint":
        notes.append(f"{sig.kind} field")
    if sig.optional:
        notes.append("all ones = not available")
    if sig.bits <= 64:
        choices: OrderedDict[int, str | NamedSignalValue] | None = (
            OrderedDict(sorted(sig.choices.items())) or None
        )
        return [
            Signal(
                name=sig.name,
                start=sig.start,
                length=sig.bits,
                byte_order="little_endian",
                conversion=BaseConversion.factory(sig.scale, sig.offset, choices),
                minimum=sig.minimum,
                maximum=sig.maximum,
                unit=sig.unit or None,
                comment="; ".join(notes) or None,
                receivers=[receiver],
                spn=sig.spn,
            )
        ]
    # Longer than a DBC signal can be: only byte-aligned kinds get here (checked on load).
    return [
        Signal(
            name=f"{sig.name}_{i + 1}",
            start=sig.start + 8 * i,
            length=8,
            byte_order="little_endian",
            comment="; ".join([*notes, f"byte {i + 1} of {sig.bits // 8}"]),
            receivers=[receiver],
            spn=sig.spn,
        )
        for i in range(sig.bits // 8)
    ]
