"""The rig of the ``ocpp*.csms`` suites: the bench as charge point, the message log, and
(when the profile says ``simulated``) the reference CSMS it connects to.

One rig per case: a fresh websocket connection to the profile's ``[ocpp] url``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import pytest

from vgi_bench.cases import Measurements, fail
from vgi_bench.ocpp.checks import expect_call, judge_response
from vgi_bench.ocpp.cp_handlers import CpHandlers
from vgi_bench.ocpp.cp_role import BenchChargePoint
from vgi_bench.ocpp.log import Entry, MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.operator import ACTIONS, CommandOperator, Operator, perform
from vgi_bench.ocpp.security import Security
from vgi_bench.ocpp.session import Exchange
from vgi_bench.ocpp.timeouts import Timeouts
from vgi_bench.profile import Profile
from vgi_bench.reference.ocpp.csms_operator import ReferenceOperator
from vgi_bench.reference.ocpp.csms_ref import ReferenceCsms, listen_of
from vgi_bench.timing import TimeJudge, socket_timing

#: How long the bench waits for the CALL an operator action makes the CSMS send.
OPERATOR_WAIT_S = 10.0


@dataclass
class CsmsRig:
    """What a CSMS case works with."""

    version: str
    loop: LoopThread
    log: MessageLog
    cp: BenchChargePoint
    measurements: Measurements
    sim: ReferenceCsms | None = None
    handlers: CpHandlers | None = None  # the bench charge point's answers to the CSMS
    operator: Operator | None = None  # who performs operator actions at the CSMS
    timing: TimeJudge = field(default_factory=lambda: socket_timing("ocpp"))

    @property
    def charge_point_id(self) -> str:
        return self.cp.url.rstrip("/").rsplit("/", 1)[-1]

    def operate(self, action: str, **params: object) -> dict[str, str]:
        """Operator action ``action`` at the CSMS (``vgi_bench.ocpp.operator.ACTIONS``); skips
        the case when nobody can perform it. Returns the parameters as given."""
        return perform(self.operator, action, charge_point_id=self.charge_point_id,
                       version=self.version, **params)  # fmt: skip

    def expect_from_operator(self, action: str, since: int, what: str = "") -> Entry:
        """The CALL operator action ``action`` makes the CSMS send (schema-valid), received
        since log mark ``since``."""
        call = ACTIONS[action].sends[self.version]
        return expect_call(self.log, call, since=since, within=OPERATOR_WAIT_S,
                           what=what or f"{call} after operator action {action}")  # fmt: skip

    def connection_kept(self, seconds: float, what: str) -> None:
        """The CSMS keeps the websocket open for ``seconds``."""
        session = self.cp.session
        deadline = time.monotonic() + seconds
        while session is not None and time.monotonic() < deadline:
            if session.closed.is_set():
                fail(what, f"the connection closed ({session.close_reason or 'no reason'})")
            time.sleep(0.05)

    def connect(self) -> int:
        """Open the websocket to the CSMS; the log mark before."""
        mark = len(self.log)
        try:
            self.cp.connect()
        except (OSError, TimeoutError) as exc:
            fail(f"the CSMS to accept a websocket at {self.cp.url}", f"{type(exc).__name__}: {exc}")
        return mark

    def call(self, action: str, payload: dict, **kw: object) -> Exchange:
        exchange = self.cp.call(action, payload, **kw)
        if exchange.latency_ms is not None:
            self.measurements.setdefault("response_ms", {})[action] = exchange.latency_ms
        judge_response(exchange, self.timing, self.measurements)
        return exchange

    def close(self) -> None:
        self.cp.close()
        if self.sim is not None:
            self.sim.stop()
        self.loop.stop()


@contextlib.contextmanager
def csms_rig(
    profile: Profile, version: str, measurements: Measurements, capture: IO[str] | None, case: str
) -> Iterator[CsmsRig]:
    """A fresh bench charge point (and reference CSMS when simulated) for one case."""
    ocpp = profile.ocpp
    if ocpp is None or not ocpp.url:
        pytest.skip("the profile has no [ocpp] url of the CSMS under test")
    if not profile.dut.simulated and ocpp.version != version:
        pytest.skip(f"the DUT speaks OCPP {ocpp.version} (profile), this suite {version}")
    loop = LoopThread(f"cp-{case}")
    message_log = MessageLog(sink=capture, context={"case": case})
    security = Security.from_config(ocpp)
    handlers = CpHandlers(version)
    cp = BenchChargePoint(
        loop, version, ocpp.url, message_log, security=security,
        timeouts=Timeouts.from_config(ocpp), handler=handlers,
    )  # fmt: skip
    rig = CsmsRig(version, loop, message_log, cp, measurements, handlers=handlers,
                  timing=socket_timing("ocpp", profile.report.decision_rule))  # fmt: skip
    message_log.timing = rig.timing
    measurements.note_clock(rig.timing.clock)
    rig.operator = CommandOperator(ocpp.operator, message_log=message_log)
    if profile.dut.simulated:
        faults = tuple(f for f in profile.dut.faults if f in ReferenceCsms.FAULTS)
        rig.sim = ReferenceCsms(version, listen_of(ocpp.url), faults, loop=loop, security=security)
        try:
            rig.sim.start()
        except OSError as exc:
            loop.stop()
            pytest.fail(f"the reference CSMS cannot listen at {ocpp.url}: {exc}", pytrace=False)
        rig.operator = ReferenceOperator(rig.sim)
    try:
        yield rig
    finally:
        rig.close()
        message_log.sink = None
