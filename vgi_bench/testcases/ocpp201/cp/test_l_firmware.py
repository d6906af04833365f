"""OCPP 2.0.1 charging station, functional block L (firmware management).

The bench serves the firmware image from a small HTTP server on the address the station
reaches the bench at, so a reported download can be checked against a real request. The
signing certificate is a throwaway self-signed one and the signature is over the image: a
real station verifies it only once its issuer is installed as ManufacturerRootCertificate.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_status, is_call
from vgi_bench.ocpp.csms_handlers import now_iso
from vgi_bench.ocpp.file_server import file_server
from vgi_bench.ocpp.log import Entry
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    boot_accepted,
    clause,
    expect_in_order,
    expect_request_id,
    statuses_until,
)
from vgi_bench.timing import Latency

REQUEST_ID = 5101
FIRMWARE_PATH = "/firmware/vgi-ref-201-2.0.bin"
FIRMWARE = b"VGI-BENCH firmware image for OCPP 2.0.1 L01\n" * 64
#: FirmwareStatusNotification statuses that end an update attempt.
FINAL = {"Installed", "DownloadFailed", "InvalidSignature", "InstallVerificationFailed",
         "InstallationFailed", "InvalidCertificate", "RevokedCertificate"}  # fmt: skip
UPDATE_S = 20.0  # download, verification and installation of a small image
REBOOT_S = 30.0
NO_REBOOT_S = 2.0  # how long a failed update is watched for a reboot into new firmware


def signed(image: bytes) -> tuple[str, str]:
    """(signing certificate PEM, base64 signature of ``image``), made for this run. A
    signature of other bytes with that certificate's key is an invalid signature."""
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


def _update(rig: CpRig, location: str, cert: str, signature: str) -> list[Entry]:
    """UpdateFirmware (requestId 5101, retries 0) Accepted; its FirmwareStatusNotifications
    up to the first final status, each with requestId 5101 (L01.FR.01)."""
    mark = rig.mark()
    request = {"requestId": REQUEST_ID, "retries": 0, "firmware": {
        "location": location, "retrieveDateTime": now_iso(),
        "signingCertificate": cert, "signature": signature}}  # fmt: skip
    expect_status(rig.call("UpdateFirmware", request), "Accepted")
    entries = statuses_until(rig, "FirmwareStatusNotification", mark, within=UPDATE_S,
                             final=FINAL)  # fmt: skip
    expect_request_id(entries, REQUEST_ID, "FirmwareStatusNotification")
    return entries


def _nothing_installed(rig: CpRig, entries: list[Entry], why: str) -> None:
    """No Installed among ``entries`` and no reboot into new firmware (BootNotification
    reason FirmwareUpdate) for a while after the last."""
    got = [e.payload.get("status") for e in entries]
    check("Installed" not in got, f"no Installed {why}", " -> ".join(map(str, got)))
    expect_no_call(
        rig.log, is_call("BootNotification", _is_reason("FirmwareUpdate")),
        since=entries[-1].seq, during=NO_REBOOT_S,
        what=f"no reboot into new firmware {why}",
    )  # fmt: skip


def _is_reason(reason: str):
    return lambda e: e.payload.get("reason") == reason


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


@case("TC_L_06_CS", clause("L01 Secure Firmware Update (L01.FR.03); Appendix security events",
                           "TC_L_06_CS"),
      "Secure Firmware Update - InvalidSignature")  # fmt: skip
def test_tc_l_06_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a firmware whose signature does not verify is reported and not installed.

    Steps: UpdateFirmware (requestId 5101, retries 0) for an image on the bench's HTTP
    server, with a signingCertificate and a signature made with that certificate's key over
    other bytes than the image.
    Expected:
    1. UpdateFirmwareResponse Accepted (L01).
    2. FirmwareStatusNotification Downloading, Downloaded, then InvalidSignature, each with
       requestId 5101; no SignatureVerified, Installing or Installed (L01.FR.01, L01.FR.03).
    3. SecurityEventNotification type InvalidFirmwareSignature, before or after the
       InvalidSignature notification (L01.FR.03).
    4. No reboot into new firmware (BootNotification reason FirmwareUpdate).
    """
    boot_accepted(rig)
    cert, signature = signed(FIRMWARE + b"tampered")  # a valid key, the wrong image
    event = "InvalidFirmwareSignature"
    with file_server(rig.csms, {FIRMWARE_PATH: FIRMWARE}) as files:
        mark = rig.mark()
        entries = _update(rig, files.url(FIRMWARE_PATH), cert, signature)
        downloads = [t.path for t in files.downloads()]
    got = [e.payload.get("status") for e in entries]
    check(got[-1] == "InvalidSignature", "FirmwareStatusNotification InvalidSignature",
          " -> ".join(map(str, got)))  # fmt: skip
    expect_in_order(entries, ["Downloading", "Downloaded", "InvalidSignature"],
                    "FirmwareStatusNotification")  # fmt: skip
    wrong = [s for s in got if s in ("SignatureVerified", "Installing")]
    check(not wrong, "no SignatureVerified or Installing for an invalid signature",
          " -> ".join(map(str, got)))  # fmt: skip
    check(FIRMWARE_PATH in downloads, f"the image fetched from {FIRMWARE_PATH}",
          f"requests for {downloads or 'nothing'}")  # fmt: skip
    expect_call(rig.log, "SecurityEventNotification", since=mark, within=ANSWER_S,
                where=lambda e: e.payload.get("type") == event,
                what=f"SecurityEventNotification type {event}")  # fmt: skip
    _nothing_installed(rig, entries, "for an invalid signature")


@case("TC_L_08_CS", clause("L01 Secure Firmware Update", "TC_L_08_CS"),
      "Secure Firmware Update - InstallVerificationFailed or InstallationFailed")  # fmt: skip
def test_tc_l_08_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a correctly signed image the station cannot install is reported so, and the
    station stays on its firmware.

    Steps: UpdateFirmware (requestId 5101, retries 0) for an image of random bytes (no
    station's firmware format) on the bench's HTTP server, correctly signed with the
    signingCertificate's key.
    Expected:
    1. UpdateFirmwareResponse Accepted (L01).
    2. FirmwareStatusNotification Downloading, Downloaded, then InstallVerificationFailed
       or InstallationFailed, each with requestId 5101; no Installed (L01.FR.01).
    3. No reboot into new firmware (BootNotification reason FirmwareUpdate).
    """
    boot_accepted(rig)
    image = b"not a firmware image\n" + os.urandom(4096)
    cert, signature = signed(image)
    with file_server(rig.csms, {FIRMWARE_PATH: image}) as files:
        entries = _update(rig, files.url(FIRMWARE_PATH), cert, signature)
    got = [e.payload.get("status") for e in entries]
    failed = ("InstallVerificationFailed", "InstallationFailed")
    check(got[-1] in failed, "FirmwareStatusNotification InstallVerificationFailed or "
          "InstallationFailed", " -> ".join(map(str, got)))  # fmt: skip
    expect_in_order(entries, ["Downloading", "Downloaded", got[-1]],
                    "FirmwareStatusNotification")  # fmt: skip
    _nothing_installed(rig, entries, "for an image that cannot be installed")
