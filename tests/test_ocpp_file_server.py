"""The bench's OCPP file server on its own: downloads from the file table, uploads under
the prefix only and under the size cap, a URL where nothing listens."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest

from vgi_bench.ocpp.file_server import FileServer, dut_facing_host

IMAGE = b"firmware" * 100


def _put(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def test_download_and_404() -> None:
    with FileServer("127.0.0.1", {"/fw/image.bin": IMAGE}) as files:
        with urllib.request.urlopen(files.url("fw/image.bin"), timeout=5) as answer:
            assert answer.read() == IMAGE
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(files.url("/fw/other.bin"), timeout=5)
        missing.value.close()
        assert missing.value.code == 404
        assert [(t.path, t.size) for t in files.downloads()] == [("/fw/image.bin", len(IMAGE))]
        assert files.describe() == "GET /fw/image.bin -> 200, GET /fw/other.bin -> 404"


def test_uploads_under_the_prefix_only_and_under_the_cap() -> None:
    with FileServer("127.0.0.1", upload_prefix="/logs/", max_upload=1024) as files:
        assert _put(files.url("/logs/a.log"), b"log line\n") == 201
        assert _put(files.url("/elsewhere/a.log"), b"log line\n") == 403
        assert _put(files.url("/logs/big.log"), b"x" * 2048) == 413
        connection = http.client.HTTPConnection("127.0.0.1", files.port, timeout=5)
        connection.putrequest("PUT", "/logs/flood.log")
        connection.putheader("Content-Length", str(10**12))  # claimed, never sent
        connection.endheaders()
        assert connection.getresponse().status == 413
        connection.close()
        uploads = files.uploads()
        assert [(t.path, t.body) for t in uploads] == [("/logs/a.log", b"log line\n")]
        assert files.uploads("a.log") == uploads and files.uploads("b.log") == []
        assert [t.status for t in files.transfers] == [201, 403, 413, 413]
        assert all(t.body == b"" for t in files.transfers[1:])


def test_closed_url_refuses() -> None:
    with FileServer("127.0.0.1") as files:
        url = files.closed_url("/fw/image.bin")
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert isinstance(refused.value.reason, ConnectionRefusedError)
        assert files.transfers == []
        assert files.describe() == "no request to the bench's file server"


def test_host_the_dut_reached() -> None:
    def csms(host: str, local: tuple | None) -> SimpleNamespace:
        session = SimpleNamespace(connection=SimpleNamespace(local_address=local))
        return SimpleNamespace(host=host, session=session if local else None)

    assert dut_facing_host(csms("0.0.0.0", None)) == "127.0.0.1"
    assert dut_facing_host(csms("::", None)) == "127.0.0.1"
    assert dut_facing_host(csms("0.0.0.0", ("192.0.2.5", 9000))) == "192.0.2.5"
    assert dut_facing_host(csms("::", ("::ffff:192.0.2.5", 9000, 0, 0))) == "192.0.2.5"
