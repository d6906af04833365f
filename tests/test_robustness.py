"""Bad input from a DUT never crashes the bench (nor the reference DUT).

Garbage is anything a broken or hostile node can put on a CAN bus: random identifiers
and lengths, error and remote frames, 11-bit frames, GB/T 27930 messages of the wrong
length or with undefined values, and transport (TP.CM/TP.DT) frames that make no sense.
The capture must keep every decodable frame and record the rest with a reason; the
protocol roles must log it, count it, and still run a normal session afterwards.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import can
import pytest

from vgi_bench.can.capture import Capture, Record
from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, GLOBAL_ADDRESS, Frame
from vgi_bench.can.node import CanNode
from vgi_bench.can.transport import (
    TP_CM_PGN,
    TP_DT_PGN,
    encode_abort,
    encode_bam,
    encode_cts,
    encode_eoma,
    encode_rts,
    split_packets,
)
from vgi_bench.cases import CaseFailure, Measurements
from vgi_bench.gbt27930.bms_role import BmsRole, BmsScript, Phase
from vgi_bench.gbt27930.checks import (
    check_decoded,
    check_lengths,
    check_period,
    check_timeout_report,
    expect_message,
    expect_silence,
)
from vgi_bench.gbt27930.messages import Decoded, DecodeError, MessageTable
from vgi_bench.gbt27930.timeouts import timing_2015
from vgi_bench.reference.gbt27930.charger import ReferenceCharger, State

TABLE = MessageTable.gbt27930_2015()
GBT_PGNS = [spec.pgn for spec in TABLE]
UNKNOWN_PGNS = [
    pf << 8
    for pf in range(0x00, 0xF0)
    if pf << 8 not in GBT_PGNS and pf << 8 not in (TP_CM_PGN, TP_DT_PGN)
]


# --------------------------------------------------------------------------- garbage


def rbytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def j1939(pgn: int, src: int, dst: int, data: bytes, prio: int = 6) -> can.Message:
    return Frame(prio, pgn, src, dst, data).to_can()


def tp_garbage(rng: random.Random, src: int, dst: int) -> list[can.Message]:
    """Transport frames that make no sense (or half a sense) from ``src`` to ``dst``."""
    pgn = rng.choice([*GBT_PGNS, *rng.sample(UNKNOWN_PGNS, 3)])
    cm = [
        encode_rts(0, 0, pgn),  # empty transfer
        encode_rts(49, 3, pgn),  # packet count does not match the size
        encode_rts(5000, 255, pgn),  # larger than the transport allows
        encode_rts(49, 7, pgn)[:5],  # truncated
        encode_cts(3, 1, pgn),  # CTS for nothing we sent
        encode_cts(0, 0, pgn),
        encode_eoma(49, 7, pgn),
        encode_abort(rng.randrange(256), pgn),
        encode_bam(20, 3, pgn),  # BAM, addressed (must be global)
        bytes([0x42]) + rbytes(rng, 7),  # unknown control byte
        rbytes(rng, rng.randrange(9)),
        b"",
    ]
    dt = [b"", b"\x01", bytes([rng.randrange(256)]) + rbytes(rng, 7), rbytes(rng, 3)]
    out = [j1939(TP_CM_PGN, src, dst, data, 7) for data in cm]
    out += [j1939(TP_DT_PGN, src, dst, data, 7) for data in dt]
    out.append(j1939(TP_CM_PGN, src, GLOBAL_ADDRESS, encode_bam(9, 2, pgn), 7))
    return out


def raw_garbage(rng: random.Random) -> list[can.Message]:
    """Frames no J1939 node sends: error, remote, 11-bit, any 29-bit id."""
    return [
        can.Message(is_error_frame=True, arbitration_id=rng.getrandbits(29), data=b""),
        can.Message(
            arbitration_id=rng.getrandbits(29),
            is_extended_id=True,
            is_remote_frame=True,
            dlc=rng.randrange(9),
        ),
        can.Message(
            arbitration_id=rng.getrandbits(11),
            is_extended_id=False,
            data=rbytes(rng, rng.randrange(9)),
        ),
        can.Message(
            arbitration_id=rng.getrandbits(29),
            is_extended_id=True,
            data=rbytes(rng, rng.randrange(9)),
        ),
    ]


def malformed(rng: random.Random, name: str, src: int, dst: int) -> can.Message:
    """``name`` with a length outside its table range (single frame: 0..8 bytes)."""
    spec = TABLE[name]
    lengths = [n for n in range(9) if not spec.min_length <= n <= spec.max_length]
    return j1939(spec.pgn, src, dst, rbytes(rng, rng.choice(lengths)))


def garbage_from(rng: random.Random, src: int, dst: int, count: int) -> list[can.Message]:
    """A flood of ``count``-ish frames from ``src``: every kind of garbage, shuffled."""
    out: list[can.Message] = []
    while len(out) < count:
        kind = rng.randrange(6)
        if kind == 0:  # a GB/T message, any length, any content
            out.append(j1939(rng.choice(GBT_PGNS), src, dst, rbytes(rng, rng.randrange(9))))
        elif kind == 1:  # a GB/T message of the wrong length
            out.append(malformed(rng, rng.choice([s.name for s in TABLE]), src, dst))
        elif kind == 2:  # a PGN the standard does not have
            out.append(j1939(rng.choice(UNKNOWN_PGNS), src, dst, rbytes(rng, rng.randrange(9))))
        elif kind == 3:
            out += tp_garbage(rng, src, dst)
        elif kind == 4:
            out += raw_garbage(rng)
        else:  # someone else's traffic
            other = rng.randrange(0x100)
            out.append(j1939(rng.choice(GBT_PGNS), other, rng.randrange(0x100), rbytes(rng, 8)))
    return out


def delivered(msg: can.Message, node_address: int, peer: int) -> Frame | None:
    """The frame a GbtParticipant at ``node_address`` hands to its decoder, if any."""
    frame = Frame.from_can(msg)
    if frame is None or frame.src == node_address or frame.src != peer:
        return None
    if frame.dst not in (node_address, GLOBAL_ADDRESS):
        return None
    if frame.pgn in (TP_CM_PGN, TP_DT_PGN):
        return None
    return frame


def for_idle_node(
    messages: list[can.Message], node_address: int, peer: int, triggers: set[str]
) -> tuple[list[can.Message], int]:
    """Drop frames that would be a *valid* state-changing message; count decode errors.

    Garbage must not be a well-formed message that legitimately moves the state machine
    on (a valid CHM to a waiting BMS is not garbage); the rest must be refused.
    """
    kept, errors = [], 0
    for msg in messages:
        frame = delivered(msg, node_address, peer)
        if frame is not None:
            decoded = TABLE.decode(frame.pgn, frame.data)
            if isinstance(decoded, Decoded) and decoded.name in triggers:
                continue
            errors += isinstance(decoded, DecodeError)
        kept.append(msg)
    return kept, errors


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def channel() -> str:
    return f"test-robust-{uuid.uuid4().hex}"


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    """Stops and shutdowns, run in reverse order at the end of the test."""
    todo: list[Callable[[], None]] = []
    yield todo
    for action in reversed(todo):
        action()


def virtual_bus(channel: str, cleanup: list[Callable[[], None]]) -> can.BusABC:
    bus = can.Bus(interface="virtual", channel=channel)
    cleanup.append(bus.shutdown)
    return bus


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` until true or ``timeout``: a bounded wait, not a measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def transport_idle(node: CanNode) -> bool:
    """No transfer open in ``node`` (asked in the node thread, where its state lives)."""
    answer: list[bool] = []
    done = threading.Event()

    def ask() -> None:
        answer.append(node.tp_receiver.next_deadline() is None and not node._senders)
        done.set()

    node.call_soon(ask)
    return done.wait(2.0) and answer[0]


def alive(node: CanNode) -> bool:
    return node._thread is not None and node._thread.is_alive()


# --------------------------------------------------------------------------- capture


def test_capture_survives_thousands_of_random_frames(tmp_path: Path) -> None:
    rng = random.Random(27930)
    writer = can.ASCWriter(str(tmp_path / "garbage.asc"))
    capture = Capture(TABLE, writer=writer)
    messages = garbage_from(rng, CHARGER_ADDRESS, BMS_ADDRESS, 2500)
    messages += garbage_from(rng, BMS_ADDRESS, CHARGER_ADDRESS, 2500)
    t = 1000.0
    for msg in messages:
        t += rng.choice([0.0, 0.0005, 0.01, 2.0, -0.001])  # ties, bursts, gaps, clock steps
        msg.timestamp = t
        capture.on_message_received(msg)  # never raises
    capture.stop()

    eligible = [m for m in messages if Frame.from_can(m) is not None]
    assert len(eligible) < len(messages)  # error, remote and 11-bit frames were in there
    single = [r for r in capture.records if not r.via_tp]
    assert len(single) == len(eligible), "every 29-bit data frame is kept"
    errors = [r for r in single if isinstance(r.decoded, DecodeError)]
    assert len(errors) > 100
    assert all(isinstance(r.decoded.reason, str) and r.decoded.reason for r in errors)
    assert all(not r.ok and r.values == {} for r in errors)
    assert any("length" in r.decoded.reason for r in errors)
    assert any("unknown PGN" in r.decoded.reason for r in errors)
    assert any(r.ok for r in single), "well-formed frames still decode"
    assert all(r.decoded is None for r in single if r.frame.pgn in (TP_CM_PGN, TP_DT_PGN))
    for rec in capture.records:
        assert rec.describe()  # failure texts can be made from every record
    # queries with predicates that trip over garbage do not raise either
    assert capture.select(where=lambda r: r.values["recognition"] == 0xAA) is not None
    assert capture.wait_for("CRM", timeout=0, where=lambda r: r.values["nope"]) is None
    assert (tmp_path / "garbage.asc").stat().st_size > 0


def test_capture_keeps_wrong_length_ccs_with_reason() -> None:
    capture = Capture(TABLE)
    data = TABLE.encode("CCS", {}, strict=False) + b"\xff"
    assert len(data) == 8
    msg = j1939(TABLE["CCS"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, data)
    msg.timestamp = 5.0
    capture.on_message_received(msg)
    (rec,) = capture.records
    assert rec.name == "CCS"
    assert isinstance(rec.decoded, DecodeError)
    assert not rec.ok
    reason = rec.decoded.reason
    assert "length 8" in reason
    assert "expected 7" in reason
    assert rec.describe().startswith("CCS from 0x56 [8]")
    assert capture.first("CCS", src=CHARGER_ADDRESS) is rec
    assert capture.wait_for("CCS", timeout=0, since=5.0) is rec


def test_capture_keeps_undefined_values_with_reason() -> None:
    capture = Capture(TABLE)
    crm = bytes([0x55, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF])  # recognition is 0x00 or 0xAA only
    capture.on_message_received(j1939(TABLE["CRM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, crm))
    (rec,) = capture.records
    assert isinstance(rec.decoded, DecodeError)
    assert "recognition" in rec.decoded.reason
    assert "0x55" in rec.decoded.reason


class BrokenWriter(can.Listener):
    def on_message_received(self, msg: can.Message) -> None:
        raise OSError("disk full")


def test_capture_survives_failing_raw_writer() -> None:
    capture = Capture(TABLE, writer=BrokenWriter())
    msg = j1939(TABLE["CHM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, b"\x01\x01\x00")
    capture.on_message_received(msg)
    assert len(capture.records) == 1
    assert capture.records[0].ok


def test_capture_reassembles_tp_with_garbage_around() -> None:
    capture = Capture(TABLE)
    rng = random.Random(1)
    brm = TABLE.encode("BRM", {})
    t = 0.0

    def feed(msgs: list[can.Message]) -> None:
        nonlocal t
        for msg in msgs:
            t += 0.002
            msg.timestamp = t
            capture.on_message_received(msg)

    pgn = TABLE["BRM"].pgn
    feed(tp_garbage(rng, BMS_ADDRESS, CHARGER_ADDRESS))
    feed([j1939(TP_CM_PGN, BMS_ADDRESS, CHARGER_ADDRESS, encode_rts(len(brm), 7, pgn), 7)])
    feed([j1939(TP_CM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, encode_cts(7, 1, pgn), 7)])
    feed(raw_garbage(rng))
    feed([j1939(TP_DT_PGN, BMS_ADDRESS, CHARGER_ADDRESS, p, 7) for p in split_packets(brm)])
    transfers = [r for r in capture.records if r.via_tp]
    assert [r.name for r in transfers] == ["BRM"]
    assert transfers[0].ok
    assert transfers[0].frame.data == brm


def test_capture_on_a_notifier_keeps_running(channel: str, cleanup: list) -> None:
    """Through python-can's notifier: a listener that raised would stop its thread."""
    bus = virtual_bus(channel, cleanup)
    garbage_bus = virtual_bus(channel, cleanup)
    capture = Capture(TABLE)
    notifier = can.Notifier(bus, [capture], timeout=0.05)
    cleanup.append(lambda: notifier.stop(timeout=1.0))
    messages = garbage_from(random.Random(7), CHARGER_ADDRESS, BMS_ADDRESS, 1000)
    for msg in messages:
        garbage_bus.send(msg)
    eligible = sum(Frame.from_can(m) is not None for m in messages)
    assert wait_until(lambda: len([r for r in capture.records if not r.via_tp]) >= eligible, 10)
    assert notifier.exception is None
    chm = j1939(TABLE["CHM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, b"\x01\x01\x00")
    garbage_bus.send(chm)
    since = capture.records[-1].timestamp
    rec = capture.wait_for("CHM", timeout=5, since=since, where=lambda r: r.ok)
    assert rec is not None and rec.values["protocol_version"] == 0x000101


# --------------------------------------------------------------------------- protocol roles


def complete_tp(src: int, dst: int, pgn: int, payload: bytes) -> list[can.Message]:
    """A whole RTS + DT transfer (the responder's CTS is not waited for: it comes at once)."""
    rts = encode_rts(len(payload), len(split_packets(payload)), pgn)
    return [j1939(TP_CM_PGN, src, dst, rts, 7)] + [
        j1939(TP_DT_PGN, src, dst, p, 7) for p in split_packets(payload)
    ]


def test_bms_role_survives_garbage_then_completes_session(
    channel: str, cleanup: list[Callable[[], None]]
) -> None:
    rng = random.Random(34658)
    role = BmsRole(virtual_bus(channel, cleanup), BmsScript(charge_for_s=0.5), own_notifier=True)
    role.start()
    cleanup.append(role.stop)
    garbage_bus = virtual_bus(channel, cleanup)

    chm, crm = TABLE["CHM"].pgn, TABLE["CRM"].pgn
    targeted = [
        j1939(chm, CHARGER_ADDRESS, BMS_ADDRESS, b""),
        j1939(chm, CHARGER_ADDRESS, BMS_ADDRESS, b"\x01\x01"),
        j1939(chm, CHARGER_ADDRESS, BMS_ADDRESS, b"\x01\x01\x00\x00"),
        j1939(crm, CHARGER_ADDRESS, BMS_ADDRESS, b"\xaa\x01\x00\x00"),
        j1939(crm, CHARGER_ADDRESS, BMS_ADDRESS, b"\xaa" * 8),  # 0xAA... region not ASCII
        j1939(crm, CHARGER_ADDRESS, BMS_ADDRESS, bytes([0x55, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF])),
        # a CHM sent by transport: 9 bytes where 3 are due
        *complete_tp(CHARGER_ADDRESS, BMS_ADDRESS, chm, bytes(range(9))),
    ]
    flood = garbage_from(rng, CHARGER_ADDRESS, BMS_ADDRESS, 2000)
    messages, expected_errors = for_idle_node(
        targeted + flood, BMS_ADDRESS, CHARGER_ADDRESS, triggers={"CHM"}
    )
    for msg in messages:
        garbage_bus.send(msg)

    assert wait_until(lambda: len(role.decode_errors) >= expected_errors + 1, 10), (
        f"{len(role.decode_errors)} decode errors, expected {expected_errors} + 1"
    )
    assert alive(role)
    assert role.errors == [], role.errors[:5]
    assert role.phase == Phase.WAIT_CHM
    reasons = [e.reason for e in role.decode_errors]
    assert "CHM: length 2, expected 3" in reasons
    assert "CHM: length 9, expected 3" in reasons  # the transported one
    assert any(r.startswith("CRM.recognition") for r in reasons)
    assert any("unknown PGN" in r for r in reasons)
    assert wait_until(lambda: transport_idle(role), 5), "garbage transfers left open"

    # ... and the bench still runs a whole session against a conformant charger
    charger = ReferenceCharger(virtual_bus(channel, cleanup))
    charger.start()
    cleanup.append(charger.stop)
    assert role.wait_phase(Phase.DONE, 20), f"BMS stuck in {role.phase.value}"
    assert Phase.ERROR not in role.phase_times
    assert role.errors == []
    assert charger.errors == []
    assert alive(role)


def test_reference_charger_survives_garbage_then_completes_session(
    channel: str, cleanup: list[Callable[[], None]]
) -> None:
    rng = random.Random(27930_2015)
    charger = ReferenceCharger(virtual_bus(channel, cleanup))
    charger.start()
    cleanup.append(charger.stop)
    garbage_bus = virtual_bus(channel, cleanup)

    bhm, brm, bro = TABLE["BHM"].pgn, TABLE["BRM"].pgn, TABLE["BRO"].pgn
    targeted = [
        j1939(bhm, BMS_ADDRESS, CHARGER_ADDRESS, b""),
        j1939(bhm, BMS_ADDRESS, CHARGER_ADDRESS, b"\x00\x00\x00"),
        j1939(brm, BMS_ADDRESS, CHARGER_ADDRESS, rbytes(rng, 8)),  # BRM in one frame
        j1939(bro, BMS_ADDRESS, CHARGER_ADDRESS, b"\xff"),  # "invalid"
        j1939(bro, BMS_ADDRESS, CHARGER_ADDRESS, b"\xaa\xaa"),
        # a BRM by transport, 20 bytes where 41..49 are due
        *complete_tp(BMS_ADDRESS, CHARGER_ADDRESS, brm, rbytes(rng, 20)),
    ]
    flood = garbage_from(rng, BMS_ADDRESS, CHARGER_ADDRESS, 2000)
    messages, expected_errors = for_idle_node(
        targeted + flood, CHARGER_ADDRESS, BMS_ADDRESS, triggers={"BHM"}
    )
    for msg in messages:
        garbage_bus.send(msg)

    assert wait_until(lambda: len(charger.decode_errors) >= expected_errors + 1, 10), (
        f"{len(charger.decode_errors)} decode errors, expected {expected_errors} + 1"
    )
    assert alive(charger)
    assert charger.errors == [], charger.errors[:5]
    assert charger.state == State.HANDSHAKE
    reasons = [e.reason for e in charger.decode_errors]
    assert "BHM: length 0, expected 2" in reasons
    assert "BRM: length 20, expected 41..49" in reasons
    assert any(r.startswith("BRO.bms_ready") for r in reasons)
    assert wait_until(lambda: transport_idle(charger), 5), "garbage transfers left open"

    role = BmsRole(virtual_bus(channel, cleanup), BmsScript(charge_for_s=0.5), own_notifier=True)
    role.start()
    cleanup.append(role.stop)
    assert role.wait_phase(Phase.DONE, 20), f"BMS stuck in {role.phase.value}"
    assert Phase.ERROR not in role.phase_times
    assert charger.errors == []
    assert role.errors == []
    assert alive(charger)


# --------------------------------------------------------------------------- check messages


def records(name: str, stamps: list[float], data: bytes, src: int = CHARGER_ADDRESS) -> list:
    capture = Capture(TABLE)
    for t in stamps:
        capture.add_frame(Frame(6, TABLE[name].pgn, src, BMS_ADDRESS, data, t))
    return capture.select(name)


def failure(call: Callable[[], object]) -> str:
    with pytest.raises(CaseFailure) as info:
        call()
    text = str(info.value)
    assert text.startswith("expected "), text
    assert "; saw " in text, text
    return text


CHM_DATA = b"\x01\x01\x00"


def test_check_period_messages() -> None:
    tol = timing_2015().tolerance
    m = Measurements()
    ok = records("CHM", [i * 0.25 for i in range(10)], CHM_DATA)
    assert check_period(ok, "CHM", 0.25, tol, m).count == 10
    assert m["CHM.period"]["mean_ms"] == pytest.approx(250.0)

    slow = records("CHM", [i * 0.5 for i in range(10)], CHM_DATA)
    m = Measurements()
    text = failure(lambda: check_period(slow, "CHM", 0.25, tol, m))
    assert text.startswith("expected CHM every 250 ms")
    assert "saw mean 500.0 ms" in text
    assert "CHM.period" in m, "what was measured is kept when the check fails"

    few = records("CHM", [0.0, 0.25], CHM_DATA)
    text = failure(lambda: check_period(few, "CHM", 0.25, tol, Measurements()))
    assert text == "expected at least 5 CHM frames to measure the period; saw 2"
    text = failure(lambda: check_period([], "CHM", 0.25, tol, Measurements()))
    assert text.endswith("; saw 0")


def test_check_lengths_and_decoded_messages() -> None:
    good = TABLE.encode("CCS", {}, strict=False)
    recs = records("CCS", [0.0, 0.05], good) + records("CCS", [0.1], good + b"\xff")
    text = failure(lambda: check_lengths(recs, "CCS", 7))
    assert text.startswith("expected every CCS 7 bytes long; saw CCS from 0x56 [8]")
    assert "(1 such)" in text
    text = failure(lambda: check_decoded(recs, "CCS"))
    assert text.startswith("expected every CCS well-formed; saw CCS: length 8, expected 7")
    check_lengths(recs[:2], "CCS", 7)
    check_decoded(recs[:2], "CCS")


def test_expect_message_and_silence_messages() -> None:
    capture = Capture(TABLE)
    since = capture.now() - 10.0
    for i in range(3):
        capture.add_frame(
            Frame(6, TABLE["CHM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, CHM_DATA, since + i * 0.25)
        )
    text = failure(
        lambda: expect_message(
            capture, "CRM", src=CHARGER_ADDRESS, since=since, within=1.0, what="CRM(0x00)"
        )
    )
    assert text == "expected CRM(0x00) within 1 s; saw none; the DUT sent CHM×3 in that time"
    rec = expect_message(capture, "CHM", src=CHARGER_ADDRESS, since=since, within=1.0, what="CHM")
    assert rec.timestamp == since

    text = failure(
        lambda: expect_silence(
            capture,
            "CHM",
            src=CHARGER_ADDRESS,
            since=since + 0.1,
            until=since + 1.0,
            what="no CHM after BHM",
        )
    )
    assert text == "expected no CHM after BHM; saw CHM from 0x56 [3] 01 01 00 at +0.150 s"
    expect_silence(
        capture, "CRM", src=CHARGER_ADDRESS, since=since, until=since + 1.0, what="no CRM"
    )


def test_check_timeout_report_messages() -> None:
    timing = timing_2015()
    brm = timing["brm"]
    capture = Capture(TABLE)
    start = capture.now() - 30.0
    capture.add_frame(Frame(6, TABLE["CRM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, bytes(8), start))

    def run(cap: Capture) -> Record:
        return check_timeout_report(
            cap, brm, timing.tolerance, Measurements(), src=CHARGER_ADDRESS, earliest_start=start
        )

    text = failure(lambda: run(capture))
    assert text.startswith("expected CEM with brm_timeout (SPN3921) = 01 5 s after")
    assert "; saw no CEM; the DUT sent CRM×1" in text

    def with_cem(at: float, values: dict) -> Capture:
        cap = Capture(TABLE)
        data = TABLE.encode("CEM", values)
        cap.add_frame(Frame(4, TABLE["CEM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, data, at))
        return cap

    text = failure(lambda: run(with_cem(start + 5.0, {"bcp_timeout": 1})))
    assert "; saw CEM " in text and "brm_timeout = 0" in text
    text = failure(lambda: run(with_cem(start + 1.0, {"brm_timeout": 1})))
    assert "; saw CEM after only 1.000 s (too early): 1000 ms ± " in text
    assert text.endswith("against 4900...5500 ms: fail")
    assert run(with_cem(start + 5.1, {"brm_timeout": 1})).ok
