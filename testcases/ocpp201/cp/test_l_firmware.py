"""OCPP 2.0.1 charging station, functional block L (firmware management).

The bench serves the firmware image from a small HTTP server on the address the station
reaches the bench at, so a reported download can be checked against a real request. The
signing certificate is a throwaway self-signed one and the signature is over the image: a
real station verifies it only once its issuer is installed as ManufacturerRootCertificate.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.cases import Measurements, case, check
from bench.ocpp.checks import expect_call, expect_status
from bench.ocpp.csms_handlers import now_iso
from bench.ocpp.file_server import file_server
from bench.timing import Latency
from fixtures.ocpp.rig import CpRig
from testcases.ocpp201.cp.steps import (
    ANSWER_S,
    boot_accepted,
    clause,
    expect_in_order,
    expect_request_id,
    statuses_until,
)

REQUEST_ID = 5101
FIRMWARE_PATH = "/firmware/vgi-ref-201-2.0.bin"
FIRMWARE = b"VGI-BENCH firmware image for OCPP 2.0.1 L01\n" * 64
#: FirmwareStatusNotification statuses that end an update attempt.
FINAL = {"Installed", "DownloadFailed", "InvalidSignature", "InstallVerificationFailed",
         "InstallationFailed", "InvalidCertificate", "RevokedCertificate"}  # fmt: skip
UPDATE_S = 20.0  # download, verification and installation of a small image
REBOOT_S = 30.0


def signed(image: bytes) -> tuple[str, str]:
    """(signing certificate PEM, base64 signature of ``image``), made for this run."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VGI-BENCH firmware signing")])
    now = datetime.now(timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    signature = key.sign(image, ec.ECDSA(hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return pem, base64.b64encode(signature).decode()


def _is_status(status: str):
    return lambda e: e.payload.get("status") == status


@case("TC_L_01_CS", clause("L01 Secure Firmware Update", "TC_L_01_CS"),
      "Secure Firmware Update - Installation successful")  # fmt: skip
def test_tc_l_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a signed firmware update is downloaded, verified, installed and activated,
    every step reported with the request's requestId.

    Steps: UpdateFirmware (requestId 5101, firmware.location on the bench's HTTP server,
    retrieveDateTime now, signingCertificate, signature).
    Expected:
    1. UpdateFirmwareResponse Accepted (L01).
    2. FirmwareStatusNotification Downloading, Downloaded, SignatureVerified, Installing,
       Installed in this order, each with requestId 5101 (L01.FR.01); the image
       was fetched from firmware.location.
    3. The station reboots into the new firmware: BootNotification with reason
       FirmwareUpdate, then StatusNotification (L01).
    """
    boot_accepted(rig)
    cert, signature = signed(FIRMWARE)
    with file_server(rig.csms, {FIRMWARE_PATH: FIRMWARE}) as files:
        mark = rig.mark()
        request = {"requestId": REQUEST_ID, "retries": 0, "firmware": {
            "location": files.url(FIRMWARE_PATH), "retrieveDateTime": now_iso(),
            "signingCertificate": cert, "signature": signature}}  # fmt: skip
        exchange = rig.call("UpdateFirmware", request)
        expect_status(exchange, "Accepted")
        entries = statuses_until(rig, "FirmwareStatusNotification", mark, within=UPDATE_S,
                                 final=FINAL)  # fmt: skip
        downloads = [t.path for t in files.downloads()]
    expect_request_id(entries, REQUEST_ID, "FirmwareStatusNotification")
    expect_in_order(entries, ["Downloading", "Downloaded", "SignatureVerified", "Installing",
                              "Installed"], "FirmwareStatusNotification")  # fmt: skip
    check(FIRMWARE_PATH in downloads, f"the image fetched from {FIRMWARE_PATH}",
          f"requests for {downloads or 'nothing'}")  # fmt: skip
    installing = next(e for e in entries if e.payload.get("status") == "Installing")
    boot = expect_call(rig.log, "BootNotification", since=installing.seq, within=REBOOT_S,
                       what="BootNotification after installing the firmware")  # fmt: skip
    reason = boot.payload.get("reason")
    check(reason == "FirmwareUpdate", "BootNotification reason FirmwareUpdate", f"{reason!r}")
    expect_call(rig.log, "StatusNotification", since=boot.seq, within=ANSWER_S,
                what="StatusNotification after the reboot")  # fmt: skip
    measurements.record("installed_after_request",
                        Latency.between(exchange.request.mono, entries[-1].mono))  # fmt: skip


@case("TC_L_07_CS", clause("L01 Secure Firmware Update", "TC_L_07_CS"),
      "Secure Firmware Update - DownloadFailed")  # fmt: skip
def test_tc_l_07_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a firmware that cannot be downloaded is reported so, and nothing is installed.

    Steps: UpdateFirmware (requestId 5101, retries 0) whose firmware.location is an HTTP URL
    on the bench where nothing listens.
    Expected:
    1. UpdateFirmwareResponse Accepted (L01).
    2. FirmwareStatusNotification Downloading, then DownloadFailed, with requestId 5101
       (L01.FR.01); no Downloaded, Installing or Installed.
    """
    boot_accepted(rig)
    cert, signature = signed(FIRMWARE)
    with file_server(rig.csms) as files:
        mark = rig.mark()
        request = {"requestId": REQUEST_ID, "retries": 0, "firmware": {
            "location": files.closed_url(FIRMWARE_PATH), "retrieveDateTime": now_iso(),
            "signingCertificate": cert, "signature": signature}}  # fmt: skip
        expect_status(rig.call("UpdateFirmware", request), "Accepted")
        entries = statuses_until(rig, "FirmwareStatusNotification", mark, within=UPDATE_S,
                                 final=FINAL)  # fmt: skip
    expect_request_id(entries, REQUEST_ID, "FirmwareStatusNotification")
    got = [e.payload.get("status") for e in entries]
    check(got[-1] == "DownloadFailed", "FirmwareStatusNotification DownloadFailed",
          " -> ".join(map(str, got)))  # fmt: skip
    expect_in_order(entries, ["Downloading", "DownloadFailed"], "FirmwareStatusNotification")
    wrong = [s for s in got if s in ("Downloaded", "Installing", "Installed")]
    check(not wrong, "no Downloaded, Installing or Installed for a failed download",
          " -> ".join(map(str, got)))  # fmt: skip
