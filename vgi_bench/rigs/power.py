"""The rig of the power suite: a GB/T 27930 session (the bench as BMS) driving the charger
while a battery emulator takes its output and a power analyzer measures it.

With simulated instruments (``resource = "sim"``) a :class:`PowerStagePlant` couples the
reference charger's commands to what the simulated supply and analyzer read; named
``power_*`` faults of the profile go to that plant, the others to the reference charger.
Whatever happens in the case, the rig leaves every output off (``safe_outputs``), keeps
every analyzer sample as CSV, and draws the session's plot.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import can

from vgi_bench.cases import Measurements, fail
from vgi_bench.extras import MissingExtra
from vgi_bench.gbt27930.messages import MessageTable
from vgi_bench.instruments.analyzer import Item
from vgi_bench.instruments.calibration import CalibrationStatus
from vgi_bench.instruments.rack import SIM_RESOURCE, InstrumentRack, safe_outputs
from vgi_bench.instruments.sim.plant import PLANT_FAULTS, PlantSettings, PowerStagePlant
from vgi_bench.power.plots import plot_session
from vgi_bench.power.sampler import PowerSampler
from vgi_bench.profile import Profile
from vgi_bench.rigs.gbt27930 import ChargerRig, charger_rig

log = logging.getLogger(__name__)

#: What the analyzer is set up to read (element 1: charger DC output, 2: AC input).
ITEMS = (
    Item("voltage", 1), Item("current", 1), Item("power", 1), Item("voltage_ac", 1),
    Item("voltage_peak_pos", 1), Item("voltage_peak_neg", 1), Item("energy_pos", 1),
    Item("energy_neg", 1), Item("power", 2), Item("power_factor", 2), Item("current_thd", 2),
)  # fmt: skip


@dataclass
class PowerRig:
    """What a power case works with."""

    can: ChargerRig
    rack: InstrumentRack
    sampler: PowerSampler
    measurements: Measurements
    profile: Profile
    demand: list[tuple[float, float]] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)

    def mark(self, t: float, label: str) -> None:
        self.marks.append((t, label))


def _split_faults(profile: Profile) -> tuple[Profile, frozenset[str]]:
    plant = frozenset(f for f in profile.dut.faults if f in PLANT_FAULTS)
    rest = tuple(f for f in profile.dut.faults if f not in PLANT_FAULTS)
    return dataclasses.replace(profile, dut=dataclasses.replace(profile.dut, faults=rest)), plant


def _check_calibration(rack: InstrumentRack, measurements: Measurements) -> None:
    cals = rack.calibrations()
    measurements.record("instruments", [c.as_dict() for c in cals])
    for cal in cals:
        if cal.status() == CalibrationStatus.EXPIRED:
            if not cal.allow_expired:
                fail(
                    f"{cal.name} ({cal.driver}, SN {cal.serial or '?'}) within its calibration",
                    f"calibration due {cal.due} has passed: the run is refused "
                    "(allow_expired_calibration = true marks it instead)",
                )
            measurements.record("calibration_warning", f"{cal.name}: calibration EXPIRED")


@contextlib.contextmanager
def power_rig(
    profile: Profile,
    measurements: Measurements,
    out_dir: Path,
    case_id: str,
    *,
    raw_log: can.Listener | None = None,
    table: MessageTable | None = None,
) -> Iterator[PowerRig]:
    if not profile.instruments:
        fail("[instruments] with a supply and a power analyzer in the profile", "none")
    can_profile, plant_faults = _split_faults(profile)
    simulated = any(c.resource == SIM_RESOURCE for c in profile.instruments.values())
    power = profile.power
    plant = None
    if simulated:
        settings = PlantSettings(rated_power_w=power.rated_power_w,
                                 internal_resistance=power.internal_resistance_ohm)  # fmt: skip
        plant = PowerStagePlant(settings, plant_faults)
    rack = InstrumentRack(profile.instruments, plant, profile.rack.visa_library).open()
    try:
        _check_calibration(rack, measurements)
        with (
            charger_rig(can_profile, measurements, raw_log=raw_log, table=table) as can_rig,
            safe_outputs(rack),
        ):
            if plant is not None and can_rig.sim is not None:
                can_rig.sim.power_stage = plant.command
                can_rig.sim.insulation_monitor = plant.insulation_ohm
                can_rig.sim.estop_input = lambda: plant.estop
            supply, analyzer = rack.supply(), rack.analyzer()
            measurements.record("supply_idn", supply.configure())
            supply.emulate_battery(
                power.battery_voltage_v,
                sink_current=supply.limits.ceiling("sink_current"),
                source_current=supply.limits.ceiling("source_current"),
                power=supply.limits.ceiling("power") or None,
                internal_resistance=power.internal_resistance_ohm,
            )
            supply.output(True)
            supply.arm_watchdog(power.watchdog_s)
            measurements.record("analyzer_idn", analyzer.configure(ITEMS))
            analyzer.integration("reset")
            analyzer.integration("start")
            sampler = PowerSampler(analyzer, supply, power.sample_period_s).start()
            rig = PowerRig(can_rig, rack, sampler, measurements, profile)
            try:
                yield rig
            finally:
                sampler.stop()
                supply.safe_off()
                supply.disarm_watchdog()
                _keep_evidence(rig, out_dir, case_id)
    finally:
        rack.close()


def _keep_evidence(rig: PowerRig, out_dir: Path, case_id: str) -> None:
    """Raw samples as CSV and the session plot, named in the case's measurements."""
    samples = rig.sampler.samples
    if rig.sampler.errors:
        rig.measurements.record("sampler_errors", rig.sampler.errors[:20])
    if not samples:
        return
    stem = case_id.replace("/", "_")
    csv_path = rig.sampler.write_csv(out_dir / "power" / f"{stem}.csv")
    reported = [
        (r.timestamp, -float(r.values.get("output_current") or 0.0))
        for r in rig.can.capture.select("CCS", where=lambda r: r.ok)
    ]
    files = {"samples_csv": str(csv_path.relative_to(out_dir))}
    try:
        png = plot_session(
            out_dir / "plots" / f"{stem}.png", f"{case_id}: measured against demanded",
            samples, rig.demand, reported, marks=rig.marks,
        )  # fmt: skip
        files["plot"] = str(png.relative_to(out_dir))
    except MissingExtra as exc:  # a core install: the CSV is the evidence, the note says why
        log.info("plot for %s: %s", case_id, exc)
        files["plot_note"] = f"no plot: {exc}"
    except Exception as exc:  # a plot must never cost the verdict
        log.warning("plot for %s: %s", case_id, exc)
        files["plot_note"] = f"no plot: {exc}"
    rig.measurements.record("evidence", files)
