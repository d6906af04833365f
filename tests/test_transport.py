"""J1939-21 transport (vgi_bench/can/transport.py): sender and receiver back-to-back on a
fake clock."""

from __future__ import annotations

import random
from collections import deque

import pytest

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, GLOBAL_ADDRESS, Frame
from vgi_bench.can.transport import (
    NO_ABORT_FRAME,
    TP_CM_PGN,
    TP_DT_PGN,
    AbortReason,
    Control,
    TpAborted,
    TpCm,
    TpCompleted,
    TpMonitor,
    TpReceiver,
    TpSender,
    TpTimers,
    encode_abort,
    encode_bam,
    encode_cts,
    encode_eoma,
    encode_rts,
    parse_cm,
    split_packets,
)

BMS, CHG = BMS_ADDRESS, CHARGER_ADDRESS
BRM, BCP, BCS = 0x0200, 0x0600, 0x1100
BRM_PAYLOAD = bytes(range(1, 50))  # 49 bytes, the real BRM size (reference §1)
T = TpTimers()


def h(text: str) -> bytes:
    return bytes.fromhex(text)


class Harness:
    """Sender, receiver and monitor on a loss-free bus with a fake clock."""

    def __init__(self, sender: TpSender | None, receiver: TpReceiver | None) -> None:
        self.sender = sender
        self.receiver = receiver
        self.now = 0.0
        self.trace: list[Frame] = []
        self.rx_events: list[TpCompleted | TpAborted] = []
        self.monitor = TpMonitor()
        self.mon_events: list[TpCompleted | TpAborted] = []
        self._queue: deque[Frame] = deque()

    def put(self, frames: list[Frame]) -> None:
        for frame in frames:
            assert frame.timestamp == self.now
            self.trace.append(frame)
            self._queue.append(frame)
            self.mon_events += self.monitor.on_frame(frame)

    def _rx(self, result: tuple[list[Frame], list[TpCompleted | TpAborted]]) -> None:
        frames, events = result
        self.rx_events += events
        self.put(frames)

    def pump(self) -> None:
        while self._queue:
            frame = self._queue.popleft()
            if self.receiver is not None:
                self._rx(self.receiver.on_frame(frame, self.now))
            if self.sender is not None:
                self.put(self.sender.on_frame(frame, self.now))

    def start(self) -> Harness:
        assert self.sender is not None
        self.put(self.sender.start(self.now))
        self.pump()
        return self

    def run(self, until: float = 30.0) -> Harness:
        for _ in range(100_000):
            deadlines = [
                d
                for d in (
                    self.sender.next_deadline() if self.sender else None,
                    self.receiver.next_deadline() if self.receiver else None,
                )
                if d is not None
            ]
            if not deadlines or min(deadlines) > until:
                self.now = max(self.now, until) if deadlines else self.now
                return self
            self.now = max(self.now, min(deadlines))
            if self.sender is not None:
                self.put(self.sender.poll(self.now))
                self.pump()
            if self.receiver is not None:
                self._rx(self.receiver.poll(self.now))
                self.pump()
        raise AssertionError("harness did not settle")

    def cm(self, control: Control) -> list[Frame]:
        return [f for f in self.trace if f.pgn == TP_CM_PGN and f.data[0] == control]

    def dts(self) -> list[Frame]:
        return [f for f in self.trace if f.pgn == TP_DT_PGN]


def transfer(payload: bytes = BRM_PAYLOAD, pgn: int = BRM, **kwargs) -> Harness:
    rx_kwargs = {k[3:]: kwargs.pop(k) for k in list(kwargs) if k.startswith("rx_")}
    sender = TpSender(pgn, payload, BMS, CHG, **kwargs)
    return Harness(sender, TpReceiver(CHG, **rx_kwargs)).start().run()


