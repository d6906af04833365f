"""The platform link's edges: profile keys, and a client that never crashes on a bad peer
(garbage, dropped connections, wrong types, bad signatures, nobody listening)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.ocpp_helpers import free_port
from vgi_bench.platform.link import client_for, service_for
from vgi_bench.platform.server import PlatformHttpServer
from vgi_bench.profile import ProfileError, load_profile, parse_profile

DUT = {"vendor": "v", "model": "m", "serial": "s", "firmware": "f"}


def _platform(**keys: object) -> dict:
    return {"dut": DUT, "platform": keys}


def test_default_profile_has_the_reference_platform() -> None:
    config = load_profile().platform
    assert config is not None and config.url and config.listen
    assert (config.cipher, config.signature) == ("aes-128-cbc", "hmac-md5")
    assert config.token_ttl_s <= config.token_wait_max_s


@pytest.mark.parametrize(
    ("keys", "reason"),
    [
        ({"field_names": {"Rett": "ret"}}, "platform.field_names' has unknown field 'Rett'"),
        ({"endpoints": {"archive": "a/b"}}, "platform.endpoints' entry 'archive'"),
        ({"sm2_public_key": "04zz"}, "platform.sm2_public_key' must be 128 hex"),
        ({"cipher": "des"}, "platform.cipher' must be one of"),
        ({"token_ttl_s": 0}, "platform.token_ttl_s' must be 1..604800"),
        ({"data_secret": "short"}, "platform.data_secret' must be 16 bytes"),
    ],
)
def test_platform_keys_are_checked(keys: dict, reason: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(_platform(**keys))
    assert reason in str(err.value)


class _Garbage(BaseHTTPRequestHandler):
    """A peer that answers every kind of nonsense, chosen by the endpoint."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        endpoint = self.path.rsplit("/", 1)[-1]
        if endpoint == "drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        body = {
            "html": b"<html>500</html>",
            "types": json.dumps({"Ret": "0", "Msg": 1, "Data": [], "Sig": None}).encode(),
            "unsigned": json.dumps({"Ret": 0, "Msg": "", "Data": "", "Sig": "00"}).encode(),
            "list": b"[1, 2]",
        }.get(endpoint, b"\xff\xfe")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/evcs/v1/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("endpoint", ["drop", "html", "types", "unsigned", "list", "bytes"])
def test_client_turns_garbage_into_a_problem(garbage_url: str, endpoint: str) -> None:
    config = load_profile().platform
    client = client_for(config, garbage_url)
    exchange = client.post(endpoint, {"a": 1})
    assert exchange.response is None and exchange.problem, exchange
    assert endpoint in exchange.seen()
    assert client.call(endpoint, {"a": 1}).problem  # no token: still a verdict, no crash


def test_nobody_listening_is_a_problem_not_a_crash() -> None:
    client = client_for(load_profile().platform, f"http://127.0.0.1:{free_port()}/")
    assert "no answer" in client.query_token().problem


def test_server_answers_garbage_with_ret_codes() -> None:
    config = load_profile().platform
    service = service_for(config, {"echo": lambda call: call.data})
    server = PlatformHttpServer(service, "127.0.0.1", 0).start()
    try:
        client = client_for(config, f"http://127.0.0.1:{server.address[1]}/")
        assert client.post("echo", None, raw=b"\xff").ret == 4003
        assert client.post("echo", [1, 2]).ret == 4003
        assert client.call("echo", {"a": 1}).data == {"a": 1}
        assert client.post("echo", client.envelope({"a": 1}), token="nope").ret == 4002
        assert client.post("nowhere", client.envelope({}), token=client.token.value).ret == 4003
    finally:
        server.stop()
