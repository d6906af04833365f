"""Benchmark: the bench's reaction latency and periodic jitter on python-can's virtual bus.

Prints p50/p99/max for
- reaction: frame in -> answer out, measured from bus timestamps on a third listening
  bus: RTS -> CTS (bench as transport responder), CTS -> first DT (bench as
  originator), CRM(0xAA) -> first BCP RTS (the BMS role's phase change);
- periodic jitter: |gap - period| of 10/50/250 ms messages sent together.
Targets (issue 2): reaction p99 < 2 ms, period jitter p99 < 1 ms. Not a test: figures
depend on the machine's load; run it on a quiet machine (``make bench``). The last row
is the floor of the platform itself (a bare Python sleep loop): thread-based periodic
sending cannot be steadier than that. On SocketCAN python-can hands periodic messages to
the kernel's broadcast manager instead, which this benchmark cannot reach.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import uuid

import can

from vgi_bench.can.j1939 import BMS_ADDRESS, CHARGER_ADDRESS, Frame
from vgi_bench.can.node import REALTIME_SWITCH_INTERVAL_S, CanNode
from vgi_bench.can.transport import TP_CM_PGN, TP_DT_PGN, encode_rts
from vgi_bench.gbt27930.bms_role import BmsRole, BmsScript, Phase
from vgi_bench.gbt27930.messages import MessageTable
from vgi_bench.timing import percentiles


def _bus(channel: str) -> can.BusABC:
    return can.Bus(interface="virtual", channel=channel)


def _row(name: str, samples_ms: list[float], target_ms: float) -> None:
    p = percentiles(samples_ms)
    verdict = "ok" if p["p99_ms"] < target_ms else "OVER TARGET"
    print(
        f"{name:<34} n={p['count']:<5} p50={p['p50_ms']:.3f} ms  p99={p['p99_ms']:.3f} ms  "
        f"max={p['max_ms']:.3f} ms  (p99 target < {target_ms:g} ms: {verdict})"
    )


def bench_rts_cts(rounds: int) -> list[float]:
    """A CanNode responder answering RTS with CTS; the peer is a raw bus."""
    ch = f"bench-{uuid.uuid4().hex[:6]}"
    responder_bus, peer, monitor = _bus(ch), _bus(ch), _bus(ch)
    node = CanNode(responder_bus, CHARGER_ADDRESS, name="responder")
    node.start()
    samples = []
    try:
        for i in range(rounds):
            size = 49
            rts = Frame(7, TP_CM_PGN, BMS_ADDRESS, CHARGER_ADDRESS, encode_rts(size, 7, 0x200))
            peer.send(rts.to_can())
            t_rts = t_cts = None
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and t_cts is None:
                msg = monitor.recv(0.5)
                if msg is None:
                    continue
                f = Frame.from_can(msg)
                if f and f.pgn == TP_CM_PGN and f.data[0] == 0x10:
                    t_rts = msg.timestamp
                elif f and f.pgn == TP_CM_PGN and f.data[0] == 0x11 and t_rts is not None:
                    t_cts = msg.timestamp
            if t_rts is not None and t_cts is not None:
                samples.append((t_cts - t_rts) * 1000)
            # abort the session so the next RTS starts clean
            abort = bytes([0xFF, 3, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0x00])
            peer.send(Frame(7, TP_CM_PGN, BMS_ADDRESS, CHARGER_ADDRESS, abort).to_can())
            if i % 50 == 0:
                time.sleep(0.01)
            while monitor.recv(0.002) is not None:
                pass
    finally:
        node.stop()
        for b in (responder_bus, peer, monitor):
            b.shutdown()
    return samples


def bench_cts_dt(rounds: int) -> list[float]:
    """A CanNode originator: CTS in -> first DT out."""
    ch = f"bench-{uuid.uuid4().hex[:6]}"
    sender_bus, peer, monitor = _bus(ch), _bus(ch), _bus(ch)
    node = CanNode(sender_bus, BMS_ADDRESS, name="originator")
    node.start()
    samples = []
    payload = bytes(range(49))
    try:
        for _ in range(rounds):
            node.call_soon(lambda: node.send_transfer(0x200, payload, CHARGER_ADDRESS))
            t_cts = t_dt = None
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline and t_dt is None:
                msg = monitor.recv(0.5)
                if msg is None:
                    continue
                f = Frame.from_can(msg)
                if f is None:
                    continue
                if f.pgn == TP_CM_PGN and f.data[0] == 0x10:
                    cts = bytes([0x11, 7, 1, 0xFF, 0xFF, 0x00, 0x02, 0x00])
                    peer.send(Frame(7, TP_CM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, cts).to_can())
                elif f.pgn == TP_CM_PGN and f.data[0] == 0x11:
                    t_cts = msg.timestamp
                elif f.pgn == TP_DT_PGN and t_cts is not None and t_dt is None:
                    t_dt = msg.timestamp
            if t_cts is not None and t_dt is not None:
                samples.append((t_dt - t_cts) * 1000)
            eoma = bytes([0x13, 49, 0, 7, 0xFF, 0x00, 0x02, 0x00])
            time.sleep(0.01)
            peer.send(Frame(7, TP_CM_PGN, CHARGER_ADDRESS, BMS_ADDRESS, eoma).to_can())
            time.sleep(0.005)
            while monitor.recv(0.002) is not None:
                pass
    finally:
        node.stop()
        for b in (sender_bus, peer, monitor):
            b.shutdown()
    return samples


def bench_bms_phase(rounds: int) -> list[float]:
    """The BMS role: CRM(0xAA) in -> first BCP RTS out."""
    table = MessageTable.gbt27930_2015()
    samples = []
    for _ in range(rounds):
        ch = f"bench-{uuid.uuid4().hex[:6]}"
        role_bus, peer, monitor = _bus(ch), _bus(ch), _bus(ch)
        role = BmsRole(role_bus, BmsScript(), own_notifier=True)
        role.start()
        try:
            crm_pgn = table["CRM"].pgn
            for data in (table.encode("CHM"), None):
                if data is not None:
                    peer.send(
                        Frame(6, table["CHM"].pgn, CHARGER_ADDRESS, BMS_ADDRESS, data).to_can()
                    )
            role.wait_phase(Phase.HANDSHAKE, 1.0)
            crm00 = table.encode("CRM", {"recognition": 0})
            peer.send(Frame(6, crm_pgn, CHARGER_ADDRESS, BMS_ADDRESS, crm00).to_can())
            role.wait_phase(Phase.RECOGNITION, 1.0)
            time.sleep(0.05)
            while monitor.recv(0.001) is not None:
                pass
            crm_aa = table.encode("CRM", {"recognition": 0xAA})
            peer.send(Frame(6, crm_pgn, CHARGER_ADDRESS, BMS_ADDRESS, crm_aa).to_can())
            t_in = t_out = None
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline and t_out is None:
                msg = monitor.recv(0.5)
                f = Frame.from_can(msg) if msg else None
                if f is None:
                    continue
                if f.pgn == crm_pgn and f.data[0] == 0xAA:
                    t_in = msg.timestamp
                elif f.pgn == TP_CM_PGN and f.data[0] == 0x10 and f.data[5:8] == b"\x00\x06\x00":
                    t_out = msg.timestamp
            if t_in is not None and t_out is not None:
                samples.append((t_out - t_in) * 1000)
        finally:
            role.stop()
            for b in (role_bus, peer, monitor):
                b.shutdown()
    return samples


def bench_periodic(seconds: float) -> dict[float, list[float]]:
    """10/50/250 ms messages sent together by one node; |gap - period| per message."""
    ch = f"bench-{uuid.uuid4().hex[:6]}"
    node_bus, monitor = _bus(ch), _bus(ch)
    node = CanNode(node_bus, CHARGER_ADDRESS, name="periodic")
    node.start()
    periods = {0.010: 0x1A00, 0.050: 0x1200, 0.250: 0x2600}
    for period, pgn in periods.items():
        node.start_periodic(
            f"p{pgn}", Frame(6, pgn, CHARGER_ADDRESS, BMS_ADDRESS, b"\x00" * 4), period
        )
    stamps: dict[int, list[float]] = {pgn: [] for pgn in periods.values()}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        msg = monitor.recv(0.5)
        f = Frame.from_can(msg) if msg else None
        if f is not None and f.pgn in stamps:
            stamps[f.pgn].append(msg.timestamp)
    node.stop()
    node_bus.shutdown()
    monitor.shutdown()
    result = {}
    for period, pgn in periods.items():
        kept = stamps[pgn][1:]  # skip the start-up frame
        result[period] = [abs(b - a - period) * 1000 for a, b in itertools.pairwise(kept)]
    return result


def bench_sleep_floor(seconds: float) -> list[float]:
    """The platform's floor: |gap - 10 ms| of a bare Python sleep loop, no CAN at all."""
    due = time.perf_counter()
    stamps = []
    for _ in range(int(seconds / 0.01)):
        due += 0.01
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        stamps.append(time.perf_counter())
    return [abs(b - a - 0.01) * 1000 for a, b in itertools.pairwise(stamps)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    sys.setswitchinterval(REALTIME_SWITCH_INTERVAL_S)  # as the bench itself runs
    print(
        f"vgi-bench CAN timing on python-can virtual bus ({args.rounds} rounds, "
        f"{args.seconds:g} s periodic)"
    )
    _row("reaction RTS -> CTS (responder)", bench_rts_cts(args.rounds), 2.0)
    _row("reaction CTS -> first DT (originator)", bench_cts_dt(args.rounds), 2.0)
    _row("reaction CRM(AA) -> BCP RTS (BMS role)", bench_bms_phase(max(20, args.rounds // 10)), 2.0)
    for period, jitter in bench_periodic(args.seconds).items():
        _row(f"period jitter {period * 1000:g} ms", jitter, 1.0)
    _row("floor: bare sleep loop 10 ms", bench_sleep_floor(min(args.seconds, 5.0)), 1.0)


if __name__ == "__main__":
    main()