def assert_completed(hs: Harness, payload: bytes, pgn: int = BRM) -> None:
    assert hs.sender is not None
    assert hs.sender.state == "done" and hs.sender.done
    result = hs.sender.result
    assert isinstance(result, TpCompleted) and result.payload == payload
    assert [(type(e), e.pgn, e.src, e.dst, e.payload) for e in hs.rx_events] == [
        (TpCompleted, pgn, BMS, CHG, payload)
    ]
    assert [(type(e), e.payload) for e in hs.mon_events] == [(TpCompleted, payload)]
    assert hs.receiver is not None and hs.receiver.next_deadline() is None


# --------------------------------------------------------------------------- codec


def test_codec_round_trip_and_layouts():
    assert encode_rts(49, 7, BRM) == h("10 31 00 07 FF 00 02 00")
    assert encode_cts(7, 1, BRM) == h("11 07 01 FF FF 00 02 00")
    assert encode_eoma(49, 7, BRM) == h("13 31 00 07 FF 00 02 00")
    assert encode_abort(AbortReason.TIMEOUT, BRM) == h("FF 03 FF FF FF 00 02 00")
    assert encode_bam(13, 2, BCP) == h("20 0D 00 02 FF 00 06 00")
    assert parse_cm(h("10 31 00 07 FF 00 02 00")) == TpCm(
        Control.RTS, BRM, total_size=49, packets=7, max_packets=0xFF
    )
    assert parse_cm(h("11 02 03 FF FF 00 06 00")) == TpCm(Control.CTS, BCP, packets=2, next_seq=3)
    assert parse_cm(h("FF 05 FF FF FF 00 11 00")) == TpCm(Control.ABORT, BCS, reason=5)
    assert parse_cm(h("13 0D 00 02 FF 00 06 00")).total_size == 13
    for garbage in (b"", h("10 31 00"), h("12 00 00 00 00 00 00 00"), h("00" * 8), None, 5):
        assert parse_cm(garbage) is None
    assert split_packets(bytes(range(13))) == [
        h("01 00 01 02 03 04 05 06"),
        h("02 07 08 09 0A 0B 0C FF"),
    ]


def test_sender_rejects_bad_payloads():
    for size in (0, 8, 1786):
        with pytest.raises(ValueError):
            TpSender(BRM, bytes(size), BMS, CHG)
    with pytest.raises(ValueError):
        TpSender(BRM, bytes(9), BMS, GLOBAL_ADDRESS)
    TpSender(BRM, bytes(9), BMS, CHG)
    sender = TpSender(BRM, bytes(1785), BMS, CHG)
    sender.start(0.0)
    with pytest.raises(RuntimeError):
        sender.start(0.0)


# --------------------------------------------------------------------------- happy paths


def test_brm_reproduces_reference_trace():
    hs = transfer(dt_gap=0.010)
    expected = [
        (0x1CEC56F4, h("10 31 00 07 FF 00 02 00")),
        (0x1CECF456, h("11 07 01 FF FF 00 02 00")),
        *[(0x1CEB56F4, bytes([i + 1]) + BRM_PAYLOAD[i * 7 : i * 7 + 7]) for i in range(7)],
        (0x1CECF456, h("13 31 00 07 FF 00 02 00")),
    ]
    assert [(f.arbitration_id, f.data) for f in hs.trace] == expected
    assert all(f.priority == 7 for f in hs.trace)
    assert [round(f.timestamp, 6) for f in hs.dts()] == [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]
    assert_completed(hs, BRM_PAYLOAD)
    result = hs.sender.result
    assert (result.started, round(result.finished, 6)) == (0.0, 0.06)


def test_bcp_last_packet_padded():
    payload = bytes(range(0x40, 0x40 + 13))
    hs = transfer(payload, BCP)
    assert [f.data for f in hs.trace] == [
        h("10 0D 00 02 FF 00 06 00"),
        h("11 02 01 FF FF 00 06 00"),
        h("01 40 41 42 43 44 45 46"),
        h("02 47 48 49 4A 4B 4C FF"),
        h("13 0D 00 02 FF 00 06 00"),
    ]
    assert_completed(hs, payload, BCP)


