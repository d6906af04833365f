"""The CAN node runtime (vgi_bench/can/node.py) on python-can's ``virtual`` interface."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import can
import pytest

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.node import CanNode
from vgi_bench.can.transport import TP_DT_PGN, TpAborted, TpCompleted

CHM_PGN = 0x2600
BRM_PGN = 0x0200
PAYLOAD_49 = bytes(range(1, 50))


BusFactory = Callable[[], can.BusABC]


@pytest.fixture
def new_bus() -> Iterator[BusFactory]:
    """Buses on one virtual channel of this test's own; all shut down afterwards."""
    channel = f"test-node-{uuid.uuid4().hex}"
    buses: list[can.BusABC] = []

    def factory() -> can.BusABC:
        bus = can.Bus(interface="virtual", channel=channel)
        buses.append(bus)
        return bus

    yield factory
    for bus in buses:
        bus.shutdown()


@pytest.fixture
def nodes() -> Iterator[list[CanNode]]:
    """Nodes to stop at the end of the test (stop is idempotent)."""
    started: list[CanNode] = []
    yield started
    for node in started:
        node.stop()


def frame(src: int = CHARGER_ADDRESS, dst: int = BMS_ADDRESS, data: bytes = b"\x01") -> Frame:
    return Frame(6, CHM_PGN, src, dst, data)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``condition`` until true or ``timeout``: a bounded wait, not a measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def collect(bus: can.BusABC, seconds: float) -> list[can.Message]:
    """Every frame ``bus`` receives in the next ``seconds``."""
    out = []
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        msg = bus.recv(remaining)
        if msg is not None:
            out.append(msg)
    return out


def drain(bus: can.BusABC) -> None:
    while bus.recv(0) is not None:
        pass


# --------------------------------------------------------------------------- timers


