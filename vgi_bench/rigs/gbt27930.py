"""Test rigs for the GB/T 27930 suites: bus, capture, the bench's role, and (when simulated)
the reference DUT.

One rig per case. With a simulated DUT on the ``virtual`` interface each case gets its
own channel, so cases never hear each other; on a shared bus (multicast, SocketCAN, a
real adapter) the bench's role waits for the DUT's next session, as after a re-plug.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import can

from vgi_bench.can.bus import open_bus, open_recording_bus
from vgi_bench.can.capture import Capture, Record
from vgi_bench.can.node import CanNode
from vgi_bench.cases import Measurements
from vgi_bench.clocks import Clock, can_clock
from vgi_bench.decision import Judged, Rule, require_pass
from vgi_bench.gbt27930.bms_role import BmsRole, BmsScript, Phase
from vgi_bench.gbt27930.charger_role import ChargerPhase, ChargerRole, ChargerScript
from vgi_bench.gbt27930.checks import check_period
from vgi_bench.gbt27930.messages import MessageTable
from vgi_bench.gbt27930.timeouts import TimingTable, timing_2015
from vgi_bench.profile import Profile
from vgi_bench.reference.gbt27930.bms import ReferenceBms
from vgi_bench.reference.gbt27930.charger import ReferenceCharger
from vgi_bench.timing import PeriodStats, TimeJudge

#: How long a case waits for the DUT's first message (a real DUT may need re-plugging).
DUT_READY_TIMEOUT_S = 30.0

R = TypeVar("R", bound="GbtRig")


@dataclass
class GbtRig:
    """What a GB/T 27930 case works with: the bus, its capture, and the bench's role."""

    bus: can.BusABC
    capture: Capture
    notifier: can.Notifier
    measurements: Measurements
    table: MessageTable = field(default_factory=MessageTable.gbt27930_2015)
    timing: TimingTable = field(default_factory=timing_2015)
    sim: CanNode | None = None
    role: CanNode | None = None

    @property
    def clock(self) -> Clock:
        """The clock that stamps this rig's frames (both directions)."""
        return self.capture.timing.clock

    def check_period(
        self, records: list[Record], name: str, nominal_s: float, **options: Any
    ) -> PeriodStats:
        """:func:`~vgi_bench.gbt27930.checks.check_period` with this rig's tolerance, its
        measurements and its clock (``min_count``, ``per_content`` as there)."""
        return check_period(
            records, name, nominal_s, self.timing.tolerance, self.measurements,
            timing=self.capture.timing, **options,
        )  # fmt: skip

    def check_interval(
        self, key: str, since: float, rec: Record, limit_s: float, what: str
    ) -> Judged:
        """The time from ``since`` (a frame's stamp) to ``rec`` within ``limit_s``: judged
        with this rig's clock, recorded as ``key``, failing the case unless it passes."""
        judged = self.capture.timing.interval(since, rec.timestamp, limit_s=limit_s)
        self.measurements.record(key, judged)
        return require_pass(judged, f"{what} within {limit_s:g} s", rec.describe())

    def attach(self, role: CanNode) -> None:
        self.notifier.add_listener(role.inbox)
        role.start()
        self.role = role

    def close(self) -> None:
        if self.role is not None:
            self.role.stop()
        if self.sim is not None:
            self.sim.stop()
        self.notifier.stop(timeout=1.0)
        self.capture.stop()


@dataclass
class ChargerRig(GbtRig):
    """The DUT is a charger; the bench plays the BMS."""

    @property
    def bms(self) -> BmsRole:
        assert isinstance(self.role, BmsRole), "start_bms() first"
        return self.role

    def start_bms(self, script: BmsScript | None = None) -> BmsRole:
        """Plug the bench's BMS in with ``script``; it answers the charger's next CHM."""
        self.attach(BmsRole(self.bus, script, table=self.table))
        return self.bms

    def wait_phase(self, phase: Phase, timeout: float) -> bool:
        return self.bms.wait_phase(phase, timeout)


@dataclass
class BmsRig(GbtRig):
    """The DUT is a BMS; the bench plays the charger."""

    @property
    def charger(self) -> ChargerRole:
        assert isinstance(self.role, ChargerRole), "start_charger() first"
        return self.role

    def start_charger(self, script: ChargerScript | None = None) -> ChargerRole:
        """Start the bench's charger with ``script``: CHM goes out at once."""
        self.attach(ChargerRole(self.bus, script, table=self.table))
        return self.charger

    def wait_phase(self, phase: ChargerPhase, timeout: float) -> bool:
        return self.charger.wait_phase(phase, timeout)