def test_max_size_transfer():
    payload = bytes(random.Random(1).randrange(256) for _ in range(1785))
    hs = transfer(payload)
    assert len(hs.dts()) == 255
    assert_completed(hs, payload)


def test_receiver_window_of_two():
    hs = transfer(rx_max_packets_per_cts=2, dt_gap=0.01)
    assert [f.data[1:3] for f in hs.cm(Control.CTS)] == [
        bytes([2, 1]),
        bytes([2, 3]),
        bytes([2, 5]),
        bytes([1, 7]),
    ]
    assert [f.data[0] for f in hs.dts()] == [1, 2, 3, 4, 5, 6, 7]
    assert_completed(hs, BRM_PAYLOAD)


def test_sender_rts_maximum_limits_the_window():
    hs = transfer(max_packets_per_cts=3)
    assert hs.trace[0].data == h("10 31 00 07 03 00 02 00")
    assert [f.data[1:3] for f in hs.cm(Control.CTS)] == [
        bytes([3, 1]),
        bytes([3, 4]),
        bytes([1, 7]),
    ]
    assert_completed(hs, BRM_PAYLOAD)


def test_cts_zero_hold_from_rts_then_continue():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    receiver = TpReceiver(CHG)
    receiver.hold(BMS)
    hs = Harness(sender, receiver).start().run(until=2.2)
    # CTS(0) repeated every Th: longer than T4 in total, but each one restarts T4.
    holds = hs.cm(Control.CTS)
    assert [f.timestamp for f in holds] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert all(f.data == h("11 00 01 FF FF 00 02 00") for f in holds)
    assert sender.state == "wait_cts" and not hs.dts()
    hs.put(receiver.release(BMS, hs.now))
    hs.pump()
    hs.run()
    assert hs.cm(Control.CTS)[-1].data == h("11 07 01 FF FF 00 02 00")
    assert_completed(hs, BRM_PAYLOAD)


def test_cts_zero_hold_between_windows():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG, dt_gap=0.01)
    receiver = TpReceiver(CHG, max_packets_per_cts=3)
    hs = Harness(sender, receiver).start().run(until=0.005)
    receiver.hold(BMS)  # takes effect at the end of the current window
    hs.run(until=1.3)
    assert [f.data[1:3] for f in hs.cm(Control.CTS)] == [
        bytes([3, 1]),
        bytes([0, 4]),
        bytes([0, 4]),
        bytes([0, 4]),
    ]
    assert [f.data[0] for f in hs.dts()] == [1, 2, 3]
    hs.put(receiver.release(BMS, hs.now))
    hs.pump()
    hs.run()
    assert [f.data[0] for f in hs.dts()] == [1, 2, 3, 4, 5, 6, 7]
    assert_completed(hs, BRM_PAYLOAD)


def test_two_originators_at_once():
    other = 0x80
    rx = TpReceiver(CHG)
    a = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    b = TpSender(BCS, bytes(range(9)), other, CHG)
    frames_a = a.start(0.0)
    frames_b = b.start(0.0)
    events = []
    pending = deque(frames_a + frames_b)
    while pending:
        frame = pending.popleft()
        out, ev = rx.on_frame(frame, 0.0)
        events += ev
        for f in out:
            pending.extend(a.on_frame(f, 0.0) + b.on_frame(f, 0.0))
    assert a.state == b.state == "done"
    assert sorted((e.src, e.pgn, e.payload) for e in events) == [
        (other, BCS, bytes(range(9))),
        (BMS, BRM, BRM_PAYLOAD),
    ]


# --------------------------------------------------------------------------- timers


