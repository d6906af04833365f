"""J1939 29-bit identifiers and the frame record every layer of the bench passes around.

Identifier packing is cantools' (``cantools.j1939``); this module only adds the
PDU1 destination handling GB/T 27930 relies on and a small frame dataclass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import can
from cantools import j1939 as cj1939

GLOBAL_ADDRESS = 0xFF
#: GB/T 27930-2015 addresses (reference §1): charger 0x56 (86), BMS 0xF4 (244).
CHARGER_ADDRESS = 0x56
BMS_ADDRESS = 0xF4


@dataclass(frozen=True)
class J1939Id:
    """A decoded 29-bit identifier. ``dst`` is the PDU1 destination (global for PDU2)."""

    priority: int
    pgn: int
    src: int
    dst: int = GLOBAL_ADDRESS

    def pack(self) -> int:
        """Compose the 29-bit identifier ``P<<26 | R<<25 | DP<<24 | PF<<16 | PS<<8 | SA``."""
        reserved, data_page, pdu_format, pdu_specific = cj1939.pgn_unpack(self.pgn)
        if cj1939.is_pdu_format_1(pdu_format):
            pdu_specific = self.dst
        return cj1939.frame_id_pack(
            self.priority, reserved, data_page, pdu_format, pdu_specific, self.src
        )

    @classmethod
    def unpack(cls, arbitration_id: int) -> J1939Id:
        """Split a 29-bit identifier; PDU1 PGNs come back with PS zeroed and ``dst`` set.

        Cached: a bus carries a few dozen distinct identifiers, and cantools' unpacking
        (bitstruct) is most of the cost of taking a frame in (a 1M-frame trace spent
        three quarters of its time here). The result is frozen, so sharing it is safe.
        """
        return _unpack(cls, arbitration_id)


@functools.lru_cache(maxsize=4096)
def _unpack(cls: type[J1939Id], arbitration_id: int) -> J1939Id:
    fid = cj1939.frame_id_unpack(arbitration_id)
    if cj1939.is_pdu_format_1(fid.pdu_format):
        pgn = cj1939.pgn_pack(fid.reserved, fid.data_page, fid.pdu_format, 0)
        dst = fid.pdu_specific
    else:
        pgn = cj1939.pgn_pack(fid.reserved, fid.data_page, fid.pdu_format, fid.pdu_specific)
        dst = GLOBAL_ADDRESS
    return cls(priority=fid.priority, pgn=pgn, src=fid.source_address, dst=dst)


@dataclass(frozen=True)
class Frame:
    """One CAN frame seen as J1939: id fields, payload and the bus timestamp (seconds)."""

    priority: int
    pgn: int
    src: int
    dst: int
    data: bytes
    timestamp: float = 0.0
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def arbitration_id(self) -> int:
        return J1939Id(self.priority, self.pgn, self.src, self.dst).pack()

    def to_can(self) -> can.Message:
        return can.Message(
            arbitration_id=self.arbitration_id,
            is_extended_id=True,
            data=self.data,
            timestamp=self.timestamp,
        )

    @classmethod
    def from_can(cls, msg: can.Message) -> Frame | None:
        """The J1939 view of a python-can message; ``None`` for 11-bit, error, remote or bad ids."""
        if not msg.is_extended_id or msg.is_error_frame or msg.is_remote_frame:
            return None
        if not 0 <= msg.arbitration_id < 1 << 29:  # a corrupt log line, not a CAN id
            return None
        jid = J1939Id.unpack(msg.arbitration_id)
        return cls(jid.priority, jid.pgn, jid.src, jid.dst, bytes(msg.data), msg.timestamp)