class _LockedWriter(can.Listener):
    """Serialises writes to the run's raw log shared by consecutive cases."""

    def __init__(self, writer: can.Listener) -> None:
        self._writer = writer
        self._lock = threading.Lock()

    def on_message_received(self, msg: can.Message) -> None:
        # One bus per run: a per-case virtual channel name must not become the log's channel.
        copy = can.Message(
            timestamp=msg.timestamp, arbitration_id=msg.arbitration_id,
            is_extended_id=msg.is_extended_id, is_remote_frame=msg.is_remote_frame,
            is_error_frame=msg.is_error_frame, dlc=msg.dlc, data=msg.data,
            is_rx=msg.is_rx, channel=0,
        )  # fmt: skip
        with self._lock:
            self._writer.on_message_received(copy)

    def stop(self) -> None:
        """The run's writer outlives the case; closed by its owner."""


@contextlib.contextmanager
def open_rig(
    rig_type: type[R],
    sim_type: Callable[..., CanNode],
    profile: Profile,
    measurements: Measurements,
    *,
    raw_log: can.Listener | None = None,
    table: MessageTable | None = None,
) -> Iterator[R]:
    """Open the bus of ``profile``, and start ``sim_type`` on it if the DUT is simulated.

    ``table`` overrides the profile's edition (a suite written for one message set).
    """
    if profile.can is None:
        raise ValueError(f"profile {profile.source}: the gbt27930 suites need a [can] section")
    cfg = profile.can
    simulated = profile.dut.simulated
    channel = cfg.channel
    if simulated and cfg.interface == "virtual":
        channel = f"{cfg.channel}-{uuid.uuid4().hex[:8]}"
    table = table or MessageTable.edition(profile.gbt27930.edition)
    capture = Capture(table, writer=_LockedWriter(raw_log) if raw_log else None)
    # The bench's bus is opened first: python-can's virtual bus then queues our own echo
    # ahead of the simulated DUT's copy, so an answer is never captured before its cause.
    opened = open_recording_bus(
        cfg.interface, channel, cfg.bitrate, cfg.options, capture.on_message_received
    )
    bus = opened.bus
    # The run's can.asc names one channel; so does its clock (a per-case virtual
    # channel is the bench's own device, not the profile's).
    clock = can_clock(cfg.interface, cfg.channel, opened.echo)
    capture.timing = TimeJudge(clock, Rule.of(profile.report.decision_rule))
    measurements.note_clock(clock)
    sim_bus = None
    sim = None
    if simulated:
        sim_bus = open_bus(cfg.interface, channel, cfg.bitrate, cfg.options)
        # faults of other reference DUTs in the same run (an OCPP station's, the power
        # stage's) are theirs: this DUT takes the ones it knows
        known = getattr(sim_type, "FAULTS", None)
        faults = tuple(f for f in profile.dut.faults if known is None or f in known)
        sim = sim_type(sim_bus, faults=faults, table=table)
    notifier = can.Notifier(bus, [capture], timeout=0.05)
    rig = rig_type(bus, capture, notifier, measurements, table=table, sim=sim)
    try:
        if sim is not None:
            sim.start()
        yield rig
    finally:
        rig.close()
        bus.shutdown()
        if sim_bus is not None:
            sim_bus.shutdown()


def charger_rig(
    profile: Profile,
    measurements: Measurements,
    *,
    raw_log: can.Listener | None = None,
    table: MessageTable | None = None,
) -> contextlib.AbstractContextManager[ChargerRig]:
    """The rig of the charger suite (reference charger when simulated)."""
    return open_rig(
        ChargerRig, ReferenceCharger, profile, measurements, raw_log=raw_log, table=table
    )


#: The messages a V2G suite needs from its message set (the draft's BDP and CDC).
V2G_MESSAGES = ("BDP", "CDC")
V2G_DRAFT_EDITION = "v2g-draft"


def v2g_table(profile: Profile) -> MessageTable:
    """The profile's edition if it has the V2G messages, else the packaged draft."""
    table = MessageTable.edition(profile.gbt27930.edition)
    if all(name in table for name in V2G_MESSAGES):
        return table
    return MessageTable.edition(V2G_DRAFT_EDITION)


def bms_rig(
    profile: Profile, measurements: Measurements, *, raw_log: can.Listener | None = None
) -> contextlib.AbstractContextManager[BmsRig]:
    """The rig of the BMS suite (reference BMS when simulated)."""
    return open_rig(BmsRig, ReferenceBms, profile, measurements, raw_log=raw_log)