def test_receiver_t1_timeout_when_sender_stops_mid_transfer():
    hs = transfer(dt_gap=0.01, stop_after_packets=3)
    assert [f.data[0] for f in hs.dts()] == [1, 2, 3]
    abort = hs.trace[-1]
    assert (abort.src, abort.dst, abort.data) == (CHG, BMS, h("FF 03 FF FF FF 00 02 00"))
    assert abort.timestamp == pytest.approx(0.02 + T.t1)
    (event,) = hs.rx_events
    assert isinstance(event, TpAborted)
    assert (event.reason, event.by, event.src, event.dst) == (
        AbortReason.TIMEOUT,
        "local",
        BMS,
        CHG,
    )
    assert "T1" in event.detail
    assert isinstance(hs.sender.result, TpAborted) and hs.sender.result.by == "peer"
    assert hs.sender.state == "aborted" and hs.sender.done
    (mon,) = hs.mon_events
    assert (mon.by, mon.reason) == ("responder", AbortReason.TIMEOUT)


def test_receiver_t2_timeout_when_no_dt_after_cts():
    hs = transfer(stop_after_packets=0)
    assert not hs.dts()
    assert hs.trace[-1].data == h("FF 03 FF FF FF 00 02 00")
    assert hs.trace[-1].timestamp == pytest.approx(T.t2)
    assert "T2" in hs.rx_events[0].detail


def test_sender_t3_timeout_without_cts():
    hs = Harness(TpSender(BRM, BRM_PAYLOAD, BMS, CHG), None).start().run()
    assert [f.data for f in hs.trace] == [
        h("10 31 00 07 FF 00 02 00"),
        h("FF 03 FF FF FF 00 02 00"),
    ]
    assert hs.trace[-1].timestamp == pytest.approx(T.t3)
    assert (hs.trace[-1].src, hs.trace[-1].dst) == (BMS, CHG)
    result = hs.sender.result
    assert isinstance(result, TpAborted)
    assert (result.reason, result.by, result.at) == (AbortReason.TIMEOUT, "local", T.t3)
    assert hs.sender.next_deadline() is None and hs.sender.poll(99.0) == []


def cts_frame(allowed: int, next_seq: int, pgn: int = BRM, now: float = 0.0) -> Frame:
    return Frame(7, TP_CM_PGN, CHG, BMS, encode_cts(allowed, next_seq, pgn), now)


def test_sender_t3_timeout_waiting_for_eoma():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    sender.start(0.0)
    dts = sender.on_frame(cts_frame(7, 1), 0.1)
    assert len(dts) == 7 and sender.state == "wait_eoma"
    assert sender.next_deadline() == pytest.approx(0.1 + T.t3)
    assert sender.poll(1.3) == []
    (abort,) = sender.poll(0.1 + T.t3)
    assert abort.data == h("FF 03 FF FF FF 00 02 00")
    assert "EndOfMsgAck" in sender.result.detail


def test_sender_t4_timeout_after_single_cts_zero():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    sender.start(0.0)
    assert sender.on_frame(cts_frame(0, 1), 0.1) == []
    assert sender.next_deadline() == pytest.approx(0.1 + T.t4)
    assert sender.poll(1.1) == []
    (abort,) = sender.poll(0.1 + T.t4)
    assert abort.data == h("FF 03 FF FF FF 00 02 00") and abort.timestamp == 0.1 + T.t4
    assert sender.result.by == "local" and "T4" in sender.result.detail


# --------------------------------------------------------------------------- aborts


def test_peer_abort_from_receiver():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG, dt_gap=0.01)
    receiver = TpReceiver(CHG)
    hs = Harness(sender, receiver).start().run(until=0.025)
    frames, events = receiver.abort(BMS, hs.now)
    assert frames[0].data == h("FF 02 FF FF FF 00 02 00")
    assert events[0].by == "local"
    hs.put(frames)
    hs.pump()
    hs.run()
    assert sender.state == "aborted"
    assert (sender.result.by, sender.result.reason) == ("peer", AbortReason.RESOURCES)
    assert len(hs.dts()) == 3
    assert hs.mon_events[-1].by == "responder"


