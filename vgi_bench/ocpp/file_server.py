"""The bench's side of a file transfer the DUT makes: firmware it downloads, logs
(diagnostics) it uploads (OCPP 1.6 §5.9, §5.19; 2.0.1 L01, N01).

Why: a station that reports Downloaded or Uploaded has to be shown to have really moved the
file; every request this server sees is recorded as a :class:`Transfer`, so a case can check
the report against what happened. Plain HTTP, stdlib ``http.server``: a table of files to
serve and a directory to receive into are a few lines, no maintained library is needed. It
binds where the DUT reaches the bench (:func:`dut_facing_host`), on a free port, so nothing
leaves the lab.

``GET`` serves the file table (path -> bytes; any other path 404). ``PUT``/``POST`` are
taken only under the upload prefix (else 403) and up to a size cap (else 413, the body never
kept), so a DUT that floods the bench cannot exhaust its memory.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from vgi_bench.ocpp.csms_role import BenchCsms

MAX_UPLOAD = 16 * 1024 * 1024  # bytes; a diagnostics file is far smaller
DRAIN_LIMIT = 64 * 1024 * 1024  # a refused body up to this is read and dropped (clean answer)
UPLOAD_PREFIX = "/uploads/"
IO_TIMEOUT_S = 30.0  # a stalled client does not hold a handler thread for ever
WILDCARDS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Transfer:
    """One request: ``size`` is the bytes sent (GET) or received (PUT/POST); ``body`` is
    an accepted upload's content."""

    method: str
    path: str
    status: int
    size: int = 0
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def dut_facing_host(csms: BenchCsms) -> str:
    """The address the DUT reached the bench at: the local end of the CSMS session, else
    the CSMS's listen address, ``127.0.0.1`` for a wildcard."""
    host = csms.host
    session = csms.session
    local = getattr(session.connection, "local_address", None) if session else None
    if local:
        host = str(local[0])
    if host.startswith("::ffff:") and "." in host:  # IPv4 on a dual-stack socket
        host = host.removeprefix("::ffff:")
    return "127.0.0.1" if host in WILDCARDS else host


def _url_host(host: str) -> str:
    return f"[{host.replace('%', '%25')}]" if ":" in host else host


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, handler: type[BaseHTTPRequestHandler]) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), handler)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client gone mid-request is the client's failure, recorded where it matters


class FileServer:
    """``files`` maps a path (``/firmware/x.bin``) to what GET serves; uploads are kept
    under ``upload_prefix``. ``url(path)`` goes into a request's location."""

    def __init__(
        self,
        host: str,
        files: Mapping[str, bytes] | None = None,
        *,
        upload_prefix: str = UPLOAD_PREFIX,
        max_upload: int = MAX_UPLOAD,
    ) -> None:
        self.host = host
        self.files = {"/" + path.lstrip("/"): body for path, body in (files or {}).items()}
        self.upload_prefix = "/" + upload_prefix.lstrip("/")
        self.max_upload = max_upload
        self._transfers: list[Transfer] = []
        self._lock = threading.Lock()
        self._http = _Server(host, self._handler())
        self.port = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True,
                                        name="vgi-file-server")  # fmt: skip

    # ------------------------------------------------------------------ addresses

    def url(self, path: str) -> str:
        return f"http://{_url_host(self.host)}:{self.port}/{path.lstrip('/')}"

    def closed_url(self, path: str) -> str:
        """A URL on this host where nothing listens (a transfer that must fail)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((self.host, 0))
            port = sock.getsockname()[1]
        return f"http://{_url_host(self.host)}:{port}/{path.lstrip('/')}"

    # ------------------------------------------------------------------ what happened

    @property
    def transfers(self) -> list[Transfer]:
        with self._lock:
            return list(self._transfers)

    def downloads(self) -> list[Transfer]:
        """Files served (GET answered 200)."""
        return [t for t in self.transfers if t.method == "GET" and t.ok]

    def uploads(self, name: str = "") -> list[Transfer]:
        """Uploads accepted (of a path ending in ``name``)."""
        return [t for t in self.transfers
                if t.method in ("PUT", "POST") and t.ok and t.path.endswith(name)]  # fmt: skip

    def describe(self) -> str:
        done = [f"{t.method} {t.path} -> {t.status}" for t in self.transfers]
        return ", ".join(done) or "no request to the bench's file server"

    def _record(self, transfer: Transfer) -> None:
        with self._lock:
            self._transfers.append(transfer)

    # ------------------------------------------------------------------ HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = IO_TIMEOUT_S

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                body = server.files.get(path)
                status = 404 if body is None else 200
                server._record(Transfer("GET", path, status, len(body or b"")))
                self._answer(status, b"not found\n" if body is None else body)

            def do_PUT(self) -> None:
                path = urlsplit(self.path).path
                status, body = self._receive(path)
                server._record(Transfer(self.command, path, status, len(body),
                                        body if status == 201 else b""))  # fmt: skip
                self._answer(status)

            do_POST = do_PUT

            def _receive(self, path: str) -> tuple[int, bytes]:
                """(status, body read): 201 taken, 403 outside the prefix, 413 over the
                cap, 411/400 for a length the server cannot trust or a body cut short."""
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    self.close_connection = True
                    return 411, b""
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if length < 0:
                    self.close_connection = True
                    return 400, b""
                refused = 413 if length > server.max_upload else 0
                if not refused and not path.startswith(server.upload_prefix):
                    refused = 403
                try:
                    if refused:
                        self._drain(length)
                        return refused, b""
                    body = self.rfile.read(length)
                except OSError:
                    self.close_connection = True
                    return 400, b""
                if len(body) < length:
                    self.close_connection = True
                    return 400, body
                return 201, body

            def _drain(self, length: int) -> None:
                """Read and drop a refused body, so the client gets the answer, not a
                reset; one too big even for that just closes the connection."""
                if length > DRAIN_LIMIT:
                    self.close_connection = True
                    return
                while length > 0:
                    chunk = self.rfile.read(min(length, 65536))
                    if not chunk:
                        self.close_connection = True
                        return
                    length -= len(chunk)

        return Handler

    # ------------------------------------------------------------------ lifetime

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def file_server(csms: BenchCsms, files: Mapping[str, bytes] | None = None, *,
                upload_prefix: str = UPLOAD_PREFIX) -> FileServer:  # fmt: skip
    """A :class:`FileServer` where the DUT reaches the bench (``with file_server(...)``)."""
    return FileServer(dut_facing_host(csms), files, upload_prefix=upload_prefix)
