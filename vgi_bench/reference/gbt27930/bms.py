"""The reference BMS: a GB/T 27930-2015 conformant vehicle side, simulated, with named faults.

It is the DUT of the ``gbt27930.bms`` suite when the profile says ``simulated``, and what
``vgi-bench sim gbt-bms`` runs on a bus. It watches the charger's timeouts (BEM), handles
errors by waiting for the charger's re-handshake (at most three reconnections), and ends
the charge by itself after ``charge_s`` ("SOC target reached").

Like the reference charger it starts over once a session has ended and the charger has
been quiet for ``unplug_after_s`` (a re-plug), or after ``idle_reset_s`` of silence.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

import can

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.transport import TP_CM_PGN, TP_DT_PGN, encode_rts, split_packets
from vgi_bench.gbt27930.messages import Decoded, MessageTable
from vgi_bench.reference.gbt27930.simulated import SimulatedEcu

log = logging.getLogger(__name__)

BMS_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "bhm_wrong_period": "sends BHM every 500 ms instead of 250 ms",
        "brm_bad_version": "BRM carries protocol version 02 01 00 instead of 01 01 00",
        "tp_ignores_flow_control": "sends all BRM/BCP data frames without waiting for CTS "
        "and ignores CTS(0) and Abort",
        "no_bem_on_crm_aa_timeout": "no BEM when CRM(0xAA) does not come within 5 s",
        "bcp_inconsistent": "BCP max charge voltage above BHM's maximum allowed voltage",
        "no_bem_on_cml_timeout": "no BEM when CTS/CML does not come within 5 s of BCP",
        "bro_wrong_period": "sends BRO every 500 ms instead of 250 ms",
        "no_bem_on_cro_timeout": "no BEM when CRO does not come within 5 s of BRO(0xAA)",
        "cro_aa_timeout_5s": "gives up on CRO(0xAA) after 5 s instead of 60 s",
        "bcl_wrong_period": "sends BCL every 100 ms instead of 50 ms",
        "bsm_wrong_length": "sends BSM as 8 bytes instead of 7",
        "bcl_exceeds_bcp": "BCL current demand above BCP's maximum charge current",
        "no_bem_on_ccs_timeout": "no BEM when CCS stops for more than 1 s",
        "bst_wrong_period": "sends BST every 50 ms instead of 10 ms",
        "no_bsd": "never sends BSD",
        "bst_no_charger_stopped": "answers the charger's CST without the 'charger stopped' bit",
        "no_bem_on_cst_timeout": "no BEM when CST does not answer BST within 5 s",
        "no_bem_on_csd_timeout": "no BEM when CSD does not come within 10 s of BST",
        "no_reconnect": "does not answer the charger's re-handshake after an error",
        "reconnects_forever": "answers re-handshakes without the three-attempt limit",
    }
)

PERIOD_FAULTS: Mapping[str, tuple[str, float]] = MappingProxyType(
    {
        "bhm_wrong_period": ("BHM", 0.5),
        "bro_wrong_period": ("BRO", 0.5),
        "bcl_wrong_period": ("BCL", 0.1),
        "bst_wrong_period": ("BST", 0.05),
    }
)

#: Reconnections after an error before the operator must re-plug (reference §3).
MAX_RECONNECTS = 3


@dataclass(frozen=True)
class BmsSettings:
    """The simulated vehicle's battery and how long its steps take."""

    max_charge_voltage: float = 750.0  # BHM
    bcp_max_charge_voltage: float = 420.0
    max_charge_current: float = 200.0  # A, magnitude (BCP)
    voltage_demand: float = 410.0
    current_demand: float = 100.0  # A, magnitude (BCL)
    ready_after_s: float = 0.3  # BRO(0x00) before BRO(0xAA)
    charge_s: float = 3.0  # charging until "SOC target reached"
    unplug_after_s: float = 2.0
    idle_reset_s: float = 15.0


class State(str, Enum):
    IDLE = "idle"  # waiting for CHM
    HANDSHAKE = "handshake"  # BHM
    RECOGNITION = "recognition"  # BRM
    CONFIGURATION = "configuration"  # BCP
    READY = "ready"  # BRO
    CHARGING = "charging"  # BCL, BCS, BSM
    STOPPING = "stopping"  # BST
    STATISTICS = "statistics"  # BSD
    ENDED = "ended"
    ERROR = "error"  # BEM sent or CEM received: waiting for the charger's CRM