def test_peer_abort_from_sender():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG, dt_gap=0.01)
    receiver = TpReceiver(CHG)
    hs = Harness(sender, receiver).start().run(until=0.015)
    hs.put(sender.abort(hs.now, AbortReason.RESOURCES, "test"))
    hs.pump()
    hs.run()
    (event,) = hs.rx_events
    assert (event.by, event.reason, event.src) == ("peer", AbortReason.RESOURCES, BMS)
    assert receiver.next_deadline() is None and receiver.sessions == {}
    assert hs.mon_events[-1].by == "originator"


def test_accept_callback_refuses_with_resources():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    receiver = TpReceiver(CHG, accept=lambda pgn, size: pgn != BRM)
    hs = Harness(sender, receiver).start().run()
    assert [f.data for f in hs.trace] == [
        h("10 31 00 07 FF 00 02 00"),
        h("FF 02 FF FF FF 00 02 00"),
    ]
    assert sender.result.by == "peer" and sender.result.reason == AbortReason.RESOURCES
    assert hs.rx_events[0].by == "local"


def rts_frame(pgn: int, size: int, src: int = BMS, now: float = 0.0) -> Frame:
    packets = -(-size // 7)
    return Frame(7, TP_CM_PGN, src, CHG, encode_rts(size, packets, pgn), now)


def dt_frame(seq: int, fill: int = 0xAA, src: int = BMS, now: float = 0.0) -> Frame:
    return Frame(7, TP_DT_PGN, src, CHG, bytes([seq]) + bytes([fill]) * 7, now)


def test_second_rts_other_pgn_gets_already_in_session():
    rx = TpReceiver(CHG)
    (cts,), _ = rx.on_frame(rts_frame(BRM, 49), 0.0)
    assert cts.data == h("11 07 01 FF FF 00 02 00")
    (abort,), (event,) = rx.on_frame(rts_frame(BCS, 9), 0.01)
    assert abort.data == h("FF 01 FF FF FF 00 11 00") and abort.dst == BMS
    assert (event.pgn, event.reason, event.by) == (BCS, AbortReason.ALREADY_IN_SESSION, "local")
    assert rx.sessions == {BMS: (BRM, 0)}  # the first session goes on
    for seq in range(1, 8):
        frames, events = rx.on_frame(dt_frame(seq), 0.02)
    assert frames[0].data == h("13 31 00 07 FF 00 02 00")
    assert events[0].payload == b"\xaa" * 49


def test_second_rts_same_pgn_restarts_session():
    rx = TpReceiver(CHG)
    rx.on_frame(rts_frame(BRM, 49), 0.0)
    rx.on_frame(dt_frame(1, 0x11), 0.01)
    (cts,), (event,) = rx.on_frame(rts_frame(BRM, 49), 0.25)
    assert cts.data == h("11 07 01 FF FF 00 02 00")
    assert (event.reason, event.by) == (NO_ABORT_FRAME, "peer")
    assert "restarted" in event.detail
    for seq in range(1, 8):
        _, events = rx.on_frame(dt_frame(seq, 0x22), 0.3)
    assert events[0].payload == b"\x22" * 49 and events[0].started == 0.25


@pytest.mark.parametrize("sequence", [[1, 3], [1, 1], [2], [1, 2, 0]])
def test_out_of_sequence_dt_aborts_with_max_retransmit(sequence):
    rx = TpReceiver(CHG)
    rx.on_frame(rts_frame(BRM, 49), 0.0)
    for seq in sequence[:-1]:
        assert rx.on_frame(dt_frame(seq), 0.01) == ([], [])
    (abort,), (event,) = rx.on_frame(dt_frame(sequence[-1]), 0.02)
    assert abort.data == h("FF 05 FF FF FF 00 02 00") and abort.dst == BMS
    assert (event.reason, event.by) == (AbortReason.MAX_RETRANSMIT, "local")
    assert "out of sequence" in event.detail
    assert rx.sessions == {} and rx.next_deadline() is None


def test_dt_while_holding_aborts():
    rx = TpReceiver(CHG)
    rx.hold(BMS)
    (cts,), _ = rx.on_frame(rts_frame(BRM, 49), 0.0)
    assert cts.data[1] == 0
    (abort,), (event,) = rx.on_frame(dt_frame(1), 0.01)
    assert abort.data[1] == AbortReason.MAX_RETRANSMIT and "holding" in event.detail


def test_cts_while_sending_aborts():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG, dt_gap=0.01)
    sender.start(0.0)
    assert len(sender.on_frame(cts_frame(7, 1), 0.0)) == 1
    (abort,) = sender.on_frame(cts_frame(7, 1), 0.005)
    assert abort.data == h("FF 04 FF FF FF 00 02 00")
    assert sender.result.reason == AbortReason.CTS_WHILE_SENDING


