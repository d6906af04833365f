"""A line-based SCPI/ASCII server on 127.0.0.1 that a simulated instrument answers through.

The bench reaches it exactly as a LAN instrument (``TCPIP0::127.0.0.1::PORT::SOCKET``
through pyvisa-py, or ``socket://127.0.0.1:PORT`` through pyserial), so the drivers, the
guard and the locking under test are the real ones. Written by hand: no maintained
library serves SCPI from a model (scpi-sim has a fixed CV/CC load, pyvisa-sim no
coupling between instruments).
"""

from __future__ import annotations

import logging
import socket
import socketserver
import threading
from typing import Protocol

log = logging.getLogger(__name__)


class Responder(Protocol):
    def handle(self, line: str) -> str | None:
        """The reply to one command line, or None for a command without reply."""
        ...


class _Handler(socketserver.StreamRequestHandler):
    server: ScpiServer

    def handle(self) -> None:
        sim = self.server.responder
        terminator = self.server.reply_termination.encode()
        for raw in self.rfile:
            line = raw.decode("ascii", "replace").strip()
            if not line:
                continue
            try:
                reply = sim.handle(line)
            except Exception:  # a simulator bug must not kill the connection silently
                log.exception("simulator: %r", line)
                reply = None
            if reply is not None:
                try:
                    self.wfile.write(reply.encode("ascii") + terminator)
                except OSError:
                    return


class ScpiServer(socketserver.ThreadingTCPServer):
    """One simulated instrument on a free loopback port; :attr:`resource` names it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, responder: Responder, reply_termination: str = "\n") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.responder = responder
        self.reply_termination = reply_termination
        self._thread = threading.Thread(target=self.serve_forever, name="scpi-sim", daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def resource(self) -> str:
        """The VISA resource string of this simulated instrument."""
        return f"TCPIP0::127.0.0.1::{self.port}::SOCKET"

    @property
    def url(self) -> str:
        """The pyserial URL of this simulated instrument."""
        return f"socket://127.0.0.1:{self.port}"

    def start(self) -> ScpiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()
