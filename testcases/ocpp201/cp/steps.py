"""Steps shared by the OCPP 2.0.1 charging-station cases (limits: ``testcases.ocpp_steps``)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.cases import check, fail
from bench.ocpp.checks import expect_call, expect_result, expect_status, is_call, seen
from bench.ocpp.csms_handlers import VALID_TOKEN
from bench.ocpp.log import Entry
from bench.ocpp.session import Exchange
from fixtures.ocpp.rig import CpRig
from testcases.ocpp_steps import (
    ANSWER_S,
    INTERVAL_S,
    METER_INTERVAL_S,
    TOLERANCE_S,
    boot_accepted,
)

__all__ = [
    "ANSWER_S",
    "INTERVAL_S",
    "METER_INTERVAL_S",
    "TOLERANCE_S",
    "boot_accepted",
]

OCTT = "OCA OCTT 2.0.1"


def clause(use_case: str, case_id: str) -> str:
    return f"OCPP 2.0.1 Part 2 {use_case}; {OCTT} {case_id}"


def set_variable(rig: CpRig, component: str, variable: str, value: str) -> None:
    exchange = rig.call(
        "SetVariables",
        {"setVariableData": [{"component": {"name": component}, "variable": {"name": variable},
                              "attributeValue": value}]},
    )  # fmt: skip
    results = expect_status_list(exchange, "setVariableResult")
    status = results[0].get("attributeStatus")
    check(status == "Accepted", f"SetVariables {component}.{variable}={value} Accepted",
          f"attributeStatus {status!r}")  # fmt: skip


def expect_status_list(exchange: Exchange, key: str) -> list[dict]:
    """The non-empty result list ``key`` of a CALLRESULT."""
    payload = expect_result(exchange)
    items = payload.get(key) or []
    check(len(items) >= 1, f"{exchange.action} response with {key}", str(payload))
    return items


def is_charging(entry: Entry) -> bool:
    return entry.payload.get("transactionInfo", {}).get("chargingState") == "Charging"


def start_local_transaction(rig: CpRig, mark: int) -> Entry:
    """EV plugged in, valid idToken presented: the TransactionEvent that reports Charging."""
    rig.operator("plug_in")
    rig.operator("present", VALID_TOKEN)
    return expect_call(
        rig.log, "TransactionEvent", since=mark, within=ANSWER_S, where=is_charging,
        what="TransactionEvent with chargingState Charging",
    )  # fmt: skip


def transaction_id(entry: Entry) -> str:
    return entry.payload.get("transactionInfo", {}).get("transactionId", "")


def remote_stop(rig: CpRig, tx_id: str) -> None:
    expect_status(rig.call("RequestStopTransaction", {"transactionId": tx_id}), "Accepted")


def id_token(token: str) -> dict[str, str]:
    return {"idToken": token, "type": "ISO14443"}


def statuses_until(
    rig: CpRig, action: str, since: int, *, within: float, final: set[str],
    where: Callable[[Entry], bool] | None = None,
) -> list[Entry]:  # fmt: skip
    """The ``action`` CALLs (FirmwareStatusNotification, LogStatusNotification) from ``since``
    up to the first whose status is in ``final``; fails naming what came when none did."""
    last = rig.log.wait_for(
        is_call(action, lambda e: e.payload.get("status") in final and (where is None
                                                                       or where(e))),
        within, since,
    )  # fmt: skip
    if last is None:
        fail(f"{action} with status {' or '.join(sorted(final))} within {within:g} s",
             seen(rig.log, since))  # fmt: skip
    return [e for e in rig.log.snapshot(since) if is_call(action)(e) and e.seq <= last.seq]


def expect_in_order(entries: list[Entry], wanted: list[str], what: str) -> None:
    """``wanted`` statuses appear in this order among ``entries`` (others may come between)."""
    got = [e.payload.get("status") for e in entries]
    position = 0
    for status in got:
        if position < len(wanted) and status == wanted[position]:
            position += 1
    check(position == len(wanted), f"{what} {' -> '.join(wanted)}", " -> ".join(map(str, got)))


def expect_request_id(entries: list[Entry], request_id: int, what: str) -> None:
    wrong = [e for e in entries if e.payload.get("requestId") != request_id]
    if wrong:
        fail(f"every {what} with requestId {request_id}",
             f"{wrong[0].payload.get('status')} with requestId "
             f"{wrong[0].payload.get('requestId')!r}")  # fmt: skip


class FileServer:
    """A small HTTP server on the bench for what a DUT fetches (firmware, GET) and sends
    (logs, PUT or POST): the proof that a transfer the DUT reports really happened."""

    def __init__(self, host: str, files: dict[str, bytes]) -> None:
        self.host = host
        self.files = files
        self.downloads: list[str] = []
        self.uploads: list[tuple[str, int]] = []  # path, bytes
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                server.downloads.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                server.uploads.append((self.path, len(self.rfile.read(size))))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT

            def log_message(self, *_: object) -> None:
                pass

        self._http = ThreadingHTTPServer((host, 0), Handler)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def closed_url(self, path: str) -> str:
        """A URL on this host where nothing listens (a transfer that must fail)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((self.host, 0))
            port = sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()


def file_server(rig: CpRig, files: dict[str, bytes] | None = None) -> FileServer:
    """A :class:`FileServer` on the address the DUT reaches the bench at."""
    session = rig.csms.session
    host = rig.csms.host
    if session is not None and getattr(session.connection, "local_address", None):
        host = session.connection.local_address[0]
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return FileServer(host, files or {})
