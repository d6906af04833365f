"""Each frame reaches the capture exactly once, whatever the interface echoes
(vgi_bench/can/bus.py).

The bench records its own transmissions through the driver's echo (virtual, socketcan,
pcan, kvaser, vector, ...), the medium's loopback (udp_multicast) or a software echo
(drivers with neither), never through two of them; its own node never takes its own
frames for the peer's.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import can
import pytest

from vgi_bench.can.bus import (
    EchoMode,
    attach_tx_echo,
    echo_mode,
    open_bus,
    open_recording_bus,
)
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.node import CanNode

CHM_PGN = 0x2600
BHM_PGN = 0x2700


def udp_channel() -> tuple[str, dict[str, int]]:
    """A multicast group and port of this test's own (parallel runs never cross)."""
    group = f"239.75.{random.randint(1, 254)}.{random.randint(1, 254)}"
    return group, {"port": random.randint(20000, 60000)}


class Collect(can.Listener):
    def __init__(self) -> None:
        self.messages: list[can.Message] = []
        self._lock = threading.Lock()

    def on_message_received(self, msg: can.Message) -> None:
        with self._lock:
            self.messages.append(msg)

    def matching(self, arbitration_id: int) -> list[can.Message]:
        with self._lock:
            return [m for m in self.messages if m.arbitration_id == arbitration_id]


def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    """Poll ``condition``: a bounded wait, not a measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def bench_frame(data: bytes = b"\x4c\x1d") -> can.Message:
    return Frame(6, BHM_PGN, BMS_ADDRESS, CHARGER_ADDRESS, data).to_can()


def dut_frame() -> can.Message:
    return Frame(6, CHM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, b"\x01\x01\x00").to_can()


@pytest.fixture
def closing() -> Iterator[list]:
    """Buses and notifiers to close at the end of the test."""
    things: list = []
    yield things
    for thing in reversed(things):
        if isinstance(thing, can.Notifier):
            thing.stop(timeout=1.0)
        else:
            thing.shutdown()


def test_echo_mode_by_interface() -> None:
    for interface in ("socketcan", "virtual", "pcan", "kvaser", "vector", "ixxat"):
        assert echo_mode(interface) is EchoMode.DRIVER
    assert echo_mode("udp_multicast") is EchoMode.LOOPBACK
    for interface in ("slcan", "serial", "gs_usb"):
        assert echo_mode(interface) is EchoMode.SOFTWARE


@pytest.mark.parametrize("interface", ["udp_multicast", "virtual"])
def test_each_frame_recorded_once(interface: str, closing: list) -> None:
    """Sent once, periodic or not, each bench frame and each DUT frame shows once."""
    if interface == "udp_multicast":
        channel, options = udp_channel()
    else:
        channel, options = f"echo-{uuid.uuid4().hex}", {}
    seen = Collect()
    rec = open_recording_bus(interface, channel, 250000, options, seen.on_message_received)
    closing.append(rec.bus)
    peer = open_bus(interface, channel, 250000, options)
    closing.append(peer)
    closing.append(can.Notifier(rec.bus, [seen], timeout=0.05))
    assert rec.echo is echo_mode(interface)
    for n in range(3):
        rec.bus.send(bench_frame(bytes([n, 0])))
        peer.send(dut_frame())
    task = rec.bus.send_periodic(bench_frame(b"\xaa\xaa"), 0.02, store_task=False)
    time.sleep(0.25)
    task.stop()
    time.sleep(0.1)  # the last periodic copy comes back
    bench = seen.matching(bench_frame().arbitration_id)
    one_shot = [m for m in bench if bytes(m.data) != b"\xaa\xaa"]
    assert [bytes(m.data) for m in one_shot] == [bytes([n, 0]) for n in range(3)]
    assert all(m.is_rx is False for m in bench)
    periodic = [m for m in bench if bytes(m.data) == b"\xaa\xaa"]
    gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(periodic)]
    assert len(periodic) >= 5 and min(gaps) > 0.005, "a periodic frame recorded twice"
    dut = seen.matching(dut_frame().arbitration_id)
    assert len(dut) == 3 and all(m.is_rx for m in dut)


def test_udp_multicast_without_echo_drops_its_own_frames(closing: list) -> None:
    """A bus opened without echo hears only the others, as on SocketCAN."""
    channel, options = udp_channel()
    quiet = open_bus("udp_multicast", channel, 250000, options)
    closing.append(quiet)
    peer = open_bus("udp_multicast", channel, 250000, options)
    closing.append(peer)
    quiet.send(bench_frame())
    peer.send(dut_frame())
    got = []
    deadline = time.monotonic() + 1.0
    while (left := deadline - time.monotonic()) > 0:
        msg = quiet.recv(left)
        if msg is not None:
            got.append(msg)
    assert [m.arbitration_id for m in got] == [dut_frame().arbitration_id]


def test_software_echo_records_each_send_once(closing: list) -> None:
    """Where nothing comes back, the echo records each sent frame once, as transmitted."""
    channel = f"soft-{uuid.uuid4().hex}"
    bus = can.Bus(interface="virtual", channel=channel)  # no receive_own_messages
    closing.append(bus)
    seen = Collect()
    attach_tx_echo(bus, seen.on_message_received)
    closing.append(can.Notifier(bus, [seen], timeout=0.05))
    for n in range(3):
        bus.send(bench_frame(bytes([n, 0])))
    time.sleep(0.2)
    assert [bytes(m.data) for m in seen.messages] == [bytes([n, 0]) for n in range(3)]
    assert all(m.is_rx is False for m in seen.messages)


class Recorder(CanNode):
    def __init__(self, bus: can.BusABC) -> None:
        super().__init__(bus, BMS_ADDRESS, name="recorder")
        self.frames: list[Frame] = []

    def on_any_frame(self, frame: Frame) -> None:
        self.frames.append(frame)


@pytest.mark.parametrize("interface", ["udp_multicast", "virtual"])
def test_node_ignores_its_own_frames_coming_back(interface: str, closing: list) -> None:
    """Even a frame sent under another source address is not taken for the peer's."""
    if interface == "udp_multicast":
        channel, options = udp_channel()
    else:
        channel, options = f"own-{uuid.uuid4().hex}", {}
    rec = open_recording_bus(interface, channel, 250000, options, lambda msg: None)
    closing.append(rec.bus)
    peer = open_bus(interface, channel, 250000, options)
    closing.append(peer)
    node = Recorder(rec.bus)
    node.start()
    try:
        impostor = Frame(6, CHM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, b"\x09\x09\x09")
        node.send(impostor)  # as if from the DUT's address, but sent by us
        peer.send(dut_frame())
        assert wait_until(lambda: len(node.frames) >= 1)
        time.sleep(0.2)
    finally:
        node.stop()
    assert [f.data for f in node.frames] == [b"\x01\x01\x00"]


def test_driver_echo_turned_off_in_the_profile_gets_the_software_echo(closing: list) -> None:
    """``receive_own_messages = false`` in ``[can]``: the bench still records its frames."""
    seen = Collect()
    rec = open_recording_bus(
        "virtual", f"off-{uuid.uuid4().hex}", 250000, {"receive_own_messages": False},
        seen.on_message_received,
    )  # fmt: skip
    closing.append(rec.bus)
    closing.append(can.Notifier(rec.bus, [seen], timeout=0.05))
    assert rec.echo is EchoMode.SOFTWARE
    rec.bus.send(bench_frame())
    time.sleep(0.2)
    assert len(seen.matching(bench_frame().arbitration_id)) == 1
