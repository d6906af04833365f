"""The reference charger: a GB/T 27930-2015 conformant DC charger, simulated, with named faults.

It is the DUT of the ``gbt27930.charger`` suite when the profile says ``simulated``,
and what ``vgi-bench sim gbt-charger`` runs on a real or multicast bus. Each fault in
:data:`CHARGER_FAULTS` breaks exactly one behaviour, so every case can be shown to
catch the fault it is written for.

Between sessions it behaves like a charger whose gun is re-plugged: once a session
has ended (CSD or CEM) and the BMS has been quiet for ``unplug_after_s``, it starts over
with CHM; any session silent for ``idle_reset_s`` is abandoned the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any

import can

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.transport import TP_CM_PGN, TpAborted
from vgi_bench.gbt27930.messages import Decoded, DecodeError, MessageTable
from vgi_bench.reference.gbt27930.simulated import SimulatedEcu

log = logging.getLogger(__name__)

CHARGER_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "chm_wrong_period": "sends CHM every 500 ms instead of 250 ms",
        "crm_wrong_period": "sends CRM every 500 ms instead of 250 ms",
        "no_crm_aa": "never sends CRM(0xAA): stays at CRM(0x00) after a complete BRM",
        "no_cts_for_rts": "never answers a transport RTS with CTS",
        "tp_accepts_partial": "takes an aborted BRM/BCP/BCS transfer as received",
        "no_cem_on_brm_timeout": "no CEM when BRM does not come within 5 s",
        "no_cem_on_bcp_timeout": "no CEM when BCP does not come within 5 s",
        "wrong_cml_encoding": "CML currents encoded without the -400 A offset",
        "no_cem_on_bro_timeout": "no CEM when BRO does not come within 5 s",
        "bro_aa_timeout_5s": "gives up on BRO(0xAA) after 5 s instead of 60 s",
        "cro_before_bro": "sends CRO(0xAA) before the BMS has sent BRO(0xAA)",
        "cro_wrong_period": "sends CRO every 500 ms instead of 250 ms",
        "ccs_before_bcs": "starts CCS on BCL alone, without waiting for BCS",
        "ccs_wrong_period": "sends CCS every 100 ms instead of 50 ms",
        "ccs_wrong_length": "sends CCS as 8 bytes instead of 7",
        "exceeds_bcl_current": "delivers 20 % (+10 A) more current than BCL demands",
        "no_cem_on_bcl_timeout": "no CEM when BCL stops for more than 1 s",
        "no_cem_on_bcs_timeout": "no CEM when BCS stops for more than 5 s",
        "ignores_bsm_pause": "keeps delivering current when BSM forbids charging",
        "ignores_bsm_fault": "keeps charging when BSM reports an abnormal state",
        "ignores_bst": "ignores BST: keeps CCS going and never sends CST",
        "cst_wrong_period": "sends CST every 50 ms instead of 10 ms",
        "cst_stops_before_bsd": "stops sending CST before BSD has arrived",
        "no_csd": "never sends CSD after BSD",
        "no_cem_on_bst_timeout": "no CEM when BST does not answer its CST within 5 s",
        "no_cem_on_bsd_timeout": "no CEM when BSD does not come within 10 s of CST",
        "cro_needs_continuous_bro": "abandons pre-charge (CEM at once) when BRO(0xAA) stops "
        "or changes during CRO(0x00)",
        "pause_limit_60s": "ends a BSM pause after 60 s instead of 10 min",
        "rejects_optional_messages": "stops charging when the BMS sends BMV/BMT/BSP",
        "current_after_cst": "keeps CCS at full current for 1 s after its own CST",
        "ignores_bcp_mismatch": "starts charging although BCP's maximum charge voltage is "
        "below its own minimum output voltage",
        "ignores_demand_increase": "never raises its output above the first BCL demand",
        "accepts_wrong_length": "takes a BCL or BCS of the wrong length as received",
        "ignores_bcp_current_limit": "delivers a BCL demand above BCP's maximum charge current",
        "no_output_limit": "delivers a BCL demand above its own maximum output current",
        "current_after_bst": "keeps CCS at full current for 1 s after BST",
        # Draft V2G extension (edition "v2g-draft"): see vgi_bench/gbt27930/data.
        "v2g_no_cdc": "V2G draft: never sends CDC alongside CML",
        "v2g_exceeds_discharge_limit": "V2G draft: discharges above BDP's maximum discharge "
        "current",
        "v2g_discharges_without_agreement": "V2G draft: discharges although BDP asked for "
        "charge only (or no BDP came)",
        "v2g_wrong_sign": "V2G draft: reports discharge current in CCS with the charging sign",
    }
)

#: Faults that only change a message's period: message -> wrong period (s).
PERIOD_FAULTS: Mapping[str, tuple[str, float]] = MappingProxyType(
    {
        "chm_wrong_period": ("CHM", 0.5),
        "crm_wrong_period": ("CRM", 0.5),
        "cro_wrong_period": ("CRO", 0.5),
        "ccs_wrong_period": ("CCS", 0.1),
        "cst_wrong_period": ("CST", 0.05),
    }
)

BMS_STATUS_FIELDS = (
    "cell_voltage_status",
    "soc_status",
    "over_current",
    "over_temperature",
    "insulation_status",
    "output_connector_status",
)


@dataclass(frozen=True)
class ChargerSettings:
    """The simulated charger's ratings and the durations of its physical steps."""

    charger_number: int = 1
    max_output_voltage: float = 750.0
    min_output_voltage: float = 200.0
    max_output_current: float = 250.0  # A, magnitude
    min_output_current: float = 0.0
    insulation_check_s: float = 0.5
    precharge_s: float = 1.0
    unplug_after_s: float = 2.0
    idle_reset_s: float = 15.0
    #: A BSM pause longer than this ends the charge (GB/T 27930-2015 App. C note 1).
    pause_limit_s: float = 600.0
    #: Insulation monitoring (GB/T 18487.1): at or below this many ohm per volt of the
    #: rated output voltage the charger stops; up to 500 ohm/V it only warns.
    imd_fault_ohm_per_v: float = 100.0
    imd_warning_ohm_per_v: float = 500.0
    monitor_period_s: float = 0.1
    #: V2G draft (CDC): what the charger can take back from the vehicle.
    max_discharge_current: float = 100.0
    min_discharge_current: float = 2.0
    max_discharge_power: float = 60.0  # kW