class ReferenceBms(SimulatedEcu):
    """A conformant GB/T 27930-2015 BMS on a CAN bus, with optional named faults."""

    FAULTS = BMS_FAULTS
    PERIOD_FAULTS = PERIOD_FAULTS
    settings: BmsSettings

    def __init__(
        self,
        bus: can.BusABC,
        *,
        faults: tuple[str, ...] | frozenset[str] = (),
        settings: BmsSettings | None = None,
        table: MessageTable | None = None,
    ) -> None:
        super().__init__(
            bus, BMS_ADDRESS, CHARGER_ADDRESS, faults=faults, settings=settings or BmsSettings(),
            table=table, name="ref-bms", dt_gap=0.002,
        )  # fmt: skip
        self.state = State.IDLE
        self.reconnects = 0
        self._seen: set[str] = set()

    # -- life cycle ------------------------------------------------------------------
    def _reset(self) -> None:
        self.stop_all_sending()
        self._disarm_all()
        self._seen.clear()
        self.reconnects = 0
        self.state = State.IDLE

    def _concluded(self) -> bool:
        return self.state in (State.ENDED, State.ERROR)

    def _idle(self) -> bool:
        return self.state == State.IDLE

    # -- sending with faults applied --------------------------------------------------
    def _send(
        self, name: str, values: Mapping[str, Any] | None = None, *, immediate: bool = False
    ) -> None:
        period = self.fault_period(name)
        raw = None
        if name == "BSM" and "bsm_wrong_length" in self.faults:
            raw = self.payload(name, values) + b"\xff"
        if name in ("BRM", "BCP") and "tp_ignores_flow_control" in self.faults:
            self._blind_transfers(name, self.payload(name, values))
            return
        self.start_message(name, values, raw=raw, period_s=period, immediate=immediate)

    def _blind_transfers(self, name: str, payload: bytes) -> None:
        """The fault: RTS then every DT 20 ms apart, regardless of CTS, CTS(0) or Abort."""
        spec = self.table[name]

        def one() -> None:
            if self.state not in (State.RECOGNITION, State.CONFIGURATION):
                return
            packets = split_packets(payload)
            rts = encode_rts(len(payload), len(packets), spec.pgn)
            self.send(Frame(7, TP_CM_PGN, self.address, self.peer, rts))
            for i, packet in enumerate(packets):
                frame = Frame(7, TP_DT_PGN, self.address, self.peer, packet)
                self.call_later(0.02 * (i + 1), functools.partial(self.send, frame))
            self.call_later(spec.period_s or 0.25, one)

        one()

    def _bms_values(self, name: str) -> dict[str, Any]:
        s = self.settings
        values: dict[str, dict[str, Any]] = {
            "BHM": {"max_charge_voltage": s.max_charge_voltage},
            "BRM": {"protocol_version": 0x000102 if "brm_bad_version" in self.faults else 0x000101},
            "BCP": {
                "max_charge_voltage": s.max_charge_voltage + 50.0
                if "bcp_inconsistent" in self.faults
                else s.bcp_max_charge_voltage,
                "max_charge_current": -s.max_charge_current,
            },
            "BCL": {
                "voltage_demand": s.voltage_demand,
                "current_demand": -(
                    s.max_charge_current + 50.0
                    if "bcl_exceeds_bcp" in self.faults
                    else s.current_demand
                ),
                "charge_mode": 2,
            },
        }
        return values.get(name, {})

    # -- timers ----------------------------------------------------------------------
    def _limit(self, name: str) -> float:
        if name == "cro_aa" and "cro_aa_timeout_5s" in self.faults:
            return 5.0
        return super()._limit(name)

    def _timeout(self, name: str) -> None:
        fault = "cro" if name == "cro_aa" else name
        if f"no_bem_on_{fault}_timeout" in self.faults:
            log.info("reference BMS: %s timeout, BEM suppressed by fault", name)
            return
        log.info("reference BMS: %s timeout -> BEM", name)
        self._error()
        self._send("BEM", {self.timing[name].signal: 1})

    def _error(self) -> None:
        self.stop_all_sending()
        self._disarm_all()
        self.state = State.ERROR

    # -- receiving -------------------------------------------------------------------
    def on_message(self, msg: Decoded, frame: Frame) -> None:
        handler = self._handlers().get(msg.name)
        if handler is not None:
            handler(msg)

    def _handlers(self) -> dict[str, Callable[[Decoded], None]]:
        return {
            "CHM": self._on_chm,
            "CRM": self._on_crm,
            "CML": self._on_cml,
            "CRO": self._on_cro,
            "CCS": self._on_ccs,
            "CST": self._on_cst,
            "CSD": self._on_csd,
            "CEM": self._on_cem,
        }

    def on_sent_transfer(self, result: Any) -> None:
        name = getattr(self.table.by_pgn(result.pgn), "name", "")
        if name == "BRM" and self.state == State.RECOGNITION and "brm_sent" not in self._seen:
            self._seen.add("brm_sent")
            self._arm("crm_aa")
        elif name == "BCP" and self.state == State.CONFIGURATION and "bcp_sent" not in self._seen:
            self._seen.add("bcp_sent")
            self._arm("cml")

    def _on_chm(self, msg: Decoded) -> None:
        if self.state in (State.ENDED, State.ERROR):
            # CHM starts a session from scratch: the gun was re-plugged (shared bus).
            self._reset()
        if self.state == State.IDLE:
            self.state = State.HANDSHAKE
            self._send("BHM", self._bms_values("BHM"))

    def _on_crm(self, msg: Decoded) -> None:
        recognised = msg["recognition"] == 0xAA
        if not recognised and self.state == State.HANDSHAKE:
            self._identify()
        elif not recognised and self.state == State.ERROR:
            self._reconnect()
        elif recognised and self.state == State.RECOGNITION:
            self._disarm("crm_aa")
            self.stop_message("BRM")
            self.state = State.CONFIGURATION
            self._send("BCP", self._bms_values("BCP"))

    def _identify(self) -> None:
        self.stop_message("BHM")
        self._seen.discard("brm_sent")
        self.state = State.RECOGNITION
        self._send("BRM", self._bms_values("BRM"))

    def _reconnect(self) -> None:
        """The charger re-handshakes after an error: identify again, at most three times."""
        if "no_reconnect" in self.faults:
            return
        if self.reconnects >= MAX_RECONNECTS and "reconnects_forever" not in self.faults:
            return  # the operator must re-plug
        self.reconnects += 1
        self.stop_message("BEM")
        self._seen.clear()
        log.info("reference BMS: reconnection %d", self.reconnects)
        self._identify()

    def _on_cml(self, msg: Decoded) -> None:
        if self.state != State.CONFIGURATION:
            return
        self._disarm("cml")
        self.stop_message("BCP")
        self.state = State.READY
        self._send("BRO", {"bms_ready": 0})
        self.call_later(self.settings.ready_after_s, self._bms_ready)

    def _bms_ready(self) -> None:
        if self.state == State.READY:
            self._seen.add("bro_aa")
            self._send("BRO", {"bms_ready": 0xAA}, immediate=True)
            self._arm("cro")
            self._arm("cro_aa")

    def _on_cro(self, msg: Decoded) -> None:
        if self.state != State.READY or "bro_aa" not in self._seen:
            return
        self._disarm("cro")
        if msg["charger_ready"] == 0xAA:
            self._disarm("cro_aa")
            self.stop_message("BRO")
            self.state = State.CHARGING
            self._send("BCL", self._bms_values("BCL"))
            self._send("BCS")
            self._send("BSM")
            self._arm("ccs")
            self.call_later(self.settings.charge_s, self._target_reached)

    def _on_ccs(self, msg: Decoded) -> None:
        if self.state == State.CHARGING:
            self._arm("ccs")

    def _target_reached(self) -> None:
        if self.state == State.CHARGING:
            self._bms_stop({"soc_target_reached": 1})

    def _bms_stop(self, bst: dict[str, int]) -> None:
        self._disarm("ccs")
        self.stop_message("BCL", "BCS", "BSM")
        self.state = State.STOPPING
        self._send("BST", bst)
        self._arm("cst")
        self._arm("csd")

    def _on_cst(self, msg: Decoded) -> None:
        if self.state == State.CHARGING:  # the charger ended the charge
            bst = {} if "bst_no_charger_stopped" in self.faults else {"charger_stopped": 1}
            self._bms_stop(bst)
            self._disarm("cst")
            self.call_later(0.05, self._statistics)
        elif self.state == State.STOPPING and "cst_seen" not in self._seen:
            self._seen.add("cst_seen")
            self._disarm("cst")
            self._statistics()

    def _statistics(self) -> None:
        if self.state != State.STOPPING:
            return
        self.stop_message("BST")
        self.state = State.STATISTICS
        if "no_bsd" not in self.faults:
            self._send("BSD")

    def _on_csd(self, msg: Decoded) -> None:
        if self.state == State.STATISTICS:
            self._disarm("csd")
            self.state = State.ENDED
            self.call_later(0.3, lambda: self.stop_message("BSD"))

    def _on_cem(self, msg: Decoded) -> None:
        if self.state not in (State.IDLE, State.ERROR, State.ENDED):
            log.info("reference BMS: CEM received, waiting for the charger's CRM")
            self._error()
