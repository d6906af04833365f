"""The bench as BMS: drives a charger under test through a GB/T 27930-2015 session.

The role follows the standard's sequence (handshake → identification → parameter
configuration → charging → end of charging) by reacting to the charger's messages.
A case changes any of it through :class:`BmsScript`: values, withheld messages, raw
bytes (wrong length or value), periods (late), transfers stopped mid-way, messages kept
past their phase or sent in place of another. During a session the case can also stop
or change messages and end the charge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import can

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.gbt27930.messages import Decoded, MessageTable
from vgi_bench.gbt27930.scripted_role import MessageScript, ScriptedRole

log = logging.getLogger(__name__)

RECOGNISED = 0xAA
READY = 0xAA


class Phase(str, Enum):
    """Where the BMS is in the charging sequence (reference §3)."""

    WAIT_CHM = "wait_chm"
    HANDSHAKE = "handshake"  # BHM
    RECOGNITION = "recognition"  # BRM
    CONFIGURATION = "configuration"  # BCP
    READY = "ready"  # BRO
    CHARGING = "charging"  # BCL, BCS, BSM
    STOPPING = "stopping"  # BST
    STATISTICS = "statistics"  # BSD
    DONE = "done"
    ERROR = "error"  # CEM seen


@dataclass
class BmsScript(MessageScript):
    """What the bench-as-BMS sends, and every deviation a case asks for."""

    keep_sending: set[str] = field(default_factory=set)
    bro_ready_after_s: float | None = 0.5
    charge_for_s: float | None = None
    charging_start_delay_s: float = 0.0  # after CRO(0xAA), before BCL/BCS/BSM start
    bsd_after_s: float = 0.0  # after the charger's CST, before BSD starts
    answer_cst: bool = True
    strict: bool = True  # False: out-of-range values are sent clamped to their field
    # What the BMS does with BRO once the charger's CRO(0x00) comes (DN.2007-2009):
    # None keeps BRO(0xAA) going; "stop", "bro00" or "other" (BCL in its place).
    on_cro00: str | None = None
    optional_messages: bool = False  # send BMV, BMT and BSP while charging
    # Extra messages sent with BCP and kept going until CRO(0xAA), e.g. the V2G draft's BDP.
    configuration_messages: tuple[str, ...] = ()
    bst_values: dict[str, Any] = field(default_factory=lambda: {"soc_target_reached": 1})


class BmsRole(ScriptedRole[Phase]):
    """The BMS side of a session, driven by the charger's messages and a :class:`BmsScript`."""

    script: BmsScript

    def __init__(
        self,
        bus: can.BusABC,
        script: BmsScript | None = None,
        *,
        table: MessageTable | None = None,
        dt_gap: float = 0.002,
        own_notifier: bool = False,
    ) -> None:
        super().__init__(
            bus, BMS_ADDRESS, CHARGER_ADDRESS, table=table, name="bench-bms", dt_gap=dt_gap,
            own_notifier=own_notifier, script=script or BmsScript(), first_phase=Phase.WAIT_CHM,
        )  # fmt: skip
        self._stopped_by_bms = False

    # -- what a case calls -----------------------------------------------------------
    def stop_charging(self, **bst_values: Any) -> None:
        """End the charge from the BMS side: BST every 10 ms (reference §3 step 7)."""
        self.call_soon(lambda: self._begin_stop(bst_values or self.script.bst_values))

    # -- sending through the script -------------------------------------------------
    def payload(self, name: str, values: Any = None) -> bytes:
        return self.table.encode(name, values or {}, strict=self.script.strict)

    def _stop(self, *names: str) -> None:
        for name in names:
            if name not in self.script.keep_sending:
                self.stop_message(self.script.instead_of.get(name, name))

    # -- the sequence ---------------------------------------------------------------
    def on_message(self, msg: Decoded, frame: Frame) -> None:
        handler = getattr(self, f"_on_{msg.name.lower()}", None)
        if handler is not None:
            handler(msg)

    def _on_chm(self, msg: Decoded) -> None:
        if self.phase == Phase.WAIT_CHM:
            self._enter(Phase.HANDSHAKE)
            self._start("BHM")

    def _on_crm(self, msg: Decoded) -> None:
        recognised = msg["recognition"] == RECOGNISED
        if not recognised and self.phase == Phase.HANDSHAKE:
            self._stop("BHM")
            self._enter(Phase.RECOGNITION)
            self._start("BRM")
        elif recognised and self.phase in (Phase.HANDSHAKE, Phase.RECOGNITION):
            self._stop("BHM", "BRM")
            self._enter(Phase.CONFIGURATION)
            self._start("BCP")
            for name in self.script.configuration_messages:
                self._start(name)

    def _on_cml(self, msg: Decoded) -> None:
        if self.phase == Phase.CONFIGURATION:
            self._stop("BCP")
            self._enter(Phase.READY)
            self._start("BRO", {"bms_ready": 0})
            delay = self.script.bro_ready_after_s
            if delay is not None:
                self.call_later(delay, self._bms_ready)

    def _bms_ready(self) -> None:
        if self.phase == Phase.READY:
            self._start("BRO", {"bms_ready": READY}, immediate=True)

    def _on_cro(self, msg: Decoded) -> None:
        if self.phase == Phase.READY and msg["charger_ready"] == 0 and self.script.on_cro00:
            self._disturb_bro(self.script.on_cro00)
        if self.phase == Phase.READY and msg["charger_ready"] == READY:
            self._stop("BRO", *self.script.configuration_messages)
            self._enter(Phase.CHARGING)
            delay = self.script.charging_start_delay_s
            if delay > 0:
                self.call_later(delay, self._start_charging_messages)
            else:
                self._start_charging_messages()

    def _disturb_bro(self, how: str) -> None:
        """Once only: stop BRO, fall back to BRO(0x00), or send another message instead."""
        self.script.on_cro00 = None
        if how == "stop":
            self.stop_message("BRO")
        elif how == "bro00":
            self._start("BRO", {"bms_ready": 0}, immediate=True)
        elif how == "other":
            self.stop_message("BRO")
            self._start("BCL")

    def _start_charging_messages(self) -> None:
        if self.phase != Phase.CHARGING:
            return
        for name in ("BCL", "BCS", "BSM"):
            self._start(name)
        if self.script.optional_messages:
            for name in ("BMV", "BMT", "BSP"):
                self._start(name)
        if self.script.charge_for_s is not None:
            self.call_later(self.script.charge_for_s, lambda: self._begin_stop(None))

    def _begin_stop(self, bst_values: dict[str, Any] | None) -> None:
        if self.phase not in (Phase.CHARGING, Phase.READY):
            return
        self._stop("BCL", "BCS", "BSM", "BRO", "BMV", "BMT", "BSP")
        self._stopped_by_bms = True
        self._enter(Phase.STOPPING)
        self._start("BST", bst_values or self.script.bst_values)

    def _on_cst(self, msg: Decoded) -> None:
        if self.phase == Phase.STOPPING and self._stopped_by_bms:
            self._stop("BST")
            self._enter(Phase.STATISTICS)
            self.call_later(self.script.bsd_after_s, self._start_bsd)
        elif self.phase in (Phase.CHARGING, Phase.READY):
            # The charger ended the charge: answer with BST "charger stopped", then BSD.
            self._stop("BCL", "BCS", "BSM", "BRO", *self.script.configuration_messages)
            if not self.script.answer_cst:
                self.stop_all_sending()
                self._enter(Phase.STOPPING)
                return
            self._enter(Phase.STOPPING)
            self._start("BST", {"charger_stopped": 1})
            self.call_later(0.05, self._after_charger_stop)

    def _after_charger_stop(self) -> None:
        if self.phase == Phase.STOPPING:
            self._stop("BST")
            self._enter(Phase.STATISTICS)
            self.call_later(self.script.bsd_after_s, self._start_bsd)

    def _start_bsd(self) -> None:
        if self.phase == Phase.STATISTICS:
            self._start("BSD")

    def _on_csd(self, msg: Decoded) -> None:
        if self.phase == Phase.STATISTICS:
            self._enter(Phase.DONE)
            self.call_later(0.3, lambda: self._stop("BSD"))

    def _on_cem(self, msg: Decoded) -> None:
        # A CEM before our session started belongs to the previous one (shared bus).
        if self.phase not in (Phase.WAIT_CHM, Phase.ERROR, Phase.DONE):
            self.stop_all_sending()
            self._enter(Phase.ERROR)
