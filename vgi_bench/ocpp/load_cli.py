"""``vgi-bench load --cp N``: N simulated charge points against the profile's CSMS.

The CSMS is the profile's ``[ocpp] url`` (its last path segment, the charge point id, is
replaced by one id per simulated charge point); with ``[dut] simulated = true`` the
reference CSMS is started in this process first. Exit 0 when every charge point
connected and every call was answered validly in time, 1 otherwise, 2 on a bad profile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from vgi_bench.ocpp.load import run_load
from vgi_bench.ocpp.security import Security
from vgi_bench.profile import load_profile

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_load(args: argparse.Namespace) -> int:
    profile = load_profile(args.profile)
    ocpp = profile.ocpp
    if ocpp is None or not ocpp.url:
        print(f"vgi-bench: profile {profile.source}: load needs [ocpp] url", file=sys.stderr)
        return EXIT_USAGE
    reference = None
    if profile.dut.simulated:
        from vgi_bench.reference.ocpp.csms_ref import ReferenceCsms, listen_of

        reference = ReferenceCsms(
            ocpp.version, listen_of(ocpp.url), security=Security.from_config(ocpp)
        )
        reference.start()
    try:
        result = asyncio.run(
            run_load(
                ocpp.url.rsplit("/", 1)[0], args.cp, version=ocpp.version,
                duration_s=args.duration, interval_s=args.interval, id_prefix=args.id_prefix,
                security=Security.from_config(ocpp),
            )
        )  # fmt: skip
    finally:
        if reference is not None:
            reference.stop()
    summary = result.as_dict()
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"{summary['connected']}/{args.cp} charge points connected, {summary['calls']} calls "
            f"({summary['calls_per_s']}/s) in {summary['duration_s']} s; errors "
            f"{summary['errors']}, timeouts {summary['timeouts']}, invalid {summary['invalid']}"
        )
        if summary["connect_ms"]:
            c = summary["connect_ms"]
            print(f"connect     p50 {c['p50_ms']:.1f} ms  p99 {c['p99_ms']:.1f} ms  "
                  f"max {c['max_ms']:.1f} ms")  # fmt: skip
        for action, s in summary["response_ms"].items():
            print(f"{action:<17} p50 {s['p50_ms']:.1f} ms  p99 {s['p99_ms']:.1f} ms  "
                  f"max {s['max_ms']:.1f} ms  n={s['count']}")  # fmt: skip
        for name, n in summary["connect_failures"].items():
            print(f"connect failures: {name} x{n}")
    return EXIT_OK if result.ok else EXIT_FAILED
