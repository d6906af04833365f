"""The reference OCPP 1.6J charge point: one connector, named faults.

The DUT of the ``ocpp16.cp`` suite when the profile says ``simulated``, and what
``vgi-bench sim ocpp16-cp`` runs. Conformant by default; each fault in
:data:`CP16_FAULTS` breaks one behaviour. ``AuthorizeRemoteTxRequests`` is false.

Profiles: Core, Firmware Management (downloads firmware over http(s)/ftp, uploads
diagnostics by http(s) PUT or ftp STOR, then reports each step), Local Auth List
Management (used with ``LocalPreAuthorize``), Reservation (connector 1 only), Smart
Charging, Remote Trigger. A socket with a cable lock, so UnlockConnector unlocks.

Security ("Improved security for OCPP 1.6-J"): security profiles 1-3 on the transport
(:meth:`ChargePointBase.transport`), ExtendedTriggerMessage SignChargePointCertificate with
a CSR (CN its charge point id, O its ``CpoName``), CertificateSigned checked against its
key and CAs (a refused one reported with SecurityEventNotification
InvalidChargePointCertificate), InstallCertificate / GetInstalledCertificateIds /
DeleteCertificate of CentralSystemRoot and ManufacturerRoot certificates (hash data as RFC
6960 CertID, :func:`vgi_bench.ocpp.pki.certificate_hash_data`).
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlparse

from ocpp.routing import after, on
from ocpp.v16.enums import Action

from vgi_bench.ocpp.csms_handlers import now_iso
from vgi_bench.reference.ocpp.cert_store import (
    CertificateHandlers,
    CertificateStore,
    certificate_faults,
)
from vgi_bench.reference.ocpp.cp_base import PASSWORD_FAULTS, TLS_FAULTS, ChargePointBase, CpOptions

CP16_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "invalid_boot_payload": "sends BootNotification with a 30-character chargePointModel "
        "(the schema allows 20)",
        "sends_before_boot_accepted": "sends StatusNotification while its BootNotification is "
        "Pending",
        "retries_boot_early": "retries a Pending BootNotification after 0.5 s, not after the "
        "interval",
        "ignores_heartbeat_interval": "sends Heartbeat every 10 s whatever interval was set",
        "skips_status_notification": "sends no StatusNotification when the connector changes state",
        "accepts_unknown_idtag": "starts a transaction for an idTag the Central System answered "
        "Invalid",
        "wrong_transaction_id": "stops a transaction with StopTransaction for another "
        "transactionId",
        "no_meter_values": "sends no MeterValues during a transaction",
        "ignores_remote_start": "answers RemoteStartTransaction Accepted but starts nothing",
        "ignores_remote_stop": "answers RemoteStopTransaction Accepted but keeps charging",
        "accepts_unknown_stop": "answers RemoteStopTransaction for an unknown transactionId "
        "with Accepted",
        "reset_without_reboot": "answers Reset Accepted but never reboots",
        "ignores_change_availability": "answers ChangeAvailability Accepted but the connector "
        "stays as it was",
        "config_missing_core_key": "leaves MeterValueSampleInterval out of GetConfiguration",
        "configuration_not_stored": "answers ChangeConfiguration Accepted but keeps the old value",
        "unknown_key_accepted": "answers ChangeConfiguration of an unknown key with Accepted",
        "accepts_invalid_config_value": "accepts a non-integer MeterValueSampleInterval",
        "exceeds_charging_profile_limit": "keeps charging at 32 A whatever limit a charging "
        "profile sets",
        "unknown_action_not_supported": "answers an unknown action with NotSupported instead of "
        "NotImplemented (the ocpp library's habit)",
        "drops_malformed_frames": "drops unparseable frames silently instead of answering with a "
        "CALLERROR",
        "accepts_invalid_payload": "handles a schema-invalid CALL as if it were valid instead of "
        "answering with a CALLERROR",
        "firmware_status_skipped": "goes from FirmwareStatusNotification Downloading straight to "
        "Installing, never reporting Downloaded",
        "firmware_download_failure_hidden": "reports Downloaded, Installing and Installed when the "
        "firmware download failed",
        "diagnostics_not_uploaded": "reports DiagnosticsStatusNotification Uploaded without "
        "uploading anything",
        "empty_list_version_nonzero": "reports the listVersion of a Full SendLocalList without "
        "entries instead of 0 (empty list)",
        "local_list_version_stale": "keeps the old listVersion after a Differential SendLocalList",
        "accepts_stale_differential": "accepts a Differential SendLocalList whose listVersion is "
        "not above the list's (instead of VersionMismatch)",
        "ignores_local_list": "sends Authorize for an idTag the Local Authorization List accepts "
        "although LocalPreAuthorize is true",
        "ignores_reservation": "answers ReserveNow Accepted but never reserves the connector",
        "reservation_not_enforced": "lets another idTag than the reserved one use a reserved "
        "connector",
        "reserves_occupied_connector": "accepts ReserveNow for a connector with a cable plugged "
        "in (instead of Occupied)",
        "reservation_never_expires": "keeps a connector Reserved after the reservation's "
        "expiryDate",
        "cancel_reservation_ignored": "answers CancelReservation Accepted but the connector stays "
        "Reserved",
        "accepts_unknown_reservation": "answers CancelReservation for an unknown reservationId "
        "with Accepted",
        "trigger_not_sent": "answers TriggerMessage Accepted but never sends the requested message",
        "trigger_unknown_connector_accepted": "accepts a TriggerMessage for a connector it does "
        "not have",
        "unlock_fails": "answers UnlockConnector with UnlockFailed although nothing holds the lock",
        "unlock_keeps_transaction": "unlocks a connector with a running transaction without "
        "stopping the transaction",
        # security (the "Improved security for OCPP 1.6-J" whitepaper)
        **TLS_FAULTS,
        **PASSWORD_FAULTS,
        "no_basic_auth": "security profile 1/2: connects without the Basic Authorization header",
        "accepts_any_server_cert": "security profile 2/3: connects to a Central System whose "
        "certificate no trusted CA signed",
        "no_client_cert": "security profile 3: connects without its client certificate",
        **certificate_faults(
            "ExtendedTriggerMessage SignChargePointCertificate", "InvalidChargePointCertificate"
        ),
    }
)

VOLTS = 230.0
PHASES = 3

SUPPORTED_PROFILES = (
    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
)

#: Configuration keys (OCPP 1.6 §9.1-§9.4): key -> (value, readonly, integer).
CORE_KEYS: Mapping[str, tuple[str, bool, bool]] = MappingProxyType(
    {
        "AuthorizeRemoteTxRequests": ("false", True, False),
        "ClockAlignedDataInterval": ("0", False, True),
        "ConnectionTimeOut": ("10", False, True),
        "GetConfigurationMaxKeys": ("50", True, True),
        "HeartbeatInterval": ("10", False, True),
        "LocalAuthorizeOffline": ("false", False, False),
        "LocalPreAuthorize": ("false", False, False),
        "MeterValuesAlignedData": ("Energy.Active.Import.Register", False, False),
        "MeterValuesSampledData": ("Energy.Active.Import.Register,Current.Import", False, False),
        "MeterValueSampleInterval": ("10", False, True),
        "NumberOfConnectors": ("1", True, True),
        "ResetRetries": ("1", False, True),
        "ConnectorPhaseRotation": ("RST", False, False),
        "StopTransactionOnEVSideDisconnect": ("true", False, False),
        "StopTransactionOnInvalidId": ("true", False, False),
        "StopTxnAlignedData": ("", False, False),
        "StopTxnSampledData": ("", False, False),
        "SupportedFeatureProfiles": (SUPPORTED_PROFILES, True, False),
        "TransactionMessageAttempts": ("3", False, True),
        "TransactionMessageRetryInterval": ("10", False, True),
        "UnlockConnectorOnEVSideDisconnect": ("true", False, False),
        "ChargeProfileMaxStackLevel": ("8", True, True),
        "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True, False),
        "ChargingScheduleMaxPeriods": ("24", True, True),
        "MaxChargingProfilesInstalled": ("8", True, True),
        "LocalAuthListEnabled": ("true", False, False),
        "LocalAuthListMaxLength": ("100", True, True),
        "SendLocalListMaxLength": ("100", True, True),
        "ReserveConnectorZeroSupported": ("false", True, False),
        # security whitepaper: the O of its CSRs; its profile (set from the options)
        "CpoName": ("vgi-bench CPO", False, False),
        "SecurityProfile": ("0", True, True),
        "CertificateStoreMaxLength": ("10", True, True),
    }
)


def authorization_key(value: str) -> str | None:
    """The Basic auth password an AuthorizationKey value carries (None: invalid): the
    security whitepaper sends it hex-encoded, at least 16 bytes (this charge point takes up
    to 40, as 2.0.1's BasicAuthPassword); it reads those bytes as UTF-8 (the bench's
    reading of the whitepaper)."""
    try:
        raw = bytes.fromhex(value)
        return raw.decode("utf-8") if 16 <= len(raw) <= 40 else None
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class Transaction16:
    id: int
    id_tag: str
    started: float
    meter_start: int = 0


@dataclass
class Reservation16:
    id: int
    id_tag: str
    parent_id_tag: str | None = None


#: How long one file transfer (firmware download, diagnostics upload) may take.
TRANSFER_TIMEOUT_S = 5.0


def _download(location: str) -> bytes:
    """GET ``location`` (http, https, ftp); raises OSError when it cannot."""
    with urllib.request.urlopen(location, timeout=TRANSFER_TIMEOUT_S) as answer:
        return answer.read()


def _upload(location: str, name: str, data: bytes) -> None:
    """Put ``data`` as ``name`` into the directory ``location`` (http(s) PUT or ftp STOR)."""
    url = urlparse(location)
    if url.scheme == "ftp":
        with ftplib.FTP() as ftp:
            ftp.connect(url.hostname or "", url.port or 21, timeout=TRANSFER_TIMEOUT_S)
            ftp.login(url.username or "anonymous", url.password or "")
            if url.path.strip("/"):
                ftp.cwd(url.path)
            ftp.storbinary(f"STOR {name}", io.BytesIO(data))
        return
    if url.scheme not in ("http", "https"):
        raise OSError(f"cannot upload to {url.scheme!r}")
    target = location.rstrip("/") + "/" + name
    request = urllib.request.Request(target, data=data, method="PUT")
    with urllib.request.urlopen(request, timeout=TRANSFER_TIMEOUT_S) as answer:
        answer.read()


class ReferenceChargePoint16(CertificateHandlers, ChargePointBase):
    """A conformant OCPP 1.6J charge point (connector 1) with named faults."""

    version: ClassVar[str] = "1.6"
    FAULTS: ClassVar[Mapping[str, str]] = CP16_FAULTS
    CERTIFICATE_EVENT: ClassVar[str] = "InvalidChargePointCertificate"

    def __init__(self, options: CpOptions, faults: tuple[str, ...] = (), message_log=None) -> None:
        super().__init__(options, faults, message_log)
        self.config = {k: v for k, (v, _, _) in CORE_KEYS.items()}
        self.operative = True
        self.plugged = False
        self.finishing = False
        self.pending_remote: str | None = None
        self.transaction: Transaction16 | None = None
        self.limits: dict[int, tuple[float, int | None]] = {}  # profile id -> (A, tx id)
        self.energy_wh = 0.0
        self._status_sent: str | None = None
        self._meter_task: asyncio.Task[Any] | None = None
        self.firmware_version = "built-in"
        self.firmware_status = "Idle"  # what a triggered FirmwareStatusNotification says
        self._installed_pending = False  # Installed is reported after the reboot
        self.diagnostics_status = "Idle"
        self._diagnostics_name = ""
        self.local_list: dict[str, dict[str, Any]] = {}  # idTag -> idTagInfo
        self.local_list_version = 0
        self.reservation: Reservation16 | None = None
        self._reservation_timer: asyncio.TimerHandle | None = None
        self.config["SecurityProfile"] = str(options.security.profile)
        #: CentralSystemRootCertificates anchor the chain CertificateSigned brings.
        self.certs = CertificateStore(
            self.has, root_type="CentralSystemRootCertificate", ca_cert=options.security.ca_cert
        )

    # ------------------------------------------------------------------ boot

    async def on_connected(self) -> None:
        while True:
            exchange = await self.call("BootNotification", self._boot_payload(), validate=False)
            if exchange is None:
                return
            status = exchange.payload.get("status")
            interval = float(exchange.payload.get("interval", 0) or 0)
            if status == "Accepted":
                break
            if self.has("sends_before_boot_accepted"):
                await self.call("StatusNotification", self._status_payload(1, "Available"))
            await asyncio.sleep(0.5 if self.has("retries_boot_early") else (interval or 5.0))
        if interval > 0:
            self.config["HeartbeatInterval"] = str(int(interval))
        self.accepted.set()
        await self.call("StatusNotification", self._status_payload(0, "Available"))
        self._status_sent = None
        await self.report_status(force=True)
        self.spawn(self._heartbeats())
        if self.transaction is not None:
            self._start_meter()
        if self._installed_pending:
            self._installed_pending = False
            await self._firmware_status("Installed")

    def _boot_payload(self) -> dict[str, Any]:
        model = "VGI-REF-16-" + "X" * 19 if self.has("invalid_boot_payload") else "VGI-REF-16"
        return {"chargePointVendor": "vgi-bench", "chargePointModel": model,
                "chargePointSerialNumber": "SIM-16",
                "firmwareVersion": self.firmware_version}  # fmt: skip

    async def _heartbeats(self) -> None:
        while True:
            interval = float(self.config["HeartbeatInterval"])
            await asyncio.sleep(10.0 if self.has("ignores_heartbeat_interval") else interval)
            await self.call("Heartbeat", {})

    # ------------------------------------------------------------------ status

    def connector_status(self) -> str:
        if self.transaction is not None:
            return "Charging"
        if not self.operative:
            return "Unavailable"
        if self.finishing and self.plugged:
            return "Finishing"
        if self.plugged or self.pending_remote:
            return "Preparing"
        return "Reserved" if self.reservation is not None else "Available"

    @staticmethod
    def _status_payload(connector: int, status: str) -> dict[str, Any]:
        return {"connectorId": connector, "errorCode": "NoError", "status": status,
                "timestamp": now_iso()}  # fmt: skip

    async def report_status(self, *, force: bool = False) -> None:
        status = self.connector_status()
        if not self.accepted.is_set() or (status == self._status_sent and not force):
            return
        if self.has("skips_status_notification") and not force:
            return
        self._status_sent = status
        await self.call("StatusNotification", self._status_payload(1, status))

    # ------------------------------------------------------------------ operator actions

    async def plug_in(self) -> None:
        self.plugged = True
        await self.report_status()
        if self.pending_remote:
            await self._start(self.pending_remote)

    async def unplug(self) -> None:
        self.plugged = False
        if self.transaction is not None:
            await self._stop("EVDisconnected")
        self.finishing = False
        await self.report_status()

    async def present(self, id_tag: str) -> None:
        tx = self.transaction
        if tx is not None and id_tag == tx.id_tag:
            await self._stop("Local")
            return
        if not self.may_use(id_tag):
            return  # reserved for another idTag: not even asked (1.6 §5.13)
        status: str | None
        if self._locally_accepted(id_tag):
            status = "Accepted"  # LocalPreAuthorize: no need to wait for the central system
        else:
            exchange = await self.call("Authorize", {"idTag": id_tag})
            status = exchange.payload.get("idTagInfo", {}).get("status") if exchange else None
        if status != "Accepted" and not self.has("accepts_unknown_idtag"):
            return
        if self.plugged:
            await self._start(id_tag)
        else:  # identification first: start once the cable is plugged in
            self.pending_remote = id_tag
            await self.report_status()

    def may_use(self, id_tag: str) -> bool:
        """Whether ``id_tag`` may use the connector: free, or reserved for it (§5.13)."""
        reservation = self.reservation
        if reservation is None or self.has("reservation_not_enforced"):
            return True
        return id_tag == reservation.id_tag or (
            reservation.parent_id_tag is not None
            and self.local_list.get(id_tag, {}).get("parent_id_tag") == reservation.parent_id_tag
        )

    def _locally_accepted(self, id_tag: str) -> bool:
        """LocalPreAuthorize with the idTag Accepted in the Local Authorization List (§3.5)."""
        if self.has("ignores_local_list") or self.config["LocalPreAuthorize"] != "true":
            return False
        if self.config["LocalAuthListEnabled"] != "true":
            return False
        return self.local_list.get(id_tag, {}).get("status") == "Accepted"

    # ------------------------------------------------------------------ transactions

    def meter_wh(self) -> int:
        return int(self.energy_wh)

    async def _start(self, id_tag: str) -> None:
        if self.transaction is not None or not self.operative:
            return
        self.pending_remote = None
        loop_time = asyncio.get_running_loop().time()
        payload = {"connectorId": 1, "idTag": id_tag, "meterStart": self.meter_wh(),
                   "timestamp": now_iso()}  # fmt: skip
        reservation = self.reservation
        if reservation is not None and self.may_use(id_tag):
            if reservation.id_tag == id_tag or reservation.parent_id_tag:
                payload["reservationId"] = reservation.id
            self._clear_reservation()
        exchange = await self.call("StartTransaction", payload)
        if exchange is None or not exchange.ok:
            return
        status = exchange.payload.get("idTagInfo", {}).get("status")
        if status != "Accepted" and not self.has("accepts_unknown_idtag"):
            return  # StopTransactionOnInvalidId would stop it; it never started charging here
        self.transaction = Transaction16(
            int(exchange.payload["transactionId"]), id_tag, loop_time, self.meter_wh()
        )
        await self.report_status()
        self._start_meter()

    def current_a(self) -> float:
        limits = [a for a, _ in self.limits.values()]
        if self.has("exceeds_charging_profile_limit") or not limits:
            return self.options.max_current_a
        return min(self.options.max_current_a, *limits)

    def _start_meter(self) -> None:
        if self._meter_task is None or self._meter_task.done():
            self._meter_task = self.spawn(self._meter_loop())

    async def _meter_loop(self) -> None:
        last = asyncio.get_running_loop().time()
        while self.transaction is not None:
            interval = float(self.config["MeterValueSampleInterval"]) or 10.0
            await asyncio.sleep(max(0.2, interval))
            now = asyncio.get_running_loop().time()
            self.energy_wh += (now - last) * VOLTS * PHASES * self.current_a() / 3600.0
            last = now
            tx = self.transaction
            if tx is None or self.has("no_meter_values"):
                continue
            await self.call("MeterValues", {
                "connectorId": 1, "transactionId": tx.id,
                "meterValue": [{"timestamp": now_iso(), "sampledValue": self._samples()}],
            })  # fmt: skip

    def _samples(self, context: str = "Sample.Periodic") -> list[dict[str, Any]]:
        return [
            {"value": str(self.meter_wh()), "context": context,
             "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": f"{self.current_a():.1f}", "context": context,
             "measurand": "Current.Import", "unit": "A"},
        ]  # fmt: skip

    async def _stop(self, reason: str) -> None:
        tx = self.transaction
        if tx is None:
            return
        self.transaction = None
        self.finishing = True
        tx_id = tx.id + 1 if self.has("wrong_transaction_id") else tx.id
        payload: dict[str, Any] = {"transactionId": tx_id, "meterStop": self.meter_wh(),
                                   "timestamp": now_iso(), "reason": reason}  # fmt: skip
        if reason == "Local":
            payload["idTag"] = tx.id_tag
        self.limits = {k: v for k, v in self.limits.items() if v[1] != tx.id}
        await self.call("StopTransaction", payload)
        await self.report_status()

    # ------------------------------------------------------------------ Central-System-initiated

    @on(Action.remote_start_transaction)
    async def on_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> dict:
        ok = self.transaction is None and self.operative and connector_id in (None, 1)
        return {"status": "Accepted" if ok and self.may_use(id_tag) else "Rejected"}

    @after(Action.remote_start_transaction)
    async def after_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any):
        if self.has("ignores_remote_start") or self.transaction is not None:
            return
        if not self.operative or connector_id not in (None, 1) or not self.may_use(id_tag):
            return
        if self.plugged:
            await self._start(id_tag)
        else:
            self.pending_remote = id_tag
            await self.report_status()

    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, transaction_id: int, **_: Any) -> dict:
        known = self.transaction is not None and self.transaction.id == transaction_id
        ok = known or self.has("accepts_unknown_stop")
        return {"status": "Accepted" if ok else "Rejected"}

    @after(Action.remote_stop_transaction)
    async def after_remote_stop(self, transaction_id: int, **_: Any) -> None:
        tx = self.transaction
        if tx is None or tx.id != transaction_id or self.has("ignores_remote_stop"):
            return
        await self._stop("Remote")

    @on(Action.reset)
    async def on_reset(self, type: str, **_: Any) -> dict:
        return {"status": "Accepted"}

    @after(Action.reset)
    async def after_reset(self, type: str, **_: Any) -> None:
        if self.has("reset_without_reboot"):
            return
        if self.transaction is not None:
            await self._stop("HardReset" if type == "Hard" else "SoftReset")
        await asyncio.sleep(0.1)
        await self.reboot(type)

    @on(Action.change_availability)
    async def on_change_availability(self, connector_id: int, type: str, **_: Any) -> dict:
        if connector_id not in (0, 1):
            return {"status": "Rejected"}
        if type == "Inoperative" and self.transaction is not None:
            return {"status": "Scheduled"}
        return {"status": "Accepted"}

    @after(Action.change_availability)
    async def after_change_availability(self, connector_id: int, type: str, **_: Any) -> None:
        if self.has("ignores_change_availability") or self.transaction is not None:
            return
        self.operative = type == "Operative"
        await self.report_status()

    @on(Action.get_configuration)
    async def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> dict:
        wanted = list(self.config) if not key else key
        hidden = {"MeterValueSampleInterval"} if self.has("config_missing_core_key") else set()
        known = [k for k in wanted if k in self.config and k not in hidden]
        unknown = [k for k in wanted if k not in self.config]
        reply: dict[str, Any] = {"configurationKey": [
            {"key": k, "readonly": CORE_KEYS[k][1], "value": self.config[k]} for k in known
        ]}  # fmt: skip
        if unknown:
            reply["unknownKey"] = unknown
        return reply

    @on(Action.change_configuration)
    async def on_change_configuration(self, key: str, value: str, **_: Any) -> dict:
        if key == "AuthorizationKey":
            return {"status": "Accepted" if authorization_key(value) else "Rejected"}
        if key not in CORE_KEYS:
            return {"status": "Accepted" if self.has("unknown_key_accepted") else "NotSupported"}
        _default, readonly, integer = CORE_KEYS[key]
        valid = not integer or value.isdigit() or self.has("accepts_invalid_config_value")
        if readonly or not valid:
            return {"status": "Rejected"}
        if not self.has("configuration_not_stored"):
            self.config[key] = value
        return {"status": "Accepted"}

    @after(Action.change_configuration)
    async def after_change_configuration(self, key: str, value: str, **_: Any) -> None:
        """Security whitepaper: an accepted AuthorizationKey is the Basic auth password from
        the next connection, which the charge point opens at once (write-only: GetConfiguration
        does not list it)."""
        password = authorization_key(value) if key == "AuthorizationKey" else None
        if password is not None:
            await self.use_new_password(password)

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict, **_: Any
    ) -> dict:
        profile = cs_charging_profiles
        purpose = profile["charging_profile_purpose"]
        tx = self.transaction
        if connector_id not in (0, 1):
            return {"status": "Rejected"}
        if purpose == "TxProfile" and (
            tx is None or profile.get("transaction_id") not in (None, tx.id)
        ):
            return {"status": "Rejected"}
        schedule = profile["charging_schedule"]
        limit = float(schedule["charging_schedule_period"][0]["limit"])
        if schedule["charging_rate_unit"] == "W":
            limit /= VOLTS * PHASES
        owner = tx.id if purpose == "TxProfile" and tx else None
        self.limits[int(profile["charging_profile_id"])] = (limit, owner)
        return {"status": "Accepted"}

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(self, id: int | None = None, **_: Any) -> dict:
        found = self.limits.pop(id, None) is not None if id is not None else bool(self.limits)
        if id is None:
            self.limits.clear()
        return {"status": "Accepted" if found else "Unknown"}

    #: TriggerMessage requests this charge point serves; those of a connector (§5.17).
    TRIGGERS: ClassVar[frozenset[str]] = frozenset({
        "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
        "Heartbeat", "MeterValues", "StatusNotification",
    })  # fmt: skip
    CONNECTOR_TRIGGERS: ClassVar[frozenset[str]] = frozenset({"MeterValues", "StatusNotification"})

    @on(Action.trigger_message)
    async def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> dict:
        if requested_message not in self.TRIGGERS:
            return {"status": "NotImplemented"}
        known = connector_id in (None, 0, 1) or self.has("trigger_unknown_connector_accepted")
        if requested_message in self.CONNECTOR_TRIGGERS and not known:
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    @after(Action.trigger_message)
    async def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        if self.has("trigger_not_sent") or requested_message not in self.TRIGGERS:
            return
        if requested_message in self.CONNECTOR_TRIGGERS and connector_id not in (None, 0, 1):
            return
        if requested_message == "Heartbeat":
            await self.call("Heartbeat", {})
        elif requested_message == "StatusNotification":
            if connector_id in (None, 0):
                await self.call("StatusNotification", self._status_payload(0, "Available"))
            if connector_id in (None, 1):
                status = self.connector_status()
                await self.call("StatusNotification", self._status_payload(1, status))
        elif requested_message == "MeterValues":
            payload: dict[str, Any] = {"connectorId": 1, "meterValue": [
                {"timestamp": now_iso(), "sampledValue": self._samples("Trigger")}]}  # fmt: skip
            if self.transaction is not None:
                payload["transactionId"] = self.transaction.id
            await self.call("MeterValues", payload)
        elif requested_message == "BootNotification":
            await self.call("BootNotification", self._boot_payload())
        elif requested_message == "DiagnosticsStatusNotification":
            await self.call("DiagnosticsStatusNotification", {"status": self.diagnostics_status})
        elif requested_message == "FirmwareStatusNotification":
            await self.call("FirmwareStatusNotification", {"status": self.firmware_status})

    @on(Action.clear_cache)
    async def on_clear_cache(self, **_: Any) -> dict:
        return {"status": "Accepted"}

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **_: Any) -> dict:
        return {"status": "UnknownVendorId"}

    # ------------------------------------------------------------------ firmware, diagnostics

    async def _firmware_status(self, status: str) -> None:
        self.firmware_status = status
        await self.call("FirmwareStatusNotification", {"status": status})
        if status in ("DownloadFailed", "InstallationFailed", "Installed"):
            self.firmware_status = "Idle"

    @on(Action.update_firmware)
    async def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> dict:
        return {}

    @after(Action.update_firmware)
    async def after_update_firmware(
        self, location: str, retrieve_date: str, retries: int | None = None,
        retry_interval: int | None = None, **_: Any,
    ) -> None:  # fmt: skip
        self.spawn(self._update_firmware(location, retrieve_date, retries, retry_interval))

    async def _update_firmware(
        self, location: str, retrieve_date: str, retries: int | None, retry_interval: int | None
    ) -> None:
        """§5.19: download from retrieveDate on, report each step, install, reboot; the
        Installed notification follows the accepted boot of the new firmware."""
        when = datetime.fromisoformat(retrieve_date.replace("Z", "+00:00"))
        wait = (when - datetime.now(when.tzinfo)).total_seconds()
        await asyncio.sleep(min(max(wait, 0.0), 60.0))
        await self._firmware_status("Downloading")
        image = await self._transfer(_download, retries, retry_interval, location)
        if image is None and not self.has("firmware_download_failure_hidden"):
            await self._firmware_status("DownloadFailed")
            return
        if not self.has("firmware_status_skipped"):
            await self._firmware_status("Downloaded")
        while self.transaction is not None:  # §5.19: install once the session has ended
            await asyncio.sleep(0.5)
        await self._firmware_status("Installing")
        await asyncio.sleep(0.2)
        self.firmware_version = PurePosixPath(urlparse(location).path).name[:50] or "updated"
        self._installed_pending = True
        await self.reboot("FirmwareUpdate")

    async def _transfer(self, function: Any, retries: int | None, interval: int | None,
                        *args: Any) -> Any:  # fmt: skip
        """``function(*args)`` in a thread, tried ``retries`` times (at least once); None
        when every attempt failed."""
        for attempt in range(max(1, retries or 1)):
            if attempt:
                await asyncio.sleep(interval if interval is not None else 1.0)
            try:
                result = await asyncio.to_thread(function, *args)
                return True if result is None else result
            except (OSError, ValueError, ftplib.Error):
                continue
        return None

    @on(Action.get_diagnostics)
    async def on_get_diagnostics(self, location: str, **_: Any) -> dict:
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        self._diagnostics_name = f"diagnostics-SIM-16-{stamp}.log"
        return {"fileName": self._diagnostics_name}

    @after(Action.get_diagnostics)
    async def after_get_diagnostics(
        self, location: str, retries: int | None = None, retry_interval: int | None = None,
        **_: Any,
    ) -> None:  # fmt: skip
        self.spawn(self._upload_diagnostics(location, retries, retry_interval))

    async def _upload_diagnostics(
        self, location: str, retries: int | None, retry_interval: int | None
    ) -> None:
        """§5.9: upload one file to the location, reporting Uploading, then the outcome."""
        self.diagnostics_status = "Uploading"
        await self.call("DiagnosticsStatusNotification", {"status": "Uploading"})
        data = "\n".join(f"{e.direction} {e.frame.describe()}" for e in self.log.snapshot(0))
        if self.has("diagnostics_not_uploaded"):
            done: Any = True
        else:
            args = (location, self._diagnostics_name, data.encode() or b"empty\n")
            done = await self._transfer(_upload, retries, retry_interval, *args)
        status = "Uploaded" if done else "UploadFailed"
        self.diagnostics_status = "Idle"
        await self.call("DiagnosticsStatusNotification", {"status": status})

    # ------------------------------------------------------------------ local authorization list

    @on(Action.get_local_list_version)
    async def on_get_local_list_version(self, **_: Any) -> dict:
        enabled = self.config["LocalAuthListEnabled"] == "true"
        return {"listVersion": self.local_list_version if enabled else -1}

    @on(Action.send_local_list)
    async def on_send_local_list(
        self, list_version: int, update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None, **_: Any,
    ) -> dict:  # fmt: skip
        """§5.15: Full replaces the list, Differential adds, updates and removes entries."""
        if self.config["LocalAuthListEnabled"] != "true":
            return {"status": "NotSupported"}
        entries = local_authorization_list or []
        if len(entries) > int(self.config["SendLocalListMaxLength"]):
            return {"status": "Failed"}
        if update_type == "Full":
            self.local_list = {e["id_tag"]: e["id_tag_info"] for e in entries if "id_tag_info" in e}
            empty = not self.local_list and not self.has("empty_list_version_nonzero")
            self.local_list_version = 0 if empty else list_version
            return {"status": "Accepted"}
        if list_version <= self.local_list_version and not self.has("accepts_stale_differential"):
            return {"status": "VersionMismatch"}
        for entry in entries:
            if "id_tag_info" in entry:
                self.local_list[entry["id_tag"]] = entry["id_tag_info"]
            else:
                self.local_list.pop(entry["id_tag"], None)
        if not self.has("local_list_version_stale"):
            self.local_list_version = list_version
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ reservation

    @on(Action.reserve_now)
    async def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int,
        parent_id_tag: str | None = None, **_: Any,
    ) -> dict:  # fmt: skip
        """§5.13: connector 1 only (ReserveConnectorZeroSupported is false)."""
        if connector_id != 1:
            return {"status": "Rejected"}
        if not self.operative:
            return {"status": "Unavailable"}
        held = self.reservation is not None and self.reservation.id != reservation_id
        plugged = self.plugged and not self.has("reserves_occupied_connector")
        if self.transaction is not None or plugged or self.pending_remote or held:
            return {"status": "Occupied"}
        if not self.has("ignores_reservation"):
            self.reservation = Reservation16(reservation_id, id_tag, parent_id_tag)
            when = datetime.fromisoformat(expiry_date.replace("Z", "+00:00"))
            delay = max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
            if self._reservation_timer is not None:
                self._reservation_timer.cancel()
            loop = asyncio.get_running_loop()
            self._reservation_timer = loop.call_later(delay, self._expire, reservation_id)
        return {"status": "Accepted"}

    @after(Action.reserve_now)
    async def after_reserve_now(self, **_: Any) -> None:
        await self.report_status()

    def _expire(self, reservation_id: int) -> None:
        if self.has("reservation_never_expires"):
            return
        if self.reservation is not None and self.reservation.id == reservation_id:
            self._clear_reservation()
            self.spawn(self.report_status())

    def _clear_reservation(self) -> None:
        self.reservation = None
        if self._reservation_timer is not None:
            self._reservation_timer.cancel()
            self._reservation_timer = None

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, reservation_id: int, **_: Any) -> dict:
        known = self.reservation is not None and self.reservation.id == reservation_id
        ok = known or self.has("accepts_unknown_reservation")
        return {"status": "Accepted" if ok else "Rejected"}

    @after(Action.cancel_reservation)
    async def after_cancel_reservation(self, reservation_id: int, **_: Any) -> None:
        reservation = self.reservation
        if reservation is None or reservation.id != reservation_id:
            return
        if not self.has("cancel_reservation_ignored"):
            self._clear_reservation()
            await self.report_status()

    # ------------------------------------------------------------------ unlock

    @on(Action.unlock_connector)
    async def on_unlock_connector(self, connector_id: int, **_: Any) -> dict:
        """§5.18: a socket with a cable lock (no fixed cable)."""
        if connector_id != 1:
            return {"status": "NotSupported"}
        return {"status": "UnlockFailed" if self.has("unlock_fails") else "Unlocked"}

    @after(Action.unlock_connector)
    async def after_unlock_connector(self, connector_id: int, **_: Any) -> None:
        if connector_id != 1 or self.has("unlock_fails"):
            return
        if self.transaction is not None and not self.has("unlock_keeps_transaction"):
            await self._stop("UnlockCommand")

    # ------------------------------------------------------------------ security whitepaper

    #: ExtendedTriggerMessage requests this charge point serves (the others: NotImplemented).
    EXTENDED_TRIGGERS: ClassVar[frozenset[str]] = frozenset({
        "BootNotification", "Heartbeat", "MeterValues", "StatusNotification",
        "SignChargePointCertificate",
    })  # fmt: skip

    @on(Action.extended_trigger_message)
    async def on_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> dict:
        if requested_message not in self.EXTENDED_TRIGGERS:
            return {"status": "NotImplemented"}
        if requested_message == "SignChargePointCertificate":
            return {"status": "Accepted"}
        return await self.on_trigger_message(requested_message, connector_id)

    @after(Action.extended_trigger_message)
    async def after_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        if requested_message not in self.EXTENDED_TRIGGERS:
            return
        if requested_message != "SignChargePointCertificate":
            await self.after_trigger_message(requested_message, connector_id)
        elif not self.has("trigger_not_sent"):
            await self._sign_certificate()

    async def _sign_certificate(self) -> None:
        """A new key pair and its CSR (CN the charge point's identity, O its CpoName) in a
        SignCertificate.req."""
        csr = self.certs.new_csr(self.options.charge_point_id, "SIM-16", self.config["CpoName"])
        await self.call("SignCertificate", {"csr": csr})

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, certificate_chain: str, **_: Any) -> dict:
        refused = self.certs.certificate_signed(certificate_chain) is not None
        return {"status": "Rejected" if refused else "Accepted"}

    @on(Action.install_certificate)
    async def on_install_certificate(self, certificate_type: str, certificate: str,
                                     **_: Any) -> dict:  # fmt: skip
        limit = int(self.config["CertificateStoreMaxLength"])
        return {"status": self.certs.install(certificate_type, certificate, limit)}

    @on(Action.get_installed_certificate_ids)
    async def on_get_installed_certificate_ids(self, certificate_type: str, **_: Any) -> dict:
        found = [data for _, data in self.certs.installed_ids((certificate_type,))]
        if not found:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashData": found}
