"""The rig of the platform suites: the bench's client to the DUT platform, the bench's
own server for what the DUT pushes, and (when the profile says ``simulated``) the
reference platform, started afresh for each case."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import pytest

from vgi_bench.cases import Measurements
from vgi_bench.decision import Judged, require_pass
from vgi_bench.platform.client import Exchange, PlatformClient
from vgi_bench.platform.envelope import SeqCounter
from vgi_bench.platform.inbox import Ack, Inbox, inbox_routes
from vgi_bench.platform.link import (
    LinkSetupError,
    bench_server,
    client_for,
    host_port,
    service_for,
)
from vgi_bench.platform.log import MessageLog
from vgi_bench.profile import PlatformConfig, Profile
from vgi_bench.timing import TimeJudge, socket_timing


@dataclass
class PlatformRig:
    """What a platform case works with."""

    config: PlatformConfig
    client: PlatformClient
    inbox: Inbox
    log: MessageLog
    measurements: Measurements
    dut: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Callable[[], Any]] = field(default_factory=list)
    timing: TimeJudge = field(default_factory=lambda: socket_timing("platform"))

    def cleanup(self, action: Callable[[], Any]) -> None:
        """Run ``action`` after the case (a DUT that lives on is left as it was found)."""
        self.cleanups.append(action)

    def call(self, endpoint: str, data: Any, *, name: str | None = None) -> Exchange:
        """A sealed call; what was sent and the answer go to the measurements."""
        exchange = self.client.call(endpoint, data)
        self.note(name or endpoint, exchange)
        return exchange

    def note(self, name: str, exchange: Exchange) -> None:
        self.measurements.record(name, exchange.as_dict())

    def check_ack(self, exchange: Exchange, key: str = "ack") -> Judged:
        """The DUT's answer within ``ack_limit_s`` (its round trip on the host's monotonic
        clock): judged, recorded as ``key``, failing the case unless it passes."""
        limit = self.config.ack_limit_s
        judged = self.timing.duration(exchange.elapsed_ms / 1000.0, limit_s=limit)
        self.measurements.record(key, judged)
        return require_pass(judged, f"the acknowledgement within {limit:g} s",
                       f"{exchange.elapsed_ms:.0f} ms")  # fmt: skip

    def check_push_time(self, started: float, arrived: float, limit_s: float, what: str) -> None:
        """A push the bench waited for from ``started`` (a host reading) arrived by
        ``limit_s``: judged with the clock's uncertainty, failing unless it passes."""
        if arrived <= started:  # already there when the wait began
            return
        judged = self.timing.interval(started, arrived, limit_s=limit_s, from_host=True)
        require_pass(judged, f"{what} within {limit_s:g} s", f"after {arrived - started:.3f} s")


@contextlib.contextmanager
def platform_rig(
    profile: Profile,
    measurements: Measurements,
    capture: IO[str] | None,
    seq: SeqCounter,
    acks: Mapping[str, Ack],
    dut_factory: Callable[[PlatformConfig, tuple[str, ...]], Any] | None,
    label: str = "",
) -> Iterator[PlatformRig]:
    """Start the bench's server at ``[platform] listen`` and the simulated DUT if any."""
    config = profile.platform
    if config is None or not config.url or not config.listen:
        pytest.skip("the profile has no [platform] url and listen")
    log = MessageLog(capture, label)
    inbox = Inbox()
    try:
        service = service_for(config, inbox_routes(inbox, acks), log=log, direction="dut->bench")
        client = client_for(config, config.url, log=log, seq=seq)
        server = bench_server(config, service, *host_port(config.listen)).start()
    except LinkSetupError as exc:
        pytest.skip(f"profile {profile.source}: {exc}")
    dut = None
    try:
        if profile.dut.simulated and dut_factory is not None:
            dut = dut_factory(config, profile.dut.faults)
            dut.start()
        timing = socket_timing("platform", profile.report.decision_rule)
        rig = PlatformRig(config, client, inbox, log, measurements, dut, timing=timing)
        measurements.note_clock(rig.timing.clock)
        try:
            yield rig
        finally:
            for action in reversed(rig.cleanups):
                with contextlib.suppress(Exception):
                    action()
    finally:
        if dut is not None:
            dut.stop()
        server.stop()
