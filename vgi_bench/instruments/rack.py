"""The bench's instruments for one run, opened from the profile: drivers on guarded,
locked links, and simulators started for any instrument whose resource is ``sim``.

One pyvisa ResourceManager is shared (several are not independent, pyvisa #742) and each
resource is opened once, so one lock guards it. Which VISA implementation it loads is the
profile's ``[instruments] visa_library`` (pyvisa-py ``"@py"`` by default, NI-VISA or
Keysight's ``"@ivi"``, ...); one that cannot load is an :class:`InstrumentError` naming
what to install, before any instrument is touched. :meth:`InstrumentRack.safe_state` turns
every output off and opens every relay; :func:`safe_outputs` makes sure it runs on any
error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from vgi_bench.instruments.analyzer import PowerAnalyzer
from vgi_bench.instruments.calibration import Calibration
from vgi_bench.instruments.command_map import CommandMap, get_model
from vgi_bench.instruments.limits import CommandGuard, SafetyLimits
from vgi_bench.instruments.link import InstrumentError, Link
from vgi_bench.instruments.relay import RelayBoard, SerialTransport
from vgi_bench.instruments.sim.instruments import (
    SimulatedAnalyzer,
    SimulatedRelayBoard,
    SimulatedSupply,
)
from vgi_bench.instruments.sim.plant import PowerStagePlant
from vgi_bench.instruments.sim.scpi_server import ScpiServer
from vgi_bench.instruments.supply import DcSupply
from vgi_bench.profile import DEFAULT_VISA_LIBRARY, InstrumentConfig

log = logging.getLogger(__name__)

SIM_RESOURCE = "sim"

#: What a VISA library needs when it does not load, by pyvisa backend name.
_VISA_INSTALL_HINTS = {
    "py": "pyvisa-py is a dependency of vgi-bench: pip install pyvisa-py",
    "ivi": "install NI-VISA or Keysight IO Libraries Suite, or give the library's path",
    "sim": "pip install pyvisa-sim",
}


@dataclass
class InstrumentRack:
    """Open drivers by profile name (``supply``, ``analyzer``, ``relay``...)."""

    configs: Mapping[str, InstrumentConfig]
    plant: PowerStagePlant | None = None  # needed when any resource is "sim"
    visa_library: str = DEFAULT_VISA_LIBRARY
    supplies: dict[str, DcSupply] = field(default_factory=dict)
    analyzers: dict[str, PowerAnalyzer] = field(default_factory=dict)
    relays: dict[str, RelayBoard] = field(default_factory=dict)
    simulators: dict[str, Any] = field(default_factory=dict)
    _links: list[Link] = field(default_factory=list)
    _servers: list[ScpiServer] = field(default_factory=list)
    _rm: Any = None

    def open(self) -> InstrumentRack:
        try:
            for name, config in self.configs.items():
                self._open_one(name, config)
        except Exception:
            self.close()
            raise
        return self

    def calibrations(self) -> list[Calibration]:
        return [Calibration.of(name, cfg) for name, cfg in self.configs.items()]

    def _open_one(self, name: str, config: InstrumentConfig) -> None:
        cmap = get_model(config.driver)
        limits = SafetyLimits.from_profile(config.limits)
        resource = config.resource
        if resource == SIM_RESOURCE:
            resource = self._simulate(name, cmap, config)
        link = Link(self._transport(cmap, resource), cmap, CommandGuard(cmap, limits), name)
        self._links.append(link)
        if cmap.kind == "supply":
            self.supplies[name] = DcSupply(link, limits, name)
        elif cmap.kind == "analyzer":
            self.analyzers[name] = PowerAnalyzer(link, name)
        else:
            self.relays[name] = RelayBoard(link, config.channels, name)

    def _simulate(self, name: str, cmap: CommandMap, config: InstrumentConfig) -> str:
        if self.plant is None:
            raise InstrumentError(f"{name}: resource 'sim' needs a simulated power stage")
        if cmap.kind == "supply":
            sim: Any = SimulatedSupply(cmap, self.plant)
        elif cmap.kind == "analyzer":
            sim = SimulatedAnalyzer(cmap, self.plant)
        else:
            sim = SimulatedRelayBoard(cmap, _wiring(config, self.plant))
        server = ScpiServer(sim, cmap.link.get("read_termination", "\n")).start()
        self._servers.append(server)
        self.simulators[name] = sim
        return server.url if cmap.kind == "relay" else server.resource

    def _transport(self, cmap: CommandMap, resource: str) -> Any:
        link = cmap.link
        timeout_s = float(link.get("timeout_ms", 3000)) / 1000
        if cmap.kind == "relay":
            return SerialTransport(
                resource, int(link.get("baudrate", 115200)), timeout_s,
                link.get("write_termination", "\n"),
            )  # fmt: skip
        if self._rm is None:
            self._rm = open_resource_manager(self.visa_library)
        try:
            return self._rm.open_resource(
                resource,
                read_termination=link.get("read_termination", "\n"),
                write_termination=link.get("write_termination", "\n"),
                timeout=int(timeout_s * 1000),
            )
        except Exception as exc:
            raise InstrumentError(f"cannot open {resource!r}: {exc}") from exc

    # -- by kind -----------------------------------------------------------------------
    def supply(self) -> DcSupply:
        if not self.supplies:
            raise InstrumentError("the profile has no supply ([instruments.NAME] of a supply)")
        return next(iter(self.supplies.values()))

    def analyzer(self) -> PowerAnalyzer:
        if not self.analyzers:
            raise InstrumentError("the profile has no power analyzer")
        return next(iter(self.analyzers.values()))

    # -- safety --------------------------------------------------------------------------
    def safe_state(self) -> bool:
        """Every supply output off (confirmed where the model can say), every relay open."""
        ok = True
        for supply in self.supplies.values():
            ok = supply.safe_off() and ok
        for relay in self.relays.values():
            try:
                relay.open_all()
            except Exception as exc:  # report and go on: the other outputs still go off
                log.error("%s: open all relays failed: %s", relay.name, exc)
                ok = False
        return ok

    def close(self) -> None:
        self.safe_state()
        for link in self._links:
            link.close()
        self._links.clear()
        if self._rm is not None:
            with contextlib.suppress(Exception):
                self._rm.close()
            self._rm = None
        for sim in self.simulators.values():
            if hasattr(sim, "close"):
                sim.close()
        for server in self._servers:
            server.stop()
        self._servers.clear()


def open_resource_manager(visa_library: str) -> Any:
    """``pyvisa.ResourceManager(visa_library)``, or an InstrumentError saying what to install."""
    import pyvisa

    try:
        return pyvisa.ResourceManager(visa_library)
    except (ValueError, OSError, ImportError) as exc:  # no such backend / library not found
        _, at, backend = visa_library.rpartition("@")
        hint = _VISA_INSTALL_HINTS.get(backend if at else "ivi")
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InstrumentError(
            f"VISA library {visa_library!r} ([instruments] visa_library) does not load: "
            f"{reason}" + (f" ({hint})" if hint else "")
        ) from exc


#: Relay channel names the simulated board wires to the plant: the E-stop input, and
#: insulation-fault resistors (``resistors_ohm = { imd_fault = 37500 }`` in the profile).
def _wiring(config: InstrumentConfig, plant: PowerStagePlant) -> Any:
    names = {number: name for name, number in config.channels.items()}
    resistors = dict(config.options.get("resistors_ohm", {}))

    def on_change(channel: int, closed: bool) -> None:
        name = names.get(channel, "")
        if name == "estop":
            plant.set_estop(closed)
        elif name in resistors:
            plant.connect_resistor(name, float(resistors[name]) if closed else None)

    return on_change


class _Terminated(SystemExit):
    """SIGTERM, turned into an exception so ``finally`` blocks (outputs off) run."""


@contextlib.contextmanager
def safe_outputs(rack: InstrumentRack) -> Iterator[InstrumentRack]:
    """Outputs off when the block ends, however it ends: normally, by an exception, by
    Ctrl-C (KeyboardInterrupt) or by SIGTERM (handled here when in the main thread)."""
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:

        def on_term(signum: int, frame: Any) -> None:
            raise _Terminated(128 + signum)

        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield rack
    except BaseException:
        log.warning("power stage: stopping on error or interrupt, outputs off")
        raise
    finally:
        rack.safe_state()
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)
