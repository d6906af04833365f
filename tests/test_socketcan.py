"""The SocketCAN path (vgi_bench/can/bus.py) on ``vcan0``, where the kernel has it.

Set up with ``modprobe vcan && ip link add dev vcan0 type vcan && ip link set up vcan0``.
Containers and kernels without SocketCAN skip these tests with the reason.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import can
import pytest

from vgi_bench.can.bus import BusOpenError, bus_kwargs, open_bus, open_echoing_bus
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame

CHANNEL = "vcan0"
CHM_PGN = 0x2600


def _open(echo: bool = False) -> can.BusABC:
    try:
        return open_bus("socketcan", CHANNEL, 250000, echo=echo)
    except BusOpenError:
        pytest.skip("kernel has no SocketCAN/vcan0: socketcan path not testable here")


@pytest.fixture
def pair() -> Iterator[tuple[can.BusABC, can.BusABC]]:
    """Two sockets on vcan0; the first echoes its own frames."""
    first = _open(echo=True)
    try:
        second = _open()
    except BaseException:
        first.shutdown()
        raise
    try:
        yield first, second
    finally:
        first.shutdown()
        second.shutdown()


def recv_matching(bus: can.BusABC, arbitration_id: int, data: bytes, timeout: float = 2.0):
    """The first frame with this id and data (vcan0 may carry other traffic)."""
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        msg = bus.recv(remaining)
        if msg is not None and msg.arbitration_id == arbitration_id and bytes(msg.data) == data:
            return msg
    return None


def test_socketcan_kwargs_carry_bitrate_and_echo() -> None:
    kwargs = bus_kwargs("socketcan", CHANNEL, 250000, echo=True)
    assert kwargs["interface"] == "socketcan"
    assert kwargs["channel"] == CHANNEL
    assert kwargs["bitrate"] == 250000
    assert kwargs["receive_own_messages"] is True


def test_j1939_round_trip(pair: tuple[can.BusABC, can.BusABC]) -> None:
    sender, receiver = pair
    tag = uuid.uuid4().bytes[:3]  # tells this run's frame from any other traffic
    frame = Frame(6, CHM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, b"\x01\x01\x00" + tag)
    before = time.time()
    sender.send(frame.to_can())

    got = recv_matching(receiver, frame.arbitration_id, frame.data)
    assert got is not None, "frame not received on the second socket"
    assert got.is_extended_id
    assert got.arbitration_id == 0x1826F456
    back = Frame.from_can(got)
    assert back is not None
    assert (back.priority, back.pgn, back.src, back.dst) == (6, CHM_PGN, 0x56, 0xF4)
    assert back.data == frame.data
    # kernel timestamps are on the host's epoch clock, like every other adapter
    assert before - 1.0 <= got.timestamp <= time.time() + 1.0

    echo = recv_matching(sender, frame.arbitration_id, frame.data)
    assert echo is not None, "receive_own_messages: the sender sees its own frame"
    assert before - 1.0 <= echo.timestamp <= time.time() + 1.0


def test_without_echo_own_frames_do_not_come_back() -> None:
    quiet = _open(echo=False)
    other = _open(echo=False)
    try:
        tag = uuid.uuid4().bytes[:4]
        frame = Frame(6, CHM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, b"\x02\x02\x00\x00" + tag)
        quiet.send(frame.to_can())
        assert recv_matching(other, frame.arbitration_id, frame.data) is not None
        assert recv_matching(quiet, frame.arbitration_id, frame.data, timeout=0.3) is None
    finally:
        quiet.shutdown()
        other.shutdown()


def test_echoing_bus_uses_driver_echo() -> None:
    seen: list[can.Message] = []
    try:
        bus = open_echoing_bus("socketcan", CHANNEL, 250000, None, seen.append)
    except BusOpenError:
        pytest.skip("kernel has no SocketCAN/vcan0: socketcan path not testable here")
    try:
        tag = uuid.uuid4().bytes[:5]
        frame = Frame(6, CHM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, b"\x03\x03\x00" + tag)
        bus.send(frame.to_can())
        assert seen == [], "SocketCAN echoes in the driver: no software echo"
        assert recv_matching(bus, frame.arbitration_id, frame.data) is not None
    finally:
        bus.shutdown()
