"""Per-message CALL timeouts come from the profile (``[ocpp] call_timeout_s`` and the
``[ocpp.timeouts]`` table) and are what the bench's CSMS really waits."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from tests.ocpp_helpers import free_port
from vgi_bench.ocpp.csms_role import BenchCsms
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.timeouts import DEFAULT_TIMEOUT_S, SLOW_ACTIONS, Timeouts
from vgi_bench.profile import ProfileError, load_profile

MINIMAL = '[dut]\nvendor = "v"\nmodel = "m"\nserial = "s"\nfirmware = "f"\n'


def _profile(tmp_path: Path, ocpp: str):
    path = tmp_path / "profile.toml"
    path.write_text(MINIMAL + '[ocpp]\nlisten = "127.0.0.1:9000"\n' + ocpp, encoding="utf-8")
    return load_profile(path)


def test_defaults_without_keys(tmp_path: Path) -> None:
    timeouts = Timeouts.from_config(_profile(tmp_path, "").ocpp)
    assert timeouts.for_action("Heartbeat") == DEFAULT_TIMEOUT_S
    assert timeouts.for_action("GetLog") == SLOW_ACTIONS["GetLog"]
    assert Timeouts.from_config(None) == Timeouts()


def test_profile_sets_default_and_per_action(tmp_path: Path) -> None:
    ocpp = _profile(tmp_path, "call_timeout_s = 3\n[ocpp.timeouts]\nReset = 45\nGetLog = 2.5\n")
    timeouts = Timeouts.from_config(ocpp.ocpp)
    assert timeouts.for_action("Heartbeat") == 3.0
    assert timeouts.for_action("Reset") == 45.0
    assert timeouts.for_action("GetLog") == 2.5  # the profile wins over the built-in table
    assert timeouts.for_action("UpdateFirmware") == SLOW_ACTIONS["UpdateFirmware"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call_timeout_s = 0\n", "call_timeout_s"),
        ('call_timeout_s = "soon"\n', "call_timeout_s"),
        ("[ocpp.timeouts]\nReset = -1\n", "'Reset' must be a positive number"),
        ('[ocpp.timeouts]\nReset = "x"\n', "'Reset' must be a positive number"),
    ],
)
def test_bad_timeouts_are_refused_with_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ProfileError, match=expected):
        _profile(tmp_path, text)


class _SilentChargePoint:
    """A websocket peer that connects to the bench's CSMS and never answers a CALL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.done = threading.Event()

    def run(self) -> None:
        from websockets.asyncio.client import connect

        async def main() -> None:
            async with connect(self.url, subprotocols=["ocpp2.0.1"]) as ws:
                while not self.done.is_set():
                    try:
                        await asyncio.wait_for(ws.recv(), 0.1)
                    except TimeoutError:
                        pass

        asyncio.run(main())


def test_the_csms_waits_the_configured_time_per_action(tmp_path: Path) -> None:
    """Reset waits its own 0.5 s, other actions the default: the timeout is per action."""
    ocpp = _profile(tmp_path, "call_timeout_s = 1.5\n[ocpp.timeouts]\nReset = 0.5\n").ocpp
    port = free_port()
    loop = LoopThread("test-timeouts")
    csms = BenchCsms(loop, "2.0.1", f"127.0.0.1:{port}", MessageLog(), charge_point_id="CP_1",
                     timeouts=Timeouts.from_config(ocpp)).start()  # fmt: skip
    peer = _SilentChargePoint(f"ws://127.0.0.1:{port}/CP_1")
    thread = threading.Thread(target=peer.run, daemon=True)
    thread.start()
    try:
        assert csms.wait_session(5) is not None
        start = time.monotonic()
        reset = csms.call("Reset", {"type": "Immediate"})
        reset_s = time.monotonic() - start
        start = time.monotonic()
        beat = csms.call("ClearCache", {})
        beat_s = time.monotonic() - start
    finally:
        peer.done.set()
        thread.join(5)
        csms.stop()
        loop.stop()
    assert reset.response is None and reset.describe() == "no answer to Reset within 0.5 s"
    assert beat.response is None and beat.describe() == "no answer to ClearCache within 1.5 s"
    assert reset_s < beat_s  # generous: no timing bound on a shared machine
