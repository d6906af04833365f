"""The reference DUTs by role name, found like python-can finds interfaces.

``SIM_ROLES`` maps a role name to (module, class, fault catalogue); modules import
lazily so a role's dependencies load only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from vgi_bench.can.bus import BusOpenError, open_bus
from vgi_bench.profile import Profile

SIM_ROLES: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        # role: (module, class, name of the fault catalogue in the module)
        "gbt-charger": (
            "vgi_bench.reference.gbt27930.charger",
            "ReferenceCharger",
            "CHARGER_FAULTS",
        ),
        "gbt-bms": ("vgi_bench.reference.gbt27930.bms", "ReferenceBms", "BMS_FAULTS"),
        "ocpp201-cp": ("vgi_bench.reference.ocpp.cp201", "ReferenceChargePoint201", "CP201_FAULTS"),
        "ocpp16-cp": ("vgi_bench.reference.ocpp.cp16", "ReferenceChargePoint16", "CP16_FAULTS"),
        "tcec102-platform": (
            "vgi_bench.reference.platform.tcec102",
            "ReferenceTcec102Platform",
            "TCEC102_FAULTS",
        ),
        "gridplat-platform": (
            "vgi_bench.reference.platform.gridplat",
            "ReferenceOperatorPlatform",
            "GRIDPLAT_FAULTS",
        ),
        "ocpp-csms": ("vgi_bench.reference.ocpp.csms_ref", "ReferenceCsms", "CSMS_FAULTS"),
    }
)


class SimError(ValueError):
    """Unknown role or fault, or a profile that lacks what the role needs."""


@dataclass
class RunningSim:
    """A started reference DUT and how to stop it."""

    where: str
    stop: Callable[[], None]
    node: object


def _role(role: str) -> tuple[type, Mapping[str, str]]:
    if role not in SIM_ROLES:
        raise SimError(f"unknown role {role!r} (known: {', '.join(sorted(SIM_ROLES))})")
    module_name, class_name, faults_name = SIM_ROLES[role]
    module = importlib.import_module(module_name)
    return getattr(module, class_name), getattr(module, faults_name)


def sim_faults(role: str) -> Mapping[str, str]:
    """The named faults of ``role``: name -> what it breaks."""
    return _role(role)[1]


def start_sim(role: str, profile: Profile, *, faults: tuple[str, ...] = ()) -> RunningSim:
    """Start ``role`` on the bus of ``profile`` in this process."""
    cls, catalogue = _role(role)
    unknown = [f for f in faults if f not in catalogue]
    if unknown:
        raise SimError(f"unknown fault {unknown[0]!r} for {role} (see --list-faults {role})")
    starter = getattr(cls, "sim_from_profile", None)
    if starter is not None:  # not a CAN node (OCPP...): it reads its own profile section
        try:
            sim = starter(profile, tuple(faults))
        except ValueError as exc:
            raise SimError(str(exc)) from exc
        sim.start()
        return RunningSim(sim.where, sim.stop, sim)
    if profile.can is None:
        raise SimError(f"profile {profile.source}: role {role} needs a [can] section")
    cfg = profile.can
    try:
        bus = open_bus(cfg.interface, cfg.channel, cfg.bitrate, cfg.options)
    except BusOpenError as exc:
        raise SimError(str(exc)) from exc
    node = cls(bus, faults=tuple(faults))
    node.start()

    def stop() -> None:
        node.stop()
        bus.shutdown()

    return RunningSim(f"{cfg.interface}:{cfg.channel}", stop, node)