@dataclass(frozen=True)
class PowerCommand:
    """What the charger's control tells its power stage (read by a simulated plant).

    ``current`` has the GB/T sign: negative charges the vehicle, positive discharges it.
    In constant-voltage mode the stage regulates ``voltage`` with ``current`` as ceiling.
    """

    voltage: float
    current: float
    constant_voltage: bool = False


#: No output: the command after a stop, an error or a pause.
OUTPUT_OFF = PowerCommand(0.0, 0.0)


class State(str, Enum):
    HANDSHAKE = "handshake"  # CHM until BHM
    INSULATION = "insulation"  # self-check, CHM continues
    RECOGNITION = "recognition"  # CRM(0x00), waiting for BRM
    RECOGNISED = "recognised"  # CRM(0xAA), waiting for BCP
    CONFIGURED = "configured"  # CTS/CML, waiting for BRO(0xAA)
    PRECHARGE = "precharge"  # CRO(0x00)
    READY = "ready"  # CRO(0xAA), waiting for BCL and BCS
    CHARGING = "charging"  # CCS
    STOPPING = "stopping"  # CST, waiting for BST / BSD
    ENDED = "ended"  # CSD
    ERROR = "error"  # CEM


class ReferenceCharger(SimulatedEcu):
    """A conformant GB/T 27930-2015 charger on a CAN bus, with optional named faults."""

    FAULTS = CHARGER_FAULTS
    PERIOD_FAULTS = PERIOD_FAULTS
    settings: ChargerSettings

    def __init__(
        self,
        bus: can.BusABC,
        *,
        faults: tuple[str, ...] | frozenset[str] = (),
        settings: ChargerSettings | None = None,
        table: MessageTable | None = None,
    ) -> None:
        super().__init__(
            bus, CHARGER_ADDRESS, BMS_ADDRESS, faults=faults,
            settings=settings or ChargerSettings(), table=table, name="ref-charger",
        )  # fmt: skip
        self.state = State.HANDSHAKE
        self._power_limit_kw: float | None = None  # from outside the session; kept across
        #: Called with every new :class:`PowerCommand` (a simulated power stage listens).
        self.power_stage: Callable[[PowerCommand], None] | None = None
        #: The insulation monitor's reading (ohm, DC+ to PE) and the E-stop input, read
        #: while charging; None: not wired (a CAN-only bench).
        self.insulation_monitor: Callable[[], float] | None = None
        self.estop_input: Callable[[], bool] | None = None
        self._seen: set[str] = set()
        self._demand: dict[str, Any] = {}
        self._bcp: dict[str, Any] = {}
        self._bdp: dict[str, Any] = {}
        self._first_demand: float | None = None
        self._battery_voltage: float | None = None
        self._paused = False
        self._charge_start = 0.0
        self.sessions = 0

    # -- life cycle ------------------------------------------------------------------
    def _reset(self) -> None:
        self.stop_all_sending()
        self._command_power(OUTPUT_OFF)
        self._disarm_all()
        self._seen.clear()
        self._demand.clear()
        self._bcp.clear()
        self._bdp.clear()
        self._first_demand = None
        self._paused = False
        self.sessions += 1
        self._go(State.HANDSHAKE)
        self._send("CHM")

    # -- what the charge point / grid side calls -----------------------------------------
    def set_power_limit(self, kw: float | None) -> None:
        """Limit the output power from outside the CAN session (an OCPP charging profile,
        a grid regulation command); ``None`` lifts it. Thread-safe; CCS shows it at once."""

        def apply() -> None:
            self._power_limit_kw = kw
            self._update_output()

        self.call_soon(apply)

    def _concluded(self) -> bool:
        return self.state in (State.ENDED, State.ERROR)

    def _idle(self) -> bool:
        return self.state == State.HANDSHAKE

    def _go(self, state: State) -> None:
        log.debug("reference charger: %s -> %s", self.state.value, state.value)
        self.state = state

    # -- sending with faults applied --------------------------------------------------
    def _send(
        self, name: str, values: Mapping[str, Any] | None = None, *, immediate: bool = False
    ) -> None:
        period = self.fault_period(name)
        raw = None
        if name == "CML" and "wrong_cml_encoding" in self.faults:
            raw = self._cml_without_offset()
        elif name == "CCS" and "ccs_wrong_length" in self.faults:
            raw = self.payload(name, values) + b"\xff"
        self.start_message(name, values, raw=raw, period_s=period, immediate=immediate)

    def _cml_without_offset(self) -> bytes:
        s = self.settings
        return self.table.encode_raw(
            "CML",
            {
                "max_output_voltage": round(s.max_output_voltage * 10),
                "min_output_voltage": round(s.min_output_voltage * 10),
                "max_output_current": round(s.max_output_current * 10),
                "min_output_current": round(s.min_output_current * 10),
            },
        )

    def _cml_values(self) -> dict[str, float]:
        s = self.settings
        return {
            "max_output_voltage": s.max_output_voltage,
            "min_output_voltage": s.min_output_voltage,
            "max_output_current": -s.max_output_current,
            "min_output_current": -s.min_output_current,
        }

    # -- timers ----------------------------------------------------------------------
    def _timeout(self, name: str) -> None:
        if name == "pause":
            log.info("reference charger: paused too long, stopping")
            self._charger_stop({"condition_reached": 1})
            return
        if name == "bro_gap":
            name = "bro"
        fault_name = "bro" if name == "bro_aa" else name
        if f"no_cem_on_{fault_name}_timeout" in self.faults:
            log.info("reference charger: %s timeout, CEM suppressed by fault", name)
            return
        signal = self.timing[name].signal
        log.info("reference charger: %s timeout -> CEM %s", name, signal)
        self.stop_all_sending()
        self._command_power(OUTPUT_OFF)
        self._disarm_all()
        self._go(State.ERROR)
        self._send("CEM", {signal: 1})

    # -- receiving -------------------------------------------------------------------
    def accept_tp(self, frame: Frame) -> bool:
        if "no_cts_for_rts" in self.faults and frame.pgn == TP_CM_PGN:
            return frame.data[:1] != b"\x10"
        return True

    def on_transfer_aborted(self, event: TpAborted) -> None:
        if "tp_accepts_partial" not in self.faults or event.src != BMS_ADDRESS:
            return
        spec = self.table.by_pgn(event.pgn)
        if spec is not None and spec.name in ("BRM", "BCP", "BCS"):
            log.info("reference charger: taking aborted %s as received (fault)", spec.name)
            self._take_as_received(spec.name)

    def on_bad_message(self, error: DecodeError, frame: Frame) -> None:
        if "accepts_wrong_length" in self.faults and error.name in ("BCL", "BCS"):
            log.info("reference charger: taking malformed %s as received (fault)", error.name)
            self._take_as_received(error.name)

    def _take_as_received(self, name: str) -> None:
        """A fault's path: act on a message that never arrived whole, as if it had."""
        if name in ("BCL", "BCS"):
            if self.state in (State.READY, State.CHARGING):
                self._arm(name.lower())
                self._seen.add(name)
                self._maybe_start_charging()
            return
        handler = self._handlers().get(name)
        if handler is not None:
            handler(Decoded(name, self.table[name].pgn, {}, b""))

    def on_message(self, msg: Decoded, frame: Frame) -> None:
        handler = self._handlers().get(msg.name)
        if handler is not None:
            handler(msg)

    def _handlers(self) -> dict[str, Callable[[Decoded], None]]:
        return {
            "BHM": self._on_bhm,
            "BRM": self._on_brm,
            "BCP": self._on_bcp,
            "BDP": self._on_bdp,
            "BRO": self._on_bro,
            "BCL": self._on_bcl,
            "BCS": self._on_bcs,
            "BSM": self._on_bsm,
            "BMV": self._on_optional,
            "BMT": self._on_optional,
            "BSP": self._on_optional,
            "BST": self._on_bst,
            "BSD": self._on_bsd,
        }

    def _on_bhm(self, msg: Decoded) -> None:
        if self.state == State.HANDSHAKE:
            self._go(State.INSULATION)
            self.call_later(self.settings.insulation_check_s, self._insulation_done)

    def _insulation_done(self) -> None:
        if self.state == State.INSULATION:
            self.stop_message("CHM")
            self._go(State.RECOGNITION)
            self._send("CRM", {"recognition": 0, "charger_number": self.settings.charger_number})
            self._arm("brm")

    def _on_brm(self, msg: Decoded) -> None:
        if self.state != State.RECOGNITION or "no_crm_aa" in self.faults:
            return
        self._disarm("brm")
        self._go(State.RECOGNISED)
        self._send(
            "CRM",
            {"recognition": 0xAA, "charger_number": self.settings.charger_number},
            immediate=True,
        )
        self._arm("bcp")

    def _on_bcp(self, msg: Decoded) -> None:
        if self.state != State.RECOGNISED:
            return
        self._disarm("bcp")
        self.stop_message("CRM")
        self._bcp = dict(msg.values)
        self._go(State.CONFIGURED)
        self._send("CTS")
        self._send("CML", self._cml_values())
        if "CDC" in self.table and "v2g_no_cdc" not in self.faults:
            self._send("CDC", self._cdc_values())
        if self._bcp_mismatch() and "ignores_bcp_mismatch" not in self.faults:
            log.info("reference charger: BCP asks for less than the charger can deliver")
            self.stop_message("CTS", "CML", "CDC")
            self._go(State.STOPPING)
            self._send("CST", {"fault_stop": 1})
            self._arm("bst")
            self._arm("bsd")
            return
        self._arm("bro")
        if "cro_before_bro" in self.faults:
            self.call_later(0.3, self._start_precharge)

    def _bcp_mismatch(self) -> bool:
        """The battery's highest charge voltage is below what the charger can output."""
        top = self._bcp.get("max_charge_voltage")
        return top is not None and float(top) < self.settings.min_output_voltage

    def _cdc_values(self) -> dict[str, float | int]:
        s = self.settings
        return {
            "discharge_supported": 1,
            "max_discharge_current": s.max_discharge_current,
            "max_discharge_power": s.max_discharge_power,
            "min_discharge_current": s.min_discharge_current,
        }

    def _on_bdp(self, msg: Decoded) -> None:
        """V2G draft: the vehicle's discharge parameters, kept for the charging phase."""
        if self.state in (State.RECOGNISED, State.CONFIGURED, State.PRECHARGE, State.READY):
            self._bdp = dict(msg.values)

    def _on_bro(self, msg: Decoded) -> None:
        if self.state == State.PRECHARGE and "cro_needs_continuous_bro" in self.faults:
            if msg["bms_ready"] == 0xAA:
                self._arm("bro_gap", 0.3)
            else:
                self._timeout("bro")
            return
        if self.state != State.CONFIGURED:
            return
        if msg["bms_ready"] == 0 and "bro00" not in self._seen:
            self._seen.add("bro00")
            if "bro_aa_timeout_5s" in self.faults:
                self._arm("bro")  # the fault: keeps the short limit
            else:
                self._disarm("bro")
                self._arm("bro_aa")
        elif msg["bms_ready"] == 0xAA:
            self._start_precharge()

    def _start_precharge(self) -> None:
        if self.state != State.CONFIGURED:
            return
        self._disarm("bro", "bro_aa")
        self.stop_message("CTS", "CML", "CDC")
        self._go(State.PRECHARGE)
        self._send("CRO", {"charger_ready": 0})
        if "cro_needs_continuous_bro" in self.faults:
            self._arm("bro_gap", 0.3)
        self.call_later(self.settings.precharge_s, self._ready)

    def _ready(self) -> None:
        if self.state != State.PRECHARGE:
            return
        self._disarm("bro_gap")
        self._go(State.READY)
        self._send("CRO", {"charger_ready": 0xAA}, immediate=True)
        self._arm("bcl")
        self._arm("bcs")

    def _on_bcl(self, msg: Decoded) -> None:
        if self.state not in (State.READY, State.CHARGING):
            return
        self._arm("bcl")
        self._demand = dict(msg.values)
        if self._first_demand is None:
            self._first_demand = abs(float(msg["current_demand"] or 0.0))
        self._seen.add("BCL")
        self._maybe_start_charging()
        self._update_output()

    def _on_bcs(self, msg: Decoded) -> None:
        if self.state not in (State.READY, State.CHARGING):
            return
        self._arm("bcs")
        self._battery_voltage = msg["measured_voltage"]  # type: ignore[assignment]
        self._seen.add("BCS")
        self._maybe_start_charging()

    def _maybe_start_charging(self) -> None:
        if self.state != State.READY:
            return
        needed = {"BCL"} if "ccs_before_bcs" in self.faults else {"BCL", "BCS"}
        if needed <= self._seen:
            self.stop_message("CRO")
            self._go(State.CHARGING)
            self._charge_start = time.time()
            self._update_output()
            self._monitor()

    def _update_output(self) -> None:
        """Output follows the BCL demand within the charger's and the battery's limits.

        GB/T 27930-2015 signs currents negative for charging; with the V2G draft a
        positive demand asks for discharge, which is delivered only as agreed in BDP/CDC.
        """
        if self.state != State.CHARGING:
            return
        s = self.settings
        demand_v = float(self._demand.get("voltage_demand") or 0.0)
        demand_signed = float(self._demand.get("current_demand") or 0.0)
        voltage = min(self._battery_voltage or demand_v, demand_v, s.max_output_voltage)
        if demand_signed > 0:
            current = self._discharge_current(demand_signed, voltage)
            reported = -current if "v2g_wrong_sign" in self.faults else current
        else:
            current = self._charge_current(abs(demand_signed), voltage)
            reported = -current
        if self._paused:
            reported = current = 0.0
        actual = current if demand_signed > 0 else -current
        mode_cv = self._demand.get("charge_mode") == 1
        self._command_power(PowerCommand(demand_v, actual, mode_cv))
        minutes = min(int((time.time() - self._charge_start) / 60), 600)
        self._send(
            "CCS",
            {
                "output_voltage": round(voltage, 1),
                "output_current": round(reported, 1),
                "charging_time": minutes,
                "charging_permitted": 0 if self._paused else 1,
            },
        )

    def _monitor(self) -> None:
        """While charging: the E-stop input and the insulation monitor (if wired)."""
        if self.state != State.CHARGING:
            return
        s = self.settings
        if self.estop_input is not None and self.estop_input():
            log.info("reference charger: emergency stop")
            self._charger_stop({"fault_stop": 1, "emergency_stop": 1})
            return
        if self.insulation_monitor is not None:
            per_volt = self.insulation_monitor() / s.max_output_voltage
            if per_volt <= s.imd_fault_ohm_per_v:
                log.info("reference charger: insulation fault (%.0f ohm/V)", per_volt)
                self._charger_stop({"fault_stop": 1, "other_fault": 1})
                return
            if per_volt <= s.imd_warning_ohm_per_v:
                log.debug("reference charger: insulation warning (%.0f ohm/V)", per_volt)
        self.call_later(s.monitor_period_s, self._monitor)

    def _command_power(self, command: PowerCommand) -> None:
        if self.power_stage is not None:
            self.power_stage(command)

    def _stop_output(self, after_s: float = 0.0) -> None:
        """CCS and the power stage stop (``after_s`` later: a fault's late stop)."""

        def stop() -> None:
            self.stop_message("CCS")
            self._command_power(OUTPUT_OFF)

        if after_s > 0:
            self.call_later(after_s, stop)
        else:
            stop()

    def _charge_current(self, demand: float, voltage: float) -> float:
        """The charging current (magnitude) for a BCL demand, faults applied."""
        f = self.faults
        limit = s_max = self.settings.max_output_current
        if "no_output_limit" in f:
            limit = s_max = 400.0
        if self._power_limit_kw is not None and voltage > 0:
            limit = min(limit, self._power_limit_kw * 1000.0 / voltage)
        bcp_max = self._bcp.get("max_charge_current")
        if bcp_max is not None and "ignores_bcp_current_limit" not in f:
            limit = min(limit, abs(float(bcp_max)))
        if "ignores_demand_increase" in f and self._first_demand is not None:
            limit = min(limit, self._first_demand)
        if "exceeds_bcl_current" in f:
            return min(demand * 1.2 + 10.0, s_max)
        return min(demand, limit)

    def _discharge_current(self, demand: float, voltage: float) -> float:
        """V2G draft: the discharge current for a positive demand, 0 unless agreed."""
        f = self.faults
        s = self.settings
        agreed = self._bdp.get("service") == 2 and "CDC" in self.table
        if not agreed and "v2g_discharges_without_agreement" not in f:
            return 0.0
        limit = s.max_discharge_current
        if voltage > 0:
            limit = min(limit, s.max_discharge_power * 1000.0 / voltage)
            if self._power_limit_kw is not None:
                limit = min(limit, self._power_limit_kw * 1000.0 / voltage)
        if self._bdp and "v2g_exceeds_discharge_limit" not in f:
            limit = min(limit, float(self._bdp.get("max_discharge_current") or 0.0))
            power = self._bdp.get("max_discharge_power")
            if power and voltage > 0:
                limit = min(limit, float(power) * 1000.0 / voltage)
        floor = max(s.min_discharge_current, float(self._bdp.get("min_discharge_current") or 0))
        if demand < floor:
            return 0.0
        return min(demand, limit)

    def _on_bsm(self, msg: Decoded) -> None:
        if self.state != State.CHARGING:
            return
        abnormal = [f for f in BMS_STATUS_FIELDS if msg[f] not in (0, None)]
        if abnormal and "ignores_bsm_fault" not in self.faults:
            log.info("reference charger: BSM reports %s, stopping", abnormal)
            self._charger_stop({"fault_stop": 1})
            return
        paused = msg["charging_permitted"] == 0 and "ignores_bsm_pause" not in self.faults
        if paused != self._paused:
            self._paused = paused
            if paused:
                limit = 60.0 if "pause_limit_60s" in self.faults else self.settings.pause_limit_s
                self._arm("pause", limit)
            else:
                self._disarm("pause")
            self._update_output()

    def _on_optional(self, msg: Decoded) -> None:
        """BMV/BMT/BSP are optional and carry no timeout: a charger just takes them."""
        if self.state == State.CHARGING and "rejects_optional_messages" in self.faults:
            self._charger_stop({"fault_stop": 1})

    def _charger_stop(self, reason: dict[str, int]) -> None:
        """The charger ends the charge: CST, then wait for BST and BSD."""
        self._disarm("bcl", "bcs", "pause")
        self._stop_output(1.0 if "current_after_cst" in self.faults else 0.0)
        self._go(State.STOPPING)
        self._send("CST", reason)
        self._arm("bst")
        self._arm("bsd")

    def _on_bst(self, msg: Decoded) -> None:
        if "ignores_bst" in self.faults:
            return
        if self.state in (State.CHARGING, State.READY, State.PRECHARGE):
            self._disarm("bcl", "bcs")
            self.stop_message("CRO")
            self._stop_output(1.0 if "current_after_bst" in self.faults else 0.0)
            self._go(State.STOPPING)
            self._send("CST", {"bms_stopped": 1})
            self._arm("bsd")
            if "cst_stops_before_bsd" in self.faults:
                self.call_later(0.03, lambda: self.stop_message("CST"))
        elif self.state == State.STOPPING:
            self._disarm("bst")

    def _on_bsd(self, msg: Decoded) -> None:
        if self.state != State.STOPPING:
            return
        self._disarm("bst", "bsd")
        self.stop_message("CST")
        self._go(State.ENDED)
        if "no_csd" not in self.faults:
            minutes = min(int((time.time() - self._charge_start) / 60), 600)
            self._send(
                "CSD",
                {
                    "charging_time": minutes,
                    "energy": 0.1,
                    "charger_number": self.settings.charger_number,
                },
            )