def test_call_later_fires_in_due_order(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    node = CanNode(new_bus(), BMS_ADDRESS, name="timers")
    node.start()
    nodes.append(node)
    fired: list[str] = []
    threads: set[str] = set()
    done = threading.Event()

    def mark(label: str) -> Callable[[], None]:
        def cb() -> None:
            fired.append(label)
            threads.add(threading.current_thread().name)
            if label == "last":
                done.set()

        return cb

    def schedule() -> None:  # timers are set from the node thread, as roles do
        node.call_later(0.30, mark("last"))
        node.call_later(0.05, mark("first"))
        node.call_later(0.15, mark("third"))
        node.call_later(0.10, mark("second"))
        node.call_later(0.20, mark("cancelled")).cancel()
        node.call_later(0.0, mark("now"))

    node.call_soon(schedule)
    assert done.wait(5.0), f"timers did not fire: {fired}"
    assert fired == ["now", "first", "second", "third", "last"]
    assert threads == {"timers-node"}


def test_call_later_same_due_keeps_insertion_order(
    new_bus: BusFactory, nodes: list[CanNode]
) -> None:
    node = CanNode(new_bus(), BMS_ADDRESS, name="same-due")
    node.start()
    nodes.append(node)
    fired: list[int] = []
    done = threading.Event()

    def schedule() -> None:
        t0 = time.time()
        node.now = lambda: t0  # type: ignore[method-assign]  # one instant: equal due times
        try:
            for n in range(5):
                node.call_later(0.01, lambda n=n: fired.append(n))
            node.call_later(0.01, done.set)
        finally:
            del node.now

    node.call_soon(schedule)
    assert done.wait(5.0)
    assert fired == [0, 1, 2, 3, 4]


def test_call_soon_runs_in_node_thread(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    node = CanNode(new_bus(), BMS_ADDRESS, name="soon")
    node.start()
    nodes.append(node)
    seen: list[str] = []
    done = threading.Event()
    node.call_soon(lambda: (seen.append(threading.current_thread().name), done.set()))
    assert done.wait(5.0)
    assert seen == ["soon-node"]


# --------------------------------------------------------------------------- periodic frames


def test_start_and_stop_periodic(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    node = CanNode(new_bus(), CHARGER_ADDRESS, name="periodic")
    observer = new_bus()
    node.start()
    nodes.append(node)

    node.start_periodic("CHM", frame(data=b"\x01\x01\x00"), 0.05)
    assert node.is_sending("CHM")
    seen = collect(observer, 0.5)
    chm = [m for m in seen if m.arbitration_id == frame().arbitration_id]
    assert 6 <= len(chm) <= 14, f"{len(chm)} frames in 0.5 s at 50 ms"
    assert all(bytes(m.data) == b"\x01\x01\x00" for m in chm)
    assert all(m.is_extended_id for m in chm)

    # new data at the next period, same cycle
    node.start_periodic("CHM", frame(data=b"\x02\x02\x00"), 0.05)
    assert wait_until(lambda: any(bytes(m.data) == b"\x02\x02\x00" for m in collect(observer, 0.1)))

    node.stop_periodic("CHM")
    assert not node.is_sending("CHM")
    collect(observer, 0.1)  # a frame already on its way may still arrive
    drain(observer)
    assert collect(observer, 0.3) == [], "frames after stop_periodic"
    node.stop_periodic("CHM")  # stopping what is not running is harmless
    node.stop_periodic("never-started")


def test_stop_all_sending_on_stop(new_bus: BusFactory) -> None:
    node = CanNode(new_bus(), CHARGER_ADDRESS, name="stop-all")
    observer = new_bus()
    node.start()
    node.start_periodic("A", frame(data=b"\xaa"), 0.02)
    node.start_periodic("B", frame(data=b"\xbb"), 0.02)
    assert wait_until(lambda: len(collect(observer, 0.1)) > 0)
    node.stop()
    assert not node.is_sending("A")
    assert not node.is_sending("B")
    collect(observer, 0.1)
    drain(observer)
    assert collect(observer, 0.2) == []
    node.stop()  # idempotent


# --------------------------------------------------------------------------- transport


class Peer(CanNode):
    """A responder that records what it received."""

    def __init__(self, bus: can.BusABC, address: int, **kw: object) -> None:
        super().__init__(bus, address, name="peer", **kw)  # type: ignore[arg-type]
        self.transfers: list[TpCompleted | TpAborted] = []
        self.frames: list[Frame] = []

    def on_transfer(self, event: TpCompleted | TpAborted) -> None:
        self.transfers.append(event)

    def on_frame(self, frame: Frame) -> None:
        self.frames.append(frame)


class Originator(CanNode):
    def __init__(self, bus: can.BusABC, address: int, **kw: object) -> None:
        super().__init__(bus, address, name="originator", **kw)  # type: ignore[arg-type]
        self.sent: list[TpCompleted | TpAborted] = []

    def on_sent_transfer(self, result: TpCompleted | TpAborted) -> None:
        self.sent.append(result)


def test_periodic_transfer_repeats(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    peer = Peer(new_bus(), CHARGER_ADDRESS)
    sender = Originator(new_bus(), BMS_ADDRESS, dt_gap=0.002)
    peer.start()
    sender.start()
    nodes += [peer, sender]

    sender.call_soon(
        lambda: sender.start_periodic_transfer("BRM", BRM_PGN, PAYLOAD_49, CHARGER_ADDRESS, 0.25)
    )
    assert wait_until(lambda: len(peer.transfers) >= 3, timeout=5.0), peer.transfers
    assert sender.is_sending("BRM")
    completed = [e for e in peer.transfers if isinstance(e, TpCompleted)]
    assert len(completed) == len(peer.transfers), peer.transfers
    assert all(e.payload == PAYLOAD_49 for e in completed)
    assert all(e.pgn == BRM_PGN and e.src == BMS_ADDRESS for e in completed)
    starts = [e.started for e in completed]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(0.15 < g < 0.5 for g in gaps), gaps  # repeated, not back to back
    assert wait_until(lambda: len(sender.sent) >= 3)
    assert all(isinstance(r, TpCompleted) for r in sender.sent)

    # new content at the next repetition
    sender.call_soon(lambda: sender.update_periodic_transfer("BRM", bytes(49)))
    assert wait_until(lambda: peer.transfers[-1].payload == bytes(49))  # type: ignore[union-attr]

    sender.call_soon(lambda: sender.stop_periodic("BRM"))
    assert wait_until(lambda: not sender.is_sending("BRM"))
    count = len(peer.transfers)
    time.sleep(0.6)  # more than two periods: no further transfer may start
    assert len(peer.transfers) <= count + 1  # at most the one in flight
    assert sender.errors == []
    assert peer.errors == []

    sender.stop()
    sender.stop()  # idempotent
    peer.stop()
    peer.stop()
    assert sender._thread is not None and not sender._thread.is_alive()


def test_stop_periodic_aborts_transfer_under_way(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    peer = Peer(new_bus(), CHARGER_ADDRESS)
    sender = Originator(new_bus(), BMS_ADDRESS, dt_gap=0.05)  # 7 packets: ~0.35 s
    observer = new_bus()
    peer.start()
    sender.start()
    nodes += [peer, sender]

    sender.call_soon(
        lambda: sender.start_periodic_transfer("BRM", BRM_PGN, PAYLOAD_49, CHARGER_ADDRESS, 5.0)
    )
    dt = Frame(7, TP_DT_PGN, BMS_ADDRESS, CHARGER_ADDRESS, b"").arbitration_id
    first_dt = None
    deadline = time.monotonic() + 5.0
    while first_dt is None and time.monotonic() < deadline:
        msg = observer.recv(0.1)
        if msg is not None and msg.arbitration_id == dt:
            first_dt = msg
    assert first_dt is not None, "the transfer did not start"

    sender.call_soon(lambda: sender.stop_periodic("BRM"))
    assert wait_until(lambda: len(sender.sent) == 1)
    (result,) = sender.sent
    assert isinstance(result, TpAborted)
    assert result.by == "local"
    assert wait_until(lambda: len(peer.transfers) == 1)
    (seen,) = peer.transfers
    assert isinstance(seen, TpAborted), seen
    assert seen.by == "peer"
    # the slot to that peer is free again at once
    again: list[bool] = []
    sender.call_soon(
        lambda: again.append(sender.send_transfer(BRM_PGN, PAYLOAD_49, CHARGER_ADDRESS))
    )
    assert wait_until(lambda: again == [True])


def test_send_transfer_one_at_a_time_per_destination(
    new_bus: BusFactory, nodes: list[CanNode]
) -> None:
    peer = Peer(new_bus(), CHARGER_ADDRESS)
    sender = Originator(new_bus(), BMS_ADDRESS)
    peer.start()
    sender.start()
    nodes += [peer, sender]
    results: list[bool] = []
    done = threading.Event()

    def twice() -> None:
        results.append(sender.send_transfer(BRM_PGN, PAYLOAD_49, CHARGER_ADDRESS))
        results.append(sender.send_transfer(BRM_PGN, PAYLOAD_49, CHARGER_ADDRESS))
        done.set()

    sender.call_soon(twice)
    assert done.wait(5.0)
    assert results == [True, False]
    assert wait_until(lambda: len(peer.transfers) == 1)
    assert wait_until(lambda: len(sender.sent) == 1)
    again: list[bool] = []
    sender.call_soon(
        lambda: again.append(sender.send_transfer(BRM_PGN, PAYLOAD_49, CHARGER_ADDRESS))
    )
    assert wait_until(lambda: again == [True])


def test_frames_for_others_are_not_delivered(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    peer = Peer(new_bus(), BMS_ADDRESS)
    other = new_bus()
    peer.start()
    nodes.append(peer)
    other.send(frame(dst=0x12, data=b"\x01").to_can())  # someone else's
    other.send(frame(src=BMS_ADDRESS, data=b"\x02").to_can())  # claims to be us
    other.send(can.Message(arbitration_id=0x123, is_extended_id=False, data=b"\x03"))
    other.send(frame(data=b"\x04").to_can())
    assert wait_until(lambda: len(peer.frames) >= 1)
    assert [f.data for f in peer.frames] == [b"\x04"]


# --------------------------------------------------------------------------- errors


class Fragile(CanNode):
    """Raises on the first frame and in one timer; records everything else."""

    def __init__(self, bus: can.BusABC) -> None:
        super().__init__(bus, BMS_ADDRESS, name="fragile")
        self.frames: list[bytes] = []

    def on_frame(self, frame: Frame) -> None:
        if frame.data == b"\xde\xad":
            raise RuntimeError("boom in on_frame")
        self.frames.append(frame.data)


def test_callback_exception_is_logged_and_recorded(
    new_bus: BusFactory, nodes: list[CanNode], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="vgi_bench.can.node")
    node = Fragile(new_bus())
    other = new_bus()
    node.start()
    nodes.append(node)

    other.send(frame(data=b"\xde\xad").to_can())
    other.send(frame(data=b"\x01").to_can())
    assert wait_until(lambda: node.frames == [b"\x01"]), node.frames
    assert node.errors == ["RuntimeError: boom in on_frame"]

    def bad_timer() -> None:
        raise ValueError("boom in timer")

    fired = threading.Event()
    node.call_soon(lambda: node.call_later(0.01, bad_timer))
    node.call_soon(lambda: node.call_later(0.05, fired.set))
    assert fired.wait(5.0), "a later timer must still fire after one raised"
    assert node.errors == ["RuntimeError: boom in on_frame", "ValueError: boom in timer"]

    other.send(frame(data=b"\x02").to_can())
    assert wait_until(lambda: node.frames == [b"\x01", b"\x02"])
    assert node._thread is not None and node._thread.is_alive()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("fragile: error in node thread" in m for m in messages) == 2
    assert any(r.exc_info for r in caplog.records), "the traceback is logged"


def test_send_failure_is_recorded_not_raised(new_bus: BusFactory, nodes: list[CanNode]) -> None:
    bus = new_bus()
    node = CanNode(bus, BMS_ADDRESS, name="sendfail")

    def failing_send(msg: can.Message, timeout: float | None = None) -> None:
        raise can.CanOperationError("bus off")

    bus.send = failing_send  # type: ignore[method-assign]
    node.send(frame())
    assert node.errors == ["send failed: bus off"]
