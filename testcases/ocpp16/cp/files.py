"""The bench's file server for firmware downloads and diagnostics uploads (OCPP 1.6 §5.9,
§5.19): plain HTTP on the address the bench's CSMS listens on, a free port, no network
beyond it.

``GET /firmware/<name>`` serves a small firmware image, except names starting with
``does_not_exist_`` (404, as OCTT's download-failure case does); ``PUT`` or ``POST`` under
``/diagnostics/`` stores the body. Every request is recorded, so a case can tell whether a
file really moved.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIRMWARE_IMAGE = b"VGI-BENCH FIRMWARE IMAGE 1.6\n" + bytes(range(256)) * 4
MISSING_PREFIX = "does_not_exist_"


@dataclass(frozen=True)
class Transfer:
    method: str
    path: str
    body: bytes
    status: int


class FileServer:
    """Records every transfer; ``url(path)`` is what goes into a request's location."""

    def __init__(self, host: str) -> None:
        self.transfers: list[Transfer] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), self._handler())
        self._server.daemon_threads = True
        bound = self._server.server_address[0]
        advertised = "127.0.0.1" if bound in ("0.0.0.0", "", "::") else str(bound)
        self.base = f"http://{advertised}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                         name="vgi-file-server")  # fmt: skip

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def uploads(self, name: str = "") -> list[Transfer]:
        """Successful uploads (of a file ending in ``name``)."""
        with self._lock:
            return [t for t in self.transfers if t.method in ("PUT", "POST") and t.status < 300
                    and t.path.endswith(name)]  # fmt: skip

    def downloads(self) -> list[Transfer]:
        with self._lock:
            return [t for t in self.transfers if t.method == "GET" and t.status == 200]

    def describe(self) -> str:
        with self._lock:
            done = [f"{t.method} {t.path} -> {t.status}" for t in self.transfers]
        return ", ".join(done) or "no request to the bench's file server"

    def _record(self, transfer: Transfer) -> None:
        with self._lock:
            self.transfers.append(transfer)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                found = self.path.startswith("/firmware/") and not name.startswith(MISSING_PREFIX)
                status = 200 if found else 404
                server._record(Transfer("GET", self.path, b"", status))
                self.send_response(status)
                body = FIRMWARE_IMAGE if found else b"not found\n"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                ok = self.path.startswith("/diagnostics/")
                status = 201 if ok else 403
                server._record(Transfer(self.command, self.path, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT

        return Handler

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def file_server(host: str) -> Iterator[FileServer]:
    server = FileServer(host).start()
    try:
        yield server
    finally:
        server.stop()
