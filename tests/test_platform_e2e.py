"""End to end: a load-regulation command sent by the bench (as grid platform) to the
reference operator platform reaches the reference GB/T charger, and the bench measures on
the CAN session the time from the command to the delivered power (the CCS output).

The platform hands its station limit to the charger through the charger's thread-safe
``set_power_limit`` hook; the CCS shows the limit at once, so the figure is the chain's
latency: HTTP exchange, the platform's handling, the charger's next CCS (period 50 ms).
"""

from __future__ import annotations

import time

from tests.ocpp_helpers import free_port
from vgi_bench.cases import Measurements
from vgi_bench.gbt27930.bms_role import BmsScript, Phase
from vgi_bench.platform.inbox import Inbox, inbox_routes
from vgi_bench.platform.link import client_for, service_for
from vgi_bench.platform.server import PlatformHttpServer
from vgi_bench.profile import load_profile
from vgi_bench.reference.gbt27930.charger import ReferenceCharger
from vgi_bench.reference.platform.gridplat import ReferenceOperatorPlatform
from vgi_bench.rigs.gbt27930 import charger_rig
from vgi_bench.testcases.gridplat.platform.steps import command, grid_acks

DEMAND_A = 100.0
TARGET_KW = 20.0
#: The chain's budget: the acknowledgement limit of the profile plus two CCS periods.
CCS_PERIOD_S = 0.05
TOLERANCE_A = 0.5


def _current(record) -> float:
    return abs(float(record.values.get("output_current") or 0.0))


def test_regulation_command_reaches_the_charger_output() -> None:
    profile = load_profile(None)
    config = profile.platform
    assert config is not None
    platform_port, grid_port = free_port(), free_port()
    grid_listen = f"127.0.0.1:{grid_port}"
    inbox = Inbox()
    grid = PlatformHttpServer(
        service_for(config, inbox_routes(inbox, grid_acks({})), direction="dut->bench"),
        "127.0.0.1",
        grid_port,
    ).start()
    try:
        _regulate(profile, config, platform_port, grid_listen)
    finally:
        grid.stop()


def _regulate(profile, config, platform_port: int, grid_listen: str) -> None:
    with charger_rig(profile, Measurements()) as rig:
        assert isinstance(rig.sim, ReferenceCharger)
        operator = ReferenceOperatorPlatform(
            config, port=platform_port, partner_url=f"http://{grid_listen}/evcs/v1/",
            power_sink=rig.sim.set_power_limit,
        )  # fmt: skip
        operator.start()
        try:
            bms = rig.start_bms(BmsScript(values={"BCL": {"current_demand": -DEMAND_A}}))
            assert bms.wait_phase(Phase.CHARGING, 30)
            first = rig.capture.wait_for("CCS", timeout=5, where=lambda r: _current(r) >= 99)
            assert first is not None, "CCS at the 100 A demand"
            assert abs(first.timestamp - time.time()) < 5, "bus clock is the host's wall clock"
            voltage = float(first.values["output_voltage"])
            limited_a = TARGET_KW * 1000.0 / voltage

            client = client_for(config, f"http://127.0.0.1:{platform_port}/evcs/v1/")
            client.query_token()
            order = command("VGI-ST-0001", TARGET_KW, 1000.0, 1.0)
            sent_at = time.time()
            exchange = client.call("notification_regulation_command", order)
            assert exchange.ret == 0 and exchange.data["ConfirmResult"] == 0, exchange.seen()
            limited = rig.capture.wait_for(
                "CCS", timeout=2, since=sent_at,
                where=lambda r: abs(_current(r) - limited_a) < TOLERANCE_A,
            )  # fmt: skip
            assert limited is not None, f"CCS at {limited_a:.1f} A after the command"
            latency_s = limited.timestamp - sent_at
            budget_s = config.ack_limit_s + 2 * CCS_PERIOD_S
            print(f"command -> delivered power: {latency_s * 1000:.1f} ms (budget {budget_s} s)")
            assert 0 <= latency_s <= budget_s

            restored = rig.capture.wait_for(
                "CCS", timeout=5, since=limited.timestamp + 0.5,
                where=lambda r: _current(r) >= DEMAND_A - TOLERANCE_A,
            )  # fmt: skip
            assert restored is not None, "CCS back at the demand after the command's Duration"
            assert restored.timestamp - sent_at >= 1.0 - 2 * CCS_PERIOD_S
        finally:
            operator.stop()
