"""The bench as charger: drives a BMS under test through a GB/T 27930-2015 session.

The mirror of :mod:`vgi_bench.gbt27930.bms_role`: the role follows the standard's sequence
(CHM → CRM → CTS/CML → CRO → CCS → CST/CSD) by reacting to the BMS's messages, and a
case changes any of it through :class:`ChargerScript`: values, withheld messages, raw
bytes, periods, delays, and the transport responder's behaviour (CTS withheld, CTS(0)
hold, Abort mid-transfer) for the BMS's long messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

import can

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.transport import (
    TP_CM_PGN,
    TP_DT_PGN,
    AbortReason,
    TpAborted,
    encode_cts,
    parse_cm,
)
from vgi_bench.gbt27930.messages import Decoded, MessageTable
from vgi_bench.gbt27930.scripted_role import MessageScript, ScriptedRole

log = logging.getLogger(__name__)

READY = 0xAA


class ChargerPhase(str, Enum):
    """Where the bench charger is in the sequence (reference §3)."""

    HANDSHAKE = "handshake"  # CHM until BHM
    RECOGNITION = "recognition"  # CRM(0x00) until BRM
    CONFIGURATION = "configuration"  # CRM(0xAA) until BCP
    PARAMETERS = "parameters"  # CTS/CML until BRO(0xAA)
    PRECHARGE = "precharge"  # CRO(0x00)
    READY = "ready"  # CRO(0xAA) until BCL and BCS
    CHARGING = "charging"  # CCS
    STOPPING = "stopping"  # CST
    STATISTICS = "statistics"  # CSD
    ERROR = "error"  # BEM seen


@dataclass
class ChargerScript(MessageScript):
    """What the bench-as-charger sends, and every deviation a case asks for."""

    insulation_s: float = 0.3  # CHM goes on this long after BHM (self-check)
    recognise_after_s: float = 0.0  # CRM(0x00) goes on this long after a complete BRM
    cml_after_s: float = 0.0  # CRM(0xAA) goes on this long after a complete BCP
    precharge_s: float = 0.3  # CRO(0x00) before CRO(0xAA)
    cro_after_s: float = 0.0  # wait after BRO(0xAA) before CRO starts
    never_ready: bool = False  # CRO(0x00) forever
    ignore_bst: bool = False  # keep CCS, no CST
    cst_delay_s: float = 0.0  # wait after BST before answering with CST
    csd: bool = True
    restart_on_bem: bool = True  # re-handshake at CRM(0x00) after BEM (reference §3)
    restart_after_s: float = 1.0
    # transport responder
    answer_rts: bool = True
    hold_s: float = 0.0  # answer an RTS with CTS(0) and keep holding this long
    abort_after_packets: int | None = None  # Abort a transfer after this many DT frames
    cts_next_seq: int | None = None  # answer RTS with a CTS asking for this (wrong) sequence


class ChargerRole(ScriptedRole[ChargerPhase]):
    """The charger side of a session, driven by the BMS's messages and a :class:`ChargerScript`."""

    script: ChargerScript

    def __init__(
        self,
        bus: can.BusABC,
        script: ChargerScript | None = None,
        *,
        table: MessageTable | None = None,
        own_notifier: bool = False,
    ) -> None:
        super().__init__(
            bus, CHARGER_ADDRESS, BMS_ADDRESS, table=table, name="bench-charger",
            own_notifier=own_notifier, script=script or ChargerScript(),
            first_phase=ChargerPhase.HANDSHAKE,
        )  # fmt: skip
        self.restarts = 0
        self.restart_times: list[float] = []
        self._seen: set[str] = set()
        self._dt_count: dict[int, int] = {}
        self._held_once = False
        self._bms_spoke = False  # any message but BEM since the (re)start

    # -- what a case calls -----------------------------------------------------------
    def wait_restarts(self, count: int, timeout: float) -> bool:
        return self.wait_until(lambda: self.restarts >= count, timeout)

    def stop_charging(self, **cst_values: Any) -> None:
        """End the charge from the charger side: CST every 10 ms."""
        self.call_soon(lambda: self._charger_stop(cst_values or {"manual_stop": 1}))

    def on_start(self) -> None:
        self._start("CHM")

    # -- transport responder behaviour ----------------------------------------------------
    def accept_tp(self, frame: Frame) -> bool:
        """The responder's scripted behaviour, applied before the transport sees the frame."""
        script = self.script
        if frame.pgn == TP_CM_PGN and frame.data[:1] == b"\x10":  # RTS
            if not script.answer_rts:
                return False
            self._dt_count[frame.src] = 0
            if script.cts_next_seq is not None:
                self._bad_cts(frame)
                return False
            if script.hold_s > 0 and not self._held_once:
                self._held_once = True  # the first transfer is held, as a busy charger might
                self.tp_receiver.hold(frame.src)
                self.call_later(script.hold_s, lambda: self._release(frame.src))
        if frame.pgn == TP_DT_PGN and script.abort_after_packets is not None:
            count = self._dt_count.get(frame.src, 0) + 1
            self._dt_count[frame.src] = count
            if count == script.abort_after_packets:
                self.call_soon(lambda: self._abort(frame.src))
        return True

    def _bad_cts(self, rts: Frame) -> None:
        """Answer an RTS with a CTS whose next-sequence number the transfer does not have."""
        cm = parse_cm(rts.data)
        if cm is None or cm.packets is None:  # not an RTS: nothing to answer
            return
        data = encode_cts(cm.packets, self.script.cts_next_seq or 0, cm.pgn)
        self.send(Frame(7, TP_CM_PGN, self.address, rts.src, data))

    def _release(self, src: int) -> None:
        self.send_frames(self.tp_receiver.release(src, self.now()))

    def _abort(self, src: int) -> None:
        frames, _ = self.tp_receiver.abort(src, self.now(), AbortReason.RESOURCES, "bench abort")
        self.send_frames(frames)

    def on_transfer_aborted(self, event: TpAborted) -> None:
        log.info("bench charger: transfer of 0x%04X aborted: %s", event.pgn, event.detail)

    # -- the sequence ---------------------------------------------------------------------
    def on_message(self, msg: Decoded, frame: Frame) -> None:
        if msg.name != "BEM":
            self._bms_spoke = True
        handler = getattr(self, f"_on_{msg.name.lower()}", None)
        if handler is not None:
            handler(msg)

    def _on_bhm(self, msg: Decoded) -> None:
        if self.phase == ChargerPhase.HANDSHAKE and "BHM" not in self._seen:
            self._seen.add("BHM")
            self.call_later(self.script.insulation_s, self._begin_recognition)

    def _begin_recognition(self) -> None:
        self.stop_message("CHM")
        self._seen.discard("BRM")
        self._enter(ChargerPhase.RECOGNITION)
        self._start("CRM", {"recognition": 0})

    def _on_brm(self, msg: Decoded) -> None:
        if self.phase == ChargerPhase.RECOGNITION and "BRM" not in self._seen:
            self._seen.add("BRM")
            self.call_later(self.script.recognise_after_s, self._recognise)

    def _recognise(self) -> None:
        if self.phase != ChargerPhase.RECOGNITION:
            return
        self._enter(ChargerPhase.CONFIGURATION)
        self._start("CRM", {"recognition": 0xAA}, immediate=True)

    def _on_bcp(self, msg: Decoded) -> None:
        if self.phase == ChargerPhase.CONFIGURATION and "BCP" not in self._seen:
            self._seen.add("BCP")
            self.call_later(self.script.cml_after_s, self._configure)

    def _configure(self) -> None:
        if self.phase != ChargerPhase.CONFIGURATION:
            return
        self.stop_message("CRM")
        self._enter(ChargerPhase.PARAMETERS)
        self._start("CTS")
        self._start("CML")

    def _on_bro(self, msg: Decoded) -> None:
        if self.phase == ChargerPhase.PARAMETERS and msg["bms_ready"] == READY:
            if "BRO" not in self._seen:
                self._seen.add("BRO")
                self.call_later(self.script.cro_after_s, self._precharge)

    def _precharge(self) -> None:
        if self.phase != ChargerPhase.PARAMETERS:
            return
        self.stop_message("CTS", "CML")
        self._enter(ChargerPhase.PRECHARGE)
        self._start("CRO", {"charger_ready": 0})
        if not self.script.never_ready:
            self.call_later(self.script.precharge_s, self._ready)

    def _ready(self) -> None:
        if self.phase == ChargerPhase.PRECHARGE:
            self._enter(ChargerPhase.READY)
            self._start("CRO", {"charger_ready": READY}, immediate=True)

    def _on_bcl(self, msg: Decoded) -> None:
        self._charging_message("BCL", msg)

    def _on_bcs(self, msg: Decoded) -> None:
        self._charging_message("BCS", msg)

    def _charging_message(self, name: str, msg: Decoded) -> None:
        if self.phase not in (ChargerPhase.READY, ChargerPhase.CHARGING):
            return
        self._seen.add(name)
        if name == "BCL":
            self.script.values.setdefault("CCS", {}).update(
                output_voltage=min(float(msg["voltage_demand"] or 0), 750.0),
                output_current=msg["current_demand"],
            )
            if self.phase == ChargerPhase.CHARGING and self.is_sending("CCS"):
                self._start("CCS")
        if self.phase == ChargerPhase.READY and {"BCL", "BCS"} <= self._seen:
            self.stop_message("CRO")
            self._enter(ChargerPhase.CHARGING)
            self._start("CCS")

    def _on_bst(self, msg: Decoded) -> None:
        if self.script.ignore_bst:
            return
        if self.phase in (ChargerPhase.CHARGING, ChargerPhase.READY, ChargerPhase.PRECHARGE):
            delay = self.script.cst_delay_s
            self.call_later(delay, lambda: self._charger_stop({"bms_stopped": 1}))

    def _charger_stop(self, cst: dict[str, Any]) -> None:
        if self.phase in (ChargerPhase.STOPPING, ChargerPhase.STATISTICS):
            return
        self.stop_message("CCS", "CRO")
        self._enter(ChargerPhase.STOPPING)
        self._start("CST", cst)

    def _on_bsd(self, msg: Decoded) -> None:
        if self.phase == ChargerPhase.STOPPING:
            self.stop_message("CST")
            self._enter(ChargerPhase.STATISTICS)
            if self.script.csd:
                self._start("CSD")

    def _on_bem(self, msg: Decoded) -> None:
        # A BEM before the BMS answered our CHM, or before it said anything else since our
        # re-handshake, belongs to its previous session or attempt: not a new error.
        before_bhm = self.phase == ChargerPhase.HANDSHAKE and "BHM" not in self._seen
        if self.phase == ChargerPhase.ERROR or before_bhm or not self._bms_spoke:
            return
        self.stop_all_sending()
        self._enter(ChargerPhase.ERROR)
        if self.script.restart_on_bem:
            self.call_later(self.script.restart_after_s, self._restart)

    def _restart(self) -> None:
        """Re-handshake after BEM: back to CRM(0x00) (reference §3, error handling)."""

        def count() -> None:
            self.restarts += 1
            self.restart_times.append(self.now())
            self.phase = ChargerPhase.RECOGNITION

        self._changing(count)
        self._bms_spoke = False
        self._seen.discard("BRM")
        self._start("CRM", {"recognition": 0})