def test_sender_honours_retransmit_request_and_ignores_foreign_frames():
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    sender.start(0.0)
    assert len(sender.on_frame(cts_frame(7, 1), 0.0)) == 7
    # wrong PGN, wrong source, wrong destination, invalid sequence: all ignored
    assert sender.on_frame(cts_frame(2, 3, pgn=BCP), 0.1) == []
    assert sender.on_frame(Frame(7, TP_CM_PGN, 0x01, BMS, encode_cts(2, 3, BRM)), 0.1) == []
    assert sender.on_frame(Frame(7, TP_CM_PGN, CHG, 0x01, encode_cts(2, 3, BRM)), 0.1) == []
    assert sender.on_frame(cts_frame(2, 8), 0.1) == []
    assert sender.state == "wait_eoma"
    again = sender.on_frame(cts_frame(9, 6), 0.2)  # clipped to the two packets left
    assert [f.data[0] for f in again] == [6, 7]
    sender.on_frame(Frame(7, TP_CM_PGN, CHG, BMS, encode_eoma(49, 7, BRM)), 0.3)
    assert sender.state == "done" and sender.result.finished == 0.3


# --------------------------------------------------------------------------- monitor


def test_monitor_reassembles_from_frame_list():
    hs = transfer(rx_max_packets_per_cts=2, dt_gap=0.01)
    monitor = TpMonitor()
    events = [e for f in hs.trace for e in monitor.on_frame(f)]
    (done,) = events
    assert (done.pgn, done.src, done.dst, done.payload) == (BRM, BMS, CHG, BRM_PAYLOAD)
    assert done.started == 0.0 and done.finished == pytest.approx(0.06)
    assert monitor.flush() == []


def test_monitor_does_not_need_eoma_and_handles_bam():
    monitor = TpMonitor()
    trace = [f for f in transfer(pgn=BRM).trace if f.data[0] != Control.EOMA or f.pgn != TP_CM_PGN]
    assert [type(e) for f in trace for e in monitor.on_frame(f)] == [TpCompleted]
    payload = bytes(range(20))
    bam = [Frame(7, TP_CM_PGN, BMS, GLOBAL_ADDRESS, encode_bam(20, 3, 0xFECA), 1.0)]
    bam += [
        Frame(7, TP_DT_PGN, BMS, GLOBAL_ADDRESS, data, 1.05 + i * 0.05)
        for i, data in enumerate(split_packets(payload))
    ]
    (done,) = [e for f in bam for e in monitor.on_frame(f)]
    assert (done.pgn, done.dst, done.payload) == (0xFECA, GLOBAL_ADDRESS, payload)


