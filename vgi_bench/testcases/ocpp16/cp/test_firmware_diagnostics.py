"""OCPP 1.6J charge point, Firmware Management profile: firmware update and diagnostics.

The bench plays the central system and serves the files itself (``vgi_bench.ocpp.file_server``:
plain HTTP where the charge point reaches the bench), so a case sees whether a file really
moved.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_result, is_call
from vgi_bench.ocpp.csms_handlers import now_iso
from vgi_bench.ocpp.file_server import file_server
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import clause, next_status
from vgi_bench.testcases.ocpp_steps import boot_accepted
from vgi_bench.timing import Latency

FIRMWARE_STEP_S = 15.0  # each firmware step (download, install, the reboot before Installed)
UPLOAD_S = 15.0
FIRMWARE = "FirmwareStatusNotification"
DIAGNOSTICS = "DiagnosticsStatusNotification"
FIRMWARE_PATH = "/firmware/vgi-firmware-1.6.1.bin"
FIRMWARE_IMAGE = b"VGI-BENCH FIRMWARE IMAGE 1.6\n" + bytes(range(256)) * 4
MISSING_PATH = "/firmware/does_not_exist_vgi-firmware.bin"  # not in the file table: 404
UPLOAD_PREFIX = "/diagnostics/"  # uploads anywhere else are refused (403)


def _update_firmware(rig: CpRig, location: str, retries: int):
    payload = {"location": location, "retrieveDate": now_iso(), "retries": retries,
               "retryInterval": 1}  # fmt: skip
    exchange = rig.call("UpdateFirmware", payload)
    expect_result(exchange, "UpdateFirmware.conf")
    return exchange


@case("TC_044_1_CS", clause("§5.19 Update Firmware, §4.5 Firmware Status Notification",
                            "TC_044_1_CS"), "Firmware Update - Download and Install")  # fmt: skip
def test_tc_044_1_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the charge point downloads, installs and reports a new firmware.

    Steps: UpdateFirmware with a location on the bench's file server, retrieveDate now.
    Expected:
    1. UpdateFirmware.conf (§5.19).
    2. FirmwareStatusNotification Downloading, Downloaded, Installing, Installed, in this
       order and nothing between (§4.5); a reboot (BootNotification) may come before
       Installed.
    3. The firmware image was fetched from the location.
    """
    boot_accepted(rig)
    with file_server(rig.csms, {FIRMWARE_PATH: FIRMWARE_IMAGE}) as files:
        location = files.url(FIRMWARE_PATH)
        exchange = _update_firmware(rig, location, retries=1)
        since = exchange.request.seq
        seen_statuses: list[str] = []
        for status in ("Downloading", "Downloaded", "Installing", "Installed"):
            entry = next_status(rig, FIRMWARE, status, since, FIRMWARE_STEP_S, seen_statuses)
            since = entry.seq + 1
            if status == "Downloaded":
                check(bool(files.downloads()), f"the firmware fetched from {location}",
                      files.describe())  # fmt: skip
        boots = [e for e in rig.log.snapshot(exchange.request.seq)
                 if is_call("BootNotification")(e) and e.seq < entry.seq]  # fmt: skip
        measurements.record("rebooted_before_installed", bool(boots))
        measurements.record("update_s", Latency.between(exchange.request.mono, entry.mono))


@case("TC_044_2_CS", clause("§5.19 Update Firmware, §4.5 Firmware Status Notification",
                            "TC_044_2_CS"), "Firmware Update - Download Failed")  # fmt: skip
def test_tc_044_2_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a firmware that cannot be downloaded is reported as such, not installed.

    Steps: UpdateFirmware for a file the bench's server does not have (404), retries 0.
    Expected: UpdateFirmware.conf; FirmwareStatusNotification Downloading (optional, the
    download may fail at once), then DownloadFailed (§4.5); no Installing.
    """
    boot_accepted(rig)
    with file_server(rig.csms) as files:
        location = files.url(MISSING_PATH)
        exchange = _update_firmware(rig, location, retries=0)
        first = next_status(rig, FIRMWARE, ("Downloading", "DownloadFailed"),
                            exchange.request.seq, FIRMWARE_STEP_S)  # fmt: skip
        if first.payload.get("status") == "Downloading":
            next_status(rig, FIRMWARE, "DownloadFailed", first.seq + 1, FIRMWARE_STEP_S,
                        ["Downloading"])  # fmt: skip
        measurements.record("file_server", files.describe())


@case("TC_045_1_CS", clause("§5.9 Get Diagnostics, §4.4 Diagnostics Status Notification",
                            "TC_045_1_CS"), "Get Diagnostics")  # fmt: skip
def test_tc_045_1_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the charge point uploads its diagnostics to the location it is given.

    Steps: GetDiagnostics with a location (directory) on the bench's file server.
    Expected:
    1. GetDiagnostics.conf with a fileName (§5.9: diagnostics are available).
    2. DiagnosticsStatusNotification Uploading, then Uploaded (§4.4).
    3. The file named in the answer arrived at the location.
    """
    boot_accepted(rig)
    with file_server(rig.csms, upload_prefix=UPLOAD_PREFIX) as files:
        location = files.url(UPLOAD_PREFIX)
        exchange = rig.call("GetDiagnostics", {"location": location, "retries": 1,
                                               "retryInterval": 1})  # fmt: skip
        name = expect_result(exchange, "GetDiagnostics.conf").get("fileName")
        check(bool(name), "GetDiagnostics.conf with a fileName", exchange.describe())
        uploading = next_status(rig, DIAGNOSTICS, "Uploading", exchange.request.seq, UPLOAD_S)
        done = next_status(rig, DIAGNOSTICS, "Uploaded", uploading.seq + 1, UPLOAD_S,
                           ["Uploading"])  # fmt: skip
        uploads = files.uploads(f"/{name}")
        if not uploads:
            fail(f"the diagnostics file {name} uploaded to {location} before Uploaded",
                 files.describe())  # fmt: skip
        measurements.record("diagnostics_bytes", len(uploads[0].body))
        measurements.record("upload_s", Latency.between(exchange.request.mono, done.mono))


@case("TC_045_2_CS", clause("§5.9 Get Diagnostics, §4.4 Diagnostics Status Notification",
                            "TC_045_2_CS"), "Get Diagnostics - Upload Failed")  # fmt: skip
def test_tc_045_2_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an upload that fails is reported as failed.

    Steps: GetDiagnostics with a location the bench's file server refuses uploads to
    (HTTP 403), retries 0.
    Expected: GetDiagnostics.conf; DiagnosticsStatusNotification Uploading, then
    UploadFailed (§4.4), not Uploaded.
    """
    boot_accepted(rig)
    with file_server(rig.csms, upload_prefix=UPLOAD_PREFIX) as files:
        location = files.url("/read-only/")
        exchange = rig.call("GetDiagnostics", {"location": location, "retries": 0})
        expect_result(exchange, "GetDiagnostics.conf")
        uploading = next_status(rig, DIAGNOSTICS, "Uploading", exchange.request.seq, UPLOAD_S)
        next_status(rig, DIAGNOSTICS, "UploadFailed", uploading.seq + 1, UPLOAD_S, ["Uploading"])
        measurements.record("file_server", files.describe())
