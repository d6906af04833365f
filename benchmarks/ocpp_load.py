"""OCPP load benchmark: N charge points (boot, then Heartbeat + Authorize every second)
against the reference CSMS in this process, for N in 100, 500, 1000 (or argv).

Both sides share one process and the machine's cores, so the figures are a floor for the
bench's own overhead, not a CSMS's capacity. ``vgi-bench load`` runs the same load
against any CSMS named in a profile.
"""

from __future__ import annotations

import asyncio
import socket
import sys

from vgi_bench.ocpp.load import run_load
from vgi_bench.reference.ocpp.csms_ref import ReferenceCsms


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(counts: list[int]) -> None:
    print("| charge points | connected | calls/s | errors+timeouts | connect p99 | "
          "Heartbeat p50 / p99 / max |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for count in counts:
        port = _free_port()
        csms = ReferenceCsms("2.0.1", f"127.0.0.1:{port}")
        csms.start()
        try:
            result = asyncio.run(
                run_load(f"ws://127.0.0.1:{port}", count, duration_s=10, interval_s=1.0, ramp_s=2.0)
            ).as_dict()
        finally:
            csms.stop()
        hb = result["response_ms"].get("Heartbeat", {})
        print(
            f"| {count} | {result['connected']} | {result['calls_per_s']} | "
            f"{result['errors'] + result['timeouts']} | "
            f"{(result['connect_ms'] or {}).get('p99_ms', 0):.1f} ms | "
            f"{hb.get('p50_ms', 0):.1f} / {hb.get('p99_ms', 0):.1f} / "
            f"{hb.get('max_ms', 0):.1f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 500, 1000])