def test_monitor_reports_stale_and_flushes_open_transfers():
    monitor = TpMonitor()
    trace = transfer(dt_gap=0.01, stop_after_packets=2, rx_timers=TpTimers(t1=10.0)).trace
    assert [e for f in trace[:-1] for e in monitor.on_frame(f)] == []
    (stale,) = monitor.on_frame(Frame(7, TP_CM_PGN, 0x01, 0x02, b"\x00" * 8, 5.0))
    assert (stale.by, stale.reason, stale.pgn) == ("monitor", AbortReason.TIMEOUT, BRM)
    assert "2/7" in stale.detail
    monitor.on_frame(rts_frame(BCP, 13, now=6.0))
    (open_,) = monitor.flush()
    assert (open_.pgn, open_.by, open_.reason) == (BCP, "monitor", NO_ABORT_FRAME)


def test_monitor_follows_cts_pgn_when_second_rts_is_refused():
    rx = TpReceiver(CHG)
    monitor = TpMonitor()
    frames = [rts_frame(BRM, 49)]
    frames += rx.on_frame(frames[-1], 0.0)[0]
    frames.append(rts_frame(BCS, 9, now=0.01))
    frames += rx.on_frame(frames[-1], 0.01)[0]  # Abort(ALREADY_IN_SESSION) for BCS
    for seq in range(1, 8):
        frames.append(dt_frame(seq, now=0.02))
        frames += rx.on_frame(frames[-1], 0.02)[0]
    events = [e for f in frames for e in monitor.on_frame(f)]
    assert [(type(e), e.pgn, getattr(e, "by", None)) for e in events] == [
        (TpAborted, BCS, "responder"),
        (TpCompleted, BRM, None),
    ]


def random_frame(rng: random.Random, now: float) -> Frame:
    pgn = rng.choice([TP_CM_PGN, TP_DT_PGN, TP_DT_PGN, BRM, 0xFECA])
    src, dst = rng.choice([(BMS, CHG), (CHG, BMS), (BMS, GLOBAL_ADDRESS), (0x01, 0x02)])
    kind = rng.random()
    if pgn == TP_CM_PGN and kind < 0.5:  # plausible TP.CM with random fields
        control = rng.choice(list(Control))
        body = bytes(rng.randrange(256) for _ in range(4))
        pgn_bytes = rng.choice([BRM, BCS, rng.randrange(1 << 24)]).to_bytes(3, "little")
        data = bytes([control]) + body + pgn_bytes
        data = data[: rng.choice([8, 8, 8, rng.randrange(8)])]
    elif pgn == TP_DT_PGN and kind < 0.7:
        data = bytes([rng.randrange(1, 9)]) + bytes(rng.randrange(256) for _ in range(7))
    else:
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(9)))
    return Frame(rng.randrange(8), pgn, src, dst, data, now)


def test_fuzz_garbage_never_raises():
    rng = random.Random(27930)
    monitor = TpMonitor()
    receiver = TpReceiver(CHG)
    sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
    sender.start(0.0)
    now = 0.0
    for _ in range(20_000):
        now += rng.choice([0.0, 0.001, 0.01, 0.3])
        frame = random_frame(rng, now)
        parse_cm(frame.data)
        for event in monitor.on_frame(frame):
            assert isinstance(event, TpCompleted | TpAborted)
        receiver.on_frame(frame, now)
        receiver.poll(now)
        sender.on_frame(frame, now)
        sender.poll(now)
        if sender.done:
            sender = TpSender(BRM, BRM_PAYLOAD, BMS, CHG)
            sender.start(now)
    monitor.flush()
    # a real transfer interleaved with noise between other nodes still reassembles
    monitor = TpMonitor()
    hs = transfer(dt_gap=0.01)
    events = []
    for frame in hs.trace:
        events += monitor.on_frame(frame)
        noise = random_frame(rng, frame.timestamp)
        noise = Frame(noise.priority, noise.pgn, 0x01, 0x02, noise.data, frame.timestamp)
        events += monitor.on_frame(noise)
    assert [e.payload for e in events if isinstance(e, TpCompleted)] == [BRM_PAYLOAD]
