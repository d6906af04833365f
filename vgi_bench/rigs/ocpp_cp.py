"""The rig of the ``ocpp*.cp`` suites: the bench's CSMS, the message log, and (when the
profile says ``simulated``) the reference charge point connected to it.

One rig per case, on the profile's ``[ocpp] listen`` address. Operator actions (plug in,
present an idToken) drive the simulated charge point; against a real one such a case is
skipped, since nobody stands at the charger in an automated run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

import pytest

from vgi_bench.cases import Measurements, fail
from vgi_bench.ocpp.checks import expect_call, is_call, judge_response, seen
from vgi_bench.ocpp.csms_handlers import CsmsScript
from vgi_bench.ocpp.csms_role import Attempt, BenchCsms
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.security import Security
from vgi_bench.ocpp.session import Exchange
from vgi_bench.ocpp.timeouts import Timeouts
from vgi_bench.profile import Profile
from vgi_bench.reference.ocpp.cp_base import ChargePointBase, CpOptions, SimulatedChargePoint
from vgi_bench.timing import TimeJudge, socket_timing

#: How long a case waits for the charge point to connect (a real one may back off).
DUT_CONNECT_TIMEOUT_S = 60.0
SIM_CONNECT_TIMEOUT_S = 10.0


def reference_cp_class(version: str) -> type[ChargePointBase]:
    if version == "1.6":
        from vgi_bench.reference.ocpp.cp16 import ReferenceChargePoint16

        return ReferenceChargePoint16
    from vgi_bench.reference.ocpp.cp201 import ReferenceChargePoint201

    return ReferenceChargePoint201


@dataclass
class CpRig:
    """What a charge-point case works with."""

    version: str
    loop: LoopThread
    log: MessageLog
    csms: BenchCsms
    measurements: Measurements
    sim: SimulatedChargePoint | None = None
    sim_factory: Callable[[], SimulatedChargePoint] | None = None
    booted_at: int = 0  # log index after the accepted boot
    reset_for_boot: bool = False  # the bench reset a real DUT to see it boot
    security: Security = field(default_factory=Security)
    timing: TimeJudge = field(default_factory=lambda: socket_timing("ocpp"))

    @property
    def script(self) -> CsmsScript:
        return self.csms.script

    def mark(self) -> int:
        """The log position now; checks look from a mark on."""
        return len(self.log)

    # ------------------------------------------------------------------ the DUT

    def start_dut(self) -> None:
        """Start the simulated charge point (a real one connects by itself)."""
        if self.sim is None and self.sim_factory is not None:
            self.sim = self.sim_factory()
            self.sim.start()

    def connect(self) -> int:
        """Let the charge point connect (start the simulated one); the log mark before."""
        mark = self.mark()
        self.start_dut()
        timeout = SIM_CONNECT_TIMEOUT_S if self.sim is not None else DUT_CONNECT_TIMEOUT_S
        if self.csms.wait_session(timeout) is None:
            fail(f"the charge point to connect within {timeout:g} s", seen(self.log, mark))
        return mark

    def boot(self, within: float = 10.0) -> int:
        """Connect and wait for the BootNotification; the log mark after it.

        A real charge point that reconnects without booting is reset (Immediate) once, so
        the case sees a boot under its own script (``reset_for_boot`` tells it so).
        """
        mark = self.connect()
        if self.sim is None and self.log.wait_for(is_call("BootNotification"), 5, mark) is None:
            self.log.note("bench: no BootNotification after connecting; Reset to get one")
            self.reset_for_boot = True
            self.call("Reset", {"type": "Immediate"})
        boot = expect_call(self.log, "BootNotification", since=mark, within=within)
        self.booted_at = boot.seq + 1
        return self.booted_at

    def operator(self, action: str, *args: object) -> None:
        """``plug_in``, ``unplug`` or ``present`` at the charge point (simulated only)."""
        if self.sim is None:
            pytest.skip(f"needs an operator at the charge point ({action})")
        self.sim.act(action, *args)

    # ------------------------------------------------------------------ the bench's calls

    def call(self, action: str, payload: dict, **kw: object) -> Exchange:
        exchange = self.csms.call(action, payload, **kw)
        if exchange.latency_ms is not None:
            self.measurements.setdefault("response_ms", {})[action] = exchange.latency_ms
        judge_response(exchange, self.timing, self.measurements)
        return exchange

    def restart_csms(self, security: Security) -> None:
        """The bench's CSMS again on the same address, with other transport security."""
        old = self.csms
        old.stop()
        self.csms = BenchCsms(
            self.loop, self.version, f"{old.host}:{old.port}", self.log, script=old.script,
            charge_point_id=old.charge_point_id, security=security, timeouts=old.timeouts,
        ).start()  # fmt: skip

    def wait_attempt(self, timeout: float) -> Attempt | None:
        """The first websocket upgrade request the bench's CSMS saw (None: none came)."""
        deadline = time.monotonic() + timeout
        while not self.csms.attempts and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.csms.attempts[0] if self.csms.attempts else None

    def close(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        with contextlib.suppress(Exception):
            self.csms.stop()
        self.loop.stop()


@contextlib.contextmanager
def cp_rig(
    profile: Profile, version: str, measurements: Measurements, capture: IO[str] | None, case: str
) -> Iterator[CpRig]:
    """A fresh bench CSMS (and simulated charge point) for one case."""
    ocpp = profile.ocpp
    if ocpp is None or not ocpp.listen:
        pytest.skip("the profile has no [ocpp] listen address for the bench's CSMS")
    if not profile.dut.simulated and ocpp.version != version:
        pytest.skip(f"the DUT speaks OCPP {ocpp.version} (profile), this suite {version}")
    loop = LoopThread(f"csms-{case}")
    message_log = MessageLog(sink=capture, context={"case": case})
    cp_id = ocpp.charge_point_id or "CP_1"
    security = Security.from_config(ocpp)
    csms = BenchCsms(
        loop, version, ocpp.listen, message_log, charge_point_id=cp_id, security=security,
        timeouts=Timeouts.from_config(ocpp),
    )  # fmt: skip
    rig = CpRig(version, loop, message_log, csms, measurements, security=security,
                timing=socket_timing("ocpp", profile.report.decision_rule))  # fmt: skip
    message_log.timing = rig.timing
    measurements.note_clock(rig.timing.clock)
    if profile.dut.simulated:
        cls = reference_cp_class(version)
        options = CpOptions.for_csms(ocpp)
        faults = tuple(f for f in profile.dut.faults if f in cls.FAULTS)  # others: other DUTs
        rig.sim_factory = lambda: SimulatedChargePoint(cls(options, faults))
    try:
        csms.start()
    except OSError as exc:
        loop.stop()
        pytest.fail(f"the bench's CSMS cannot listen on {ocpp.listen}: {exc}", pytrace=False)
    try:
        yield rig
    finally:
        rig.close()
        message_log.sink = None  # the run's capture file stays open for the next case
