"""Benchmark: the platform envelope and the reference T/CEC 102 platform.

- ``envelope``: seal (encrypt + sign) and open (verify + decrypt) one request of a
  typical business payload (a query_start_charge, ~120 bytes of JSON), per cipher and
  signature, in ops/s;
- ``requests``: sealed ``query_station_status`` calls per second against the reference
  platform on 127.0.0.1 (one connection per call, as the bench does), sequential and
  with 4 client threads.

Not a test: the figures depend on the machine.

    .venv/bin/python benchmarks/platform_api.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from vgi_bench.platform.algorithms import make_cipher, make_signer
from vgi_bench.platform.envelope import EnvelopeCodec, Request
from vgi_bench.platform.link import client_for
from vgi_bench.profile import load_profile
from vgi_bench.reference.platform.tcec102 import ReferenceTcec102Platform

KEY = "1234567890abcdef"
SM2_KEY = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
PAYLOAD = {
    "StartChargeSeq": "VGIBENCH00000001123456789ab",
    "ConnectorID": "VGI-CN-0001",
    "QRCode": "hlht://VGI-CN-0001.VGIBENCH00000001/",
}
SUITES = [
    ("aes-128-cbc", "hmac-md5", KEY),
    ("sm4-cbc", "hmac-sm3", KEY),
    ("aes-128-cbc", "sm2", SM2_KEY),
    ("sm4-cbc", "sm2", SM2_KEY),
]


def _rate(func, seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        func()
        count += 1
    return count / elapsed


def envelope_rates(seconds: float) -> None:
    print("envelope: seal (encrypt+sign) + open (verify+decrypt) of one request")
    for cipher, signature, secret in SUITES:
        codec = EnvelopeCodec(make_cipher(cipher, KEY, KEY), make_signer(signature, secret))
        request = Request("VGIBENCH00000001", PAYLOAD, "20260101000000", "0001")
        rate = _rate(lambda c=codec, r=request: c.open_request(c.seal_request(r)), seconds)
        print(f"  {cipher:<12} {signature:<9} {rate:>10,.0f} ops/s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request_rates(seconds: float) -> None:
    config = load_profile().platform
    assert config is not None
    platform = ReferenceTcec102Platform(config, port=_free_port())
    platform.start()
    try:
        url = platform.where + "evcs/v1/"
        print("requests: sealed query_station_status against the reference platform")
        for threads in (1, 4):
            clients = [client_for(config, url) for _ in range(threads)]
            for client in clients:
                client.query_token()

            def work(client) -> int:
                return round(_rate(lambda: client.call("query_station_status",
                                                       {"StationIDs": ["VGI-ST-0001"]}),
                                   seconds) * seconds)  # fmt: skip

            start = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                done = sum(pool.map(work, clients))
            rate = done / (time.perf_counter() - start)
            print(f"  {threads} client thread(s)        {rate:>10,.0f} requests/s")
    finally:
        platform.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per figure")
    args = parser.parse_args()
    envelope_rates(args.seconds)
    request_rates(args.seconds)


if __name__ == "__main__":
    main()
