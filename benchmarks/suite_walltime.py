"""Benchmark: wall time of the GB/T 27930 suites against the reference DUTs, split into the
standard's own timers and everything else.

A case that checks a timeout must wait that timeout out in real time; that part is the
standard's, not the bench's. For each case the script takes the limits of the timers it
measured (``*_timeout`` latencies, the 10-min pause) as "standard timers" and calls the
rest overhead (session set-up to the phase under test, observation windows, start/stop).
Usage: ``python benchmarks/suite_walltime.py [--fast]`` (``--fast`` leaves out the slow
60 s / 10 min cases).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITES = ("gbt27930.charger", "gbt27930.bms", "gbt27930.v2g-draft")
TIMER_MEASUREMENTS = ("_timeout", "cst_after_pause")


def standard_timer_s(measurements: dict) -> float:
    total = 0.0
    for name, value in measurements.items():
        if any(key in name for key in TIMER_MEASUREMENTS) and isinstance(value, dict):
            total += (value.get("limit_ms") or 0.0) / 1000.0
    return total


def run_suite(suite: str, fast: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        args = [sys.executable, "-m", "vgi_bench.cli", "run", "--suite", suite, "--out", str(out)]
        if fast:
            args += ["--", "-m", "not slow"]
        started = time.monotonic()
        proc = subprocess.run(args, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        cases = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    durations = sum(c["duration_s"] for c in cases)
    timers = sum(standard_timer_s(c["measurements"]) for c in cases)
    verdicts = {c["verdict"] for c in cases}
    print(f"{suite}: {len(cases)} cases, exit {proc.returncode}, verdicts {sorted(verdicts)}")
    print(f"  wall time            {wall:8.1f} s")
    print(f"  sum of case times    {durations:8.1f} s")
    print(f"  standard timers      {timers:8.1f} s  ({timers / durations:.0%} of case time)")
    print(f"  session overhead     {durations - timers:8.1f} s  (set-up, observation windows)")
    print(f"  process/collection   {wall - durations:8.1f} s")
    slowest = sorted(cases, key=lambda c: -c["duration_s"])[:3]
    print("  slowest: " + ", ".join(f"{c['id']} {c['duration_s']:.1f} s" for c in slowest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="leave out the slow cases")
    args = parser.parse_args()
    for suite in SUITES:
        run_suite(suite, args.fast)


if __name__ == "__main__":
    main()
