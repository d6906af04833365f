"""Benchmark: how fast ``vgi-bench trace``/``check`` get through a long recorded log.

Builds a log of realistic GB/T 27930 traffic (one normal session between the reference
charger and the bench's BMS with 5 s of charging, recorded on the virtual bus, repeated
with shifted timestamps and a 3 s quiet gap between copies, as a bench running case
after case writes it), saves it as ``.asc`` and ``.blf``, then measures in fresh
processes:

- ``decode``: :func:`vgi_bench.gbt27930.trace.decode_log` over frames already in memory;
- ``read+decode``: reading the file with python-can and decoding it, as the CLI does;
- ``checks``: :func:`vgi_bench.gbt27930.trace.run_checks` over the decoded entries.

Each measurement runs in its own process so its peak RSS (``ru_maxrss``) is its own;
``baseline`` is the RSS of the same process before it read anything. Not a test: the
figures depend on the machine.

    .venv/bin/python benchmarks/trace_throughput.py [--frames 1000000] [--source can.asc]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import can

QUIET_GAP_S = 3.0  # between copies: each copy is a session of its own
CHARGE_S = 5.0  # the recorded session's charging phase (most of a real session's frames)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def source_session(source: str | None) -> list[can.Message]:
    """One normal session: from ``source`` (any log), else recorded now (a few seconds)."""
    if source:
        from vgi_bench.gbt27930.trace import read_log

        return list(read_log(source))
    from vgi_bench.gbt27930.bms_role import BmsScript
    from vgi_bench.reference.gbt27930.recording import record_session

    return record_session(script=BmsScript(charge_for_s=CHARGE_S))


def write_logs(session: list[can.Message], frames: int, out: Path) -> list[Path]:
    """``frames`` frames of repeated ``session`` as .asc and .blf; returns the paths."""
    span = session[-1].timestamp - session[0].timestamp + QUIET_GAP_S
    paths = [out / "trace-throughput.asc", out / "trace-throughput.blf"]
    writers = [can.ASCWriter(str(paths[0])), can.BLFWriter(str(paths[1]))]
    copy = 0
    started = time.perf_counter()
    while copy * len(session) < frames:
        shift = copy * span
        for msg in session[: frames - copy * len(session)]:
            shifted = can.Message(
                timestamp=msg.timestamp + shift,
                arbitration_id=msg.arbitration_id,
                is_extended_id=msg.is_extended_id,
                is_rx=msg.is_rx,
                channel=msg.channel,
                data=msg.data,
            )
            for writer in writers:
                writer.on_message_received(shifted)
        copy += 1
    for writer in writers:
        writer.stop()
    print(
        f"wrote {frames} frames ({copy} sessions of {len(session)} frames) as .asc and .blf "
        f"in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
    )
    return paths


def child(mode: str, path: str) -> None:
    """One measurement in this (fresh) process; prints one JSON line."""
    from vgi_bench.gbt27930.trace import decode_log, read_log, run_checks

    baseline = _rss_mb()
    result: dict[str, object] = {"mode": mode, "file": Path(path).name}
    if mode == "decode":
        messages = list(read_log(path))
        loaded = _rss_mb()
        started = time.perf_counter()
        entries = decode_log(messages)
        elapsed = time.perf_counter() - started
        result["frames_in_memory_mb"] = round(loaded - baseline, 1)
        frames = len(messages)
    elif mode == "read+decode":
        started = time.perf_counter()
        entries = decode_log(read_log(path))
        elapsed = time.perf_counter() - started
        frames = sum(not e.via_tp for e in entries)
    elif mode == "checks":
        entries = decode_log(read_log(path))
        started = time.perf_counter()
        results = run_checks(entries)
        elapsed = time.perf_counter() - started
        frames = sum(not e.via_tp for e in entries)
        result["checks"] = len(results)
    else:
        raise SystemExit(f"unknown mode {mode}")
    result.update(
        frames=frames,
        entries=len(entries),
        seconds=round(elapsed, 2),
        frames_per_s=round(frames / elapsed),
        baseline_rss_mb=round(baseline, 1),
        peak_rss_mb=round(_rss_mb(), 1),
    )
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--source", help="a log of one normal session (default: record one)")
    parser.add_argument("--keep", metavar="DIR", help="write the logs here and keep them")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep or tmp)
        out.mkdir(parents=True, exist_ok=True)
        asc, blf = write_logs(source_session(args.source), args.frames, out)
        runs = [("decode", asc), ("read+decode", asc), ("read+decode", blf), ("checks", blf)]
        for mode, path in runs:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{r['mode']:<12} {r['file']:<22} {r['frames']:>8} frames "
                f"{r['seconds']:>7.2f} s {r['frames_per_s']:>8} frames/s  "
                f"RSS {r['baseline_rss_mb']:.0f} -> {r['peak_rss_mb']:.0f} MB"
                + (
                    f" (frames alone {r['frames_in_memory_mb']} MB)"
                    if "frames_in_memory_mb" in r
                    else ""
                )
            )


if __name__ == "__main__":
    main()
