"""OCPP 2.0.1 charging station, functional block N (diagnostics): log retrieval.

The bench receives the log on a small HTTP server (PUT or POST) on the address the
station reaches the bench at; nothing leaves the lab.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_status
from vgi_bench.ocpp.file_server import file_server
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    boot_accepted,
    clause,
    expect_in_order,
    expect_request_id,
    statuses_until,
)
from vgi_bench.timing import Latency

REQUEST_ID = 6101
LOG_PATH = "/logs/"
#: LogStatusNotification statuses that end an upload.
FINAL = {"Uploaded", "UploadFailure", "BadMessage", "NotSupportedOperation", "PermissionDenied"}
UPLOAD_S = 15.0


def _get_log(remote_location: str) -> dict:
    return {"log": {"remoteLocation": remote_location}, "logType": "DiagnosticsLog",
            "requestId": REQUEST_ID, "retries": 0}  # fmt: skip


@case("TC_N_25_CS", clause("N01 Retrieve Log Information", "TC_N_25_CS"),
      "Retrieve Log Information - Diagnostics Log - Success")  # fmt: skip
def test_tc_n_25_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station uploads its diagnostics log where the CSMS asks and reports it.

    Steps: GetLog (logType DiagnosticsLog, requestId 6101, log.remoteLocation an HTTP URL on
    the bench).
    Expected:
    1. GetLogResponse Accepted with the filename it will upload (N01).
    2. LogStatusNotification Uploading, then Uploaded, each with requestId 6101 (N01).
    3. The log arrived at remoteLocation.
    """
    boot_accepted(rig)
    with file_server(rig.csms, upload_prefix=LOG_PATH) as files:
        mark = rig.mark()
        exchange = rig.call("GetLog", _get_log(files.url(LOG_PATH)))
        payload = expect_status(exchange, "Accepted")
        filename = payload.get("filename")
        check(bool(filename), "GetLogResponse with the filename of the log", str(payload))
        entries = statuses_until(rig, "LogStatusNotification", mark, within=UPLOAD_S,
                                 final=FINAL)  # fmt: skip
        uploads = files.uploads()
    expect_request_id(entries, REQUEST_ID, "LogStatusNotification")
    expect_in_order(entries, ["Uploading", "Uploaded"], "LogStatusNotification")
    check(bool(uploads), f"the log {filename!r} uploaded to {LOG_PATH}",
          "no upload reached the bench")  # fmt: skip
    measurements.record("uploaded_after_request",
                        Latency.between(exchange.request.mono, entries[-1].mono))  # fmt: skip
    measurements.record("uploaded_bytes", uploads[0].size)


@case("TC_N_26_CS", clause("N01 Retrieve Log Information", "TC_N_26_CS"),
      "Retrieve Log Information - Diagnostics Log - Upload failed")  # fmt: skip
def test_tc_n_26_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an upload that cannot reach remoteLocation is reported as failed.

    Steps: GetLog (DiagnosticsLog, requestId 6101, retries 0) whose log.remoteLocation is
    an HTTP URL on the bench where nothing listens.
    Expected:
    1. GetLogResponse Accepted (N01).
    2. LogStatusNotification Uploading, then UploadFailure, each with requestId 6101 (N01);
       never Uploaded.
    """
    boot_accepted(rig)
    with file_server(rig.csms, upload_prefix=LOG_PATH) as files:
        mark = rig.mark()
        expect_status(rig.call("GetLog", _get_log(files.closed_url(LOG_PATH))), "Accepted")
        entries = statuses_until(rig, "LogStatusNotification", mark, within=UPLOAD_S,
                                 final=FINAL)  # fmt: skip
    expect_request_id(entries, REQUEST_ID, "LogStatusNotification")
    got = [e.payload.get("status") for e in entries]
    check(got[-1] == "UploadFailure", "LogStatusNotification UploadFailure",
          " -> ".join(map(str, got)))  # fmt: skip
    expect_in_order(entries, ["Uploading", "UploadFailure"], "LogStatusNotification")
