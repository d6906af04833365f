"""The reference OCPP 2.0.1 charging station: one EVSE, one connector, named faults.

It is the DUT of the ``ocpp201.cp`` suite when the profile says ``simulated``, and what
``vgi-bench sim ocpp201-cp`` runs. Conformant by default; each fault in
:data:`CP201_FAULTS` breaks one behaviour so every case can be shown to catch it.
Configuration: TxStartPoint/TxStopPoint ``PowerPathClosed`` (a transaction runs while
the EV is connected and authorized), ``AuthorizeRemoteStart=false``, a local authorization
list (``LocalAuthListCtrlr.Enabled``, ``AuthCtrlr.LocalPreAuthorize`` false until set), one
reservation at a time. Certificates (A02, M03-M05): a new P-256 key and CSR for each
SignChargingStationCertificate trigger, the CertificateSigned chain checked against that key
(and its profile's ca_cert or an installed CSMSRootCertificate), a store of installed CA
certificates reported as RFC 6960 hash data. Firmware is fetched and logs are uploaded
over HTTP(S) for real (``urllib``), so a case can tell a failed transfer from a pretended one;
a signed firmware's signature is checked against its signingCertificate (the certificate's
own trust is not), and only an image that starts with :data:`FIRMWARE_MAGIC` installs.
"""

from __future__ import annotations

import asyncio
import itertools
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, ClassVar

from ocpp.routing import after, on
from ocpp.v201.enums import Action

from vgi_bench.ocpp.csms_handlers import now_iso
from vgi_bench.reference.ocpp.cert_store import (
    CertificateHandlers,
    CertificateStore,
    certificate_faults,
    firmware_signature_ok,
    security_event,
)
from vgi_bench.reference.ocpp.cp_base import PASSWORD_FAULTS, TLS_FAULTS, ChargePointBase, CpOptions

CP201_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "invalid_boot_payload": "sends BootNotification with a 30-character chargingStation.model "
        "(the schema allows 20)",
        "sends_before_boot_accepted": "sends StatusNotification while its BootNotification is "
        "Pending or Rejected",
        "retries_boot_early": "retries a Pending/Rejected BootNotification after 0.5 s, not after "
        "the interval",
        "ignores_heartbeat_interval": "sends Heartbeat every 10 s whatever interval the CSMS set",
        "skips_status_notification": "sends no StatusNotification when a connector changes state",
        "accepts_unknown_idtoken": "starts charging for an idToken the CSMS answered Invalid",
        "wrong_transaction_id": "ends a transaction with a TransactionEvent carrying another "
        "transactionId",
        "no_meter_values": "sends Updated TransactionEvents without meterValue",
        "ignores_remote_start": "answers RequestStartTransaction Accepted but starts nothing",
        "ignores_remote_stop": "answers RequestStopTransaction Accepted but keeps charging",
        "accepts_unknown_stop": "answers RequestStopTransaction for an unknown transactionId "
        "with Accepted",
        "reset_without_reboot": "answers Reset Accepted but never reboots",
        "ignores_change_availability": "answers ChangeAvailability Accepted but the connector "
        "stays as it was",
        "unknown_component_accepted": "answers GetVariables for an unknown component with "
        "Accepted and an empty value",
        "get_variables_no_value": "answers GetVariables Accepted without an attributeValue",
        "seq_no_gap": "skips a seqNo between the TransactionEvents of a transaction",
        "set_variable_not_stored": "answers SetVariables Accepted but keeps the old value",
        "accepts_readonly_write": "accepts SetVariables on a ReadOnly variable",
        "exceeds_charging_profile_limit": "keeps charging at 32 A whatever limit a charging "
        "profile sets",
        "unknown_action_not_supported": "answers an unknown action with NotSupported instead of "
        "NotImplemented (the ocpp library's habit)",
        "drops_malformed_frames": "drops unparseable frames silently instead of answering "
        "with a CALLERROR",
        "accepts_invalid_payload": "handles a schema-invalid CALL as if it were valid instead of "
        "answering with a CALLERROR",
        **TLS_FAULTS,
        **PASSWORD_FAULTS,
        "ignores_network_profile": "A05: accepts SetNetworkProfile and the new "
        "NetworkConfigurationPriority but reconnects after the Reset with its old profile",
        "accepts_security_downgrade": "A05: accepts a network profile with a lower security "
        "profile than the one it connects with",
        "no_basic_auth": "security profile 1/2: connects without the Basic Authorization header",
        "accepts_any_server_cert": "security profile 2/3: connects to a CSMS whose certificate "
        "no trusted CA signed",
        "no_client_cert": "security profile 3: connects without its client certificate",
        "firmware_status_skipped": "updates firmware without reporting Downloaded",
        "firmware_fake_download": "reports Downloaded and installs although the firmware "
        "could not be fetched",
        "log_request_id_mismatch": "reports the log upload with another requestId",
        "log_upload_skipped": "reports a log Uploaded without uploading anything",
        "local_list_version_stale": "accepts SendLocalList but reports version 0",
        "ignores_local_list": "sends Authorize for an idToken Accepted in its local list "
        "although LocalPreAuthorize is true",
        "accepts_stale_differential": "accepts a Differential SendLocalList whose version is not "
        "newer than its list",
        "ignores_reservation": "answers ReserveNow Accepted but keeps no reservation",
        "reservation_not_enforced": "lets another idToken charge on its reserved EVSE",
        "cancel_reservation_ignored": "answers CancelReservation Accepted but stays Reserved",
        "reservation_never_expires": "keeps a reservation past its expiryDateTime",
        "unlock_fails": "answers UnlockConnector UnlockFailed on an idle connector",
        "unlocks_during_transaction": "answers UnlockConnector Unlocked during a transaction "
        "and ends it",
        "trigger_not_sent": "answers TriggerMessage Accepted but sends nothing",
        "notify_report_missing": "answers GetBaseReport Accepted but sends no NotifyReport",
        "accepts_unknown_reservation": "answers CancelReservation for an unknown reservationId "
        "with Accepted",
        "full_inventory_partial": "leaves ReadOnly variables out of a FullInventory report",
        **certificate_faults("SignChargingStationCertificate", "InvalidChargingStationCertificate"),
        "accepts_invalid_firmware_signature": "reports SignatureVerified and installs a firmware "
        "whose signature does not verify",
        "invalid_signature_not_reported": "reports a firmware signature that does not verify "
        "without a SecurityEventNotification InvalidFirmwareSignature",
        "installs_unusable_image": "reports Installed (and reboots) for a firmware image it "
        "cannot install",
        "starts_blocked_local_token": "starts charging, without asking the CSMS, for an idToken "
        "its local list holds as Blocked",
        "sign_certificate_retry_loop": "sends SignCertificateRequest again every 0.5 s after "
        "the CSMS answered it Rejected",
        "deletes_station_certificate": "answers DeleteCertificate for its own "
        "ChargingStationCertificate with Accepted and drops it",
        "reserves_unavailable_evse": "answers ReserveNow Accepted for an EVSE the CSMS set "
        "Inoperative",
    }
)

VOLTS = 230.0
PHASES = 3
#: What the images this station can install start with (any other installs with
#: InstallationFailed).
FIRMWARE_MAGIC = b"VGI-BENCH firmware"


@dataclass
class Variable:
    """One device-model variable (attribute type Actual only)."""

    value: str
    mutability: str = "ReadWrite"  # ReadOnly, WriteOnly, ReadWrite
    data_type: str = "string"  # integer, boolean, string, SequenceList, ...
    max_length: int | None = None  # strings: 16 <= len <= max_length (A01 BasicAuthPassword)

    def accepts(self, value: str) -> bool:
        if self.data_type == "integer":
            return value.lstrip("-").isdigit()
        if self.data_type == "boolean":
            return value in ("true", "false")
        if self.data_type == "SequenceList":  # NetworkConfigurationPriority: slot numbers
            return all(part.strip().isdigit() for part in value.split(","))
        if self.max_length is not None:  # SecurityCtrlr.BasicAuthPassword (A01)
            return 16 <= len(value) <= self.max_length
        return True


def device_model() -> dict[tuple[str, str, str | None], Variable]:
    """The station's variables: (component, variable, instance) -> Variable."""
    return {
        ("OCPPCommCtrlr", "HeartbeatInterval", None): Variable("10", data_type="integer"),
        ("OCPPCommCtrlr", "MessageTimeout", "Default"): Variable("30", data_type="integer"),
        ("SampledDataCtrlr", "TxUpdatedInterval", None): Variable("1", data_type="integer"),
        ("SampledDataCtrlr", "TxUpdatedMeasurands", None): Variable(
            "Energy.Active.Import.Register,Current.Import"
        ),
        ("TxCtrlr", "TxStartPoint", None): Variable("PowerPathClosed"),
        ("TxCtrlr", "TxStopPoint", None): Variable("PowerPathClosed"),
        ("TxCtrlr", "EVConnectionTimeOut", None): Variable("10", data_type="integer"),
        ("AuthCtrlr", "AuthorizeRemoteStart", None): Variable("false", data_type="boolean"),
        ("AuthCtrlr", "LocalPreAuthorize", None): Variable("false", data_type="boolean"),
        ("LocalAuthListCtrlr", "Enabled", None): Variable("true", data_type="boolean"),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"): Variable(
            "20", "ReadOnly", "integer"
        ),
        ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"): Variable(
            "20", "ReadOnly", "integer"
        ),
        ("ChargingStation", "Model", None): Variable("VGI-REF-201", "ReadOnly"),
        ("SecurityCtrlr", "OrganizationName", None): Variable("vgi-bench"),  # O of its CSRs
        # A05/B09: the network profile slots it tries, in order (see ``network_slots``)
        ("OCPPCommCtrlr", "NetworkConfigurationPriority", None): Variable(
            "1", data_type="SequenceList"
        ),
        # A01: the Basic auth password (set from the options; 16-40 characters)
        ("SecurityCtrlr", "BasicAuthPassword", None): Variable("", "WriteOnly", max_length=40),
    }


@dataclass
class Transaction:
    id: str
    token: str
    started: float  # loop time
    remote_start_id: int | None = None
    energy_wh: float = 0.0
    seq: itertools.count = field(default_factory=itertools.count)


@dataclass
class Reservation:
    id: int
    token: str
    expires: datetime


@dataclass
class ChargingProfile:
    id: int
    purpose: str
    limit_a: float
    transaction_id: str | None = None


class ReferenceChargePoint201(CertificateHandlers, ChargePointBase):
    """A conformant OCPP 2.0.1 charging station (EVSE 1, connector 1) with named faults."""

    version: ClassVar[str] = "2.0.1"
    FAULTS: ClassVar[Mapping[str, str]] = CP201_FAULTS
    CERTIFICATE_EVENT: ClassVar[str] = "InvalidChargingStationCertificate"

    def __init__(self, options: CpOptions, faults: tuple[str, ...] = (), message_log=None) -> None:
        super().__init__(options, faults, message_log)
        self.variables = device_model()
        self.variables[("SecurityCtrlr", "BasicAuthPassword", None)].value = self.password or ""
        self.operative = True  # survives reboots (G03.FR.06 ... persists)
        self.plugged = False
        self.authorized: str | None = None
        self.remote_start_id: int | None = None
        self.transaction: Transaction | None = None
        self.profiles: dict[int, ChargingProfile] = {}
        self.local_list: dict[str, str] = {}  # idToken -> status (D01; survives reboots)
        self.local_version = 0
        self.reservation: Reservation | None = None
        #: (status, requestId) of a firmware update / log upload under way (None: Idle).
        self.firmware_busy: tuple[str, int] | None = None
        self.log_busy: tuple[str, int] | None = None
        #: Called with the station's power limit in kW (None: no limit) whenever its
        #: charging profiles change: the cross-layer hook to the charger's power stage
        #: (``ReferenceCharger.set_power_limit``, so the limit reaches the vehicle's CCS).
        self.on_power_limit: Callable[[float | None], None] | None = None
        #: Installed CA certificates (M05), the key of the last CSR (A02) and the chain that
        #: CertificateSigned brought; its own certificate is never deleted (M04.FR.06).
        self.certs = CertificateStore(
            self.has, root_type="CSMSRootCertificate", ca_cert=options.security.ca_cert,
            keeps_own=True,
        )  # fmt: skip
        self.heartbeat_s = options.default_heartbeat_s
        #: Network connection profiles (B09) by configuration slot: (url, security profile);
        #: slot 1 is the options' own. The one NetworkConfigurationPriority names first is
        #: used from the next reboot (A05).
        self.network_slots = {1: (options.url, options.security.profile)}
        self._meter_task: asyncio.Task[Any] | None = None
        self._status_sent: str | None = None

    # ------------------------------------------------------------------ boot (B01-B03)

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
                await self.call("StatusNotification", self._status_payload("Available"))
            wait = 0.5 if self.has("retries_boot_early") else (interval or 5.0)
            await asyncio.sleep(wait)
        self.boot_reason = "PowerUp"
        if interval > 0:
            self.heartbeat_s = interval
            self.variables[("OCPPCommCtrlr", "HeartbeatInterval", None)].value = str(int(interval))
        self.accepted.set()
        self._status_sent = None
        await self.report_status(force=True)
        self.spawn(self._heartbeats())
        if self.transaction is not None:
            self._start_meter()
        if self.reservation is not None and not self.has("reservation_never_expires"):
            self.spawn(self._expire(self.reservation))

    def _boot_payload(self) -> dict[str, Any]:
        model = "VGI-REF-201-" + "X" * 18 if self.has("invalid_boot_payload") else "VGI-REF-201"
        return {
            "reason": self.boot_reason,
            "chargingStation": {
                "model": model, "vendorName": "vgi-bench", "serialNumber": "SIM-201",
                "firmwareVersion": "built-in",
            },
        }  # fmt: skip

    async def _heartbeats(self) -> None:
        while True:
            wait = 10.0 if self.has("ignores_heartbeat_interval") else self.heartbeat_s
            await asyncio.sleep(wait)
            await self.call("Heartbeat", {})

    # ------------------------------------------------------------------ status (G01, G03)

    def connector_status(self) -> str:
        if not self.operative and self.transaction is None:
            return "Unavailable"
        if self.plugged or self.transaction:
            return "Occupied"
        return "Reserved" if self.reservation is not None else "Available"

    def _status_payload(self, status: str) -> dict[str, Any]:
        return {"timestamp": now_iso(), "connectorStatus": status, "evseId": 1, "connectorId": 1}

    async def report_status(self, *, force: bool = False) -> None:
        status = self.connector_status()
        if not self.accepted.is_set() or (status == self._status_sent and not force):
            return
        if self.has("skips_status_notification") and not force:
            return
        self._status_sent = status
        await self.call("StatusNotification", self._status_payload(status))

    # ------------------------------------------------------------------ operator actions

    async def plug_in(self) -> None:
        self.plugged = True
        await self.report_status()
        await self._maybe_start("CablePluggedIn")

    async def unplug(self) -> None:
        self.plugged = False
        if self.transaction is not None:
            await self._end("EVCommunicationLost", "EVDisconnected")
        self.authorized = None
        await self.report_status()

    async def present(self, token: str) -> None:
        """An idToken at the reader: start (after Authorize) or stop a transaction."""
        tx = self.transaction
        if tx is not None and token == tx.token:
            await self._end("StopAuthorized", "Local")
            return
        res = self.reservation
        if res is not None and res.token != token and not self.has("reservation_not_enforced"):
            return  # H01: the EVSE is reserved for another idToken
        if self._locally_authorized(token):
            self.authorized = token  # C14: LocalPreAuthorize, no AuthorizeRequest first
            await self._maybe_start("Authorized")
            return
        exchange = await self.call("Authorize", {"idToken": self._token(token)})
        status = exchange.payload.get("idTokenInfo", {}).get("status") if exchange else None
        if status == "Accepted" or self.has("accepts_unknown_idtoken"):
            self.authorized = token
            await self._maybe_start("Authorized")

    def _flag(self, component: str, variable: str) -> bool:
        return self.variables[(component, variable, None)].value == "true"

    def _locally_authorized(self, token: str) -> bool:
        """Accepted in the local list, and LocalPreAuthorize says to start on that alone."""
        if self.has("ignores_local_list") or not self._flag("LocalAuthListCtrlr", "Enabled"):
            return False
        wanted = {"Accepted"}
        if self.has("starts_blocked_local_token"):
            wanted.add("Blocked")
        # C14.FR.03: a listed idToken in another status is asked of the CSMS (Authorize)
        return self._flag("AuthCtrlr", "LocalPreAuthorize") and (
            self.local_list.get(token) in wanted
        )

    @staticmethod
    def _token(token: str) -> dict[str, str]:
        return {"idToken": token, "type": "ISO14443"}

    # ------------------------------------------------------------------ transactions (E, F, J)

    async def _maybe_start(self, trigger: str) -> None:
        if self.transaction is not None or not (self.plugged and self.authorized):
            return
        if not self.operative:
            return
        tx = Transaction(
            str(uuid.uuid4()), self.authorized, asyncio.get_running_loop().time(),
            remote_start_id=self.remote_start_id,
        )  # fmt: skip
        self.transaction = tx
        self.remote_start_id = None
        payload = self._event("Started", trigger, tx, context="Transaction.Begin")
        payload["idToken"] = self._token(tx.token)
        res = self.reservation
        if res is not None and res.token == tx.token:
            payload["reservationId"] = res.id  # H01: the reservation is used
            self.reservation = None
        if tx.remote_start_id is not None:
            payload["transactionInfo"]["remoteStartId"] = tx.remote_start_id
        await self.call("TransactionEvent", payload)
        self._start_meter()

    def _event(
        self, event: str, trigger: str, tx: Transaction, *, context: str | None = None,
        charging: str = "Charging", stopped: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        info: dict[str, Any] = {"transactionId": tx.id, "chargingState": charging}
        if stopped:
            info["stoppedReason"] = stopped
        payload: dict[str, Any] = {
            "eventType": event, "timestamp": now_iso(), "triggerReason": trigger,
            "seqNo": self._seq_no(tx), "transactionInfo": info, "evse": {"id": 1, "connectorId": 1},
        }  # fmt: skip
        if context is not None and not (event == "Updated" and self.has("no_meter_values")):
            payload["meterValue"] = [self._meter_value(tx, context)]
        return payload

    def _seq_no(self, tx: Transaction) -> int:
        seq_no = next(tx.seq)
        if self.has("seq_no_gap") and seq_no == 1:
            seq_no = next(tx.seq)
        return seq_no

    def current_a(self) -> float:
        limits = [p.limit_a for p in self.profiles.values()]
        if self.has("exceeds_charging_profile_limit") or not limits:
            return self.options.max_current_a
        return min(self.options.max_current_a, *limits)

    def _meter_value(self, tx: Transaction, context: str) -> dict[str, Any]:
        now = asyncio.get_running_loop().time()
        current = self.current_a() if self.transaction is tx else 0.0
        tx.energy_wh = round((now - tx.started) * VOLTS * PHASES * current / 3600.0, 1)
        return {
            "timestamp": now_iso(),
            "sampledValue": [
                {"value": tx.energy_wh, "context": context,
                 "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
                {"value": current, "context": context, "measurand": "Current.Import",
                 "unitOfMeasure": {"unit": "A"}},
            ],
        }  # fmt: skip

    def _start_meter(self) -> None:
        if self._meter_task is None or self._meter_task.done():
            self._meter_task = self.spawn(self._meter_loop())

    async def _meter_loop(self) -> None:
        key = ("SampledDataCtrlr", "TxUpdatedInterval", None)
        while self.transaction is not None:
            await asyncio.sleep(max(0.2, float(self.variables[key].value)))
            tx = self.transaction
            if tx is None:
                return
            await self.call(
                "TransactionEvent",
                self._event("Updated", "MeterValuePeriodic", tx, context="Sample.Periodic"),
            )

    async def _end(self, trigger: str, reason: str) -> None:
        tx = self.transaction
        if tx is None:
            return
        payload = self._event(
            "Ended", trigger, tx, context="Transaction.End", charging="EVConnected"
            if self.plugged else "Idle", stopped=reason,
        )  # fmt: skip
        self.transaction = None
        self.authorized = None
        if self.has("wrong_transaction_id"):
            payload["transactionInfo"]["transactionId"] = str(uuid.uuid4())
        if trigger == "StopAuthorized":
            payload["idToken"] = self._token(tx.token)
        for pid in [p.id for p in self.profiles.values() if p.transaction_id == tx.id]:
            del self.profiles[pid]
        await self.call("TransactionEvent", payload)
        await self.report_status()

    # ------------------------------------------------------------------ CSMS-initiated

    @on(Action.request_start_transaction)
    async def on_request_start(
        self, id_token: dict, remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> dict[str, Any]:
        if self.transaction is not None or not self.operative or evse_id not in (None, 1):
            return {"status": "Rejected"}
        res = self.reservation
        if res is not None and res.token != id_token["id_token"]:
            return {"status": "Rejected"}  # H01: reserved for another idToken
        return {"status": "Accepted"}

    @after(Action.request_start_transaction)
    async def after_request_start(
        self, id_token: dict, remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> None:
        if self.has("ignores_remote_start") or self.transaction is not None:
            return
        if not self.operative or evse_id not in (None, 1):
            return
        self.authorized = id_token["id_token"]
        self.remote_start_id = remote_start_id
        await self._maybe_start("RemoteStart")

    @on(Action.request_stop_transaction)
    async def on_request_stop(self, transaction_id: str, **_: Any) -> dict[str, Any]:
        tx = self.transaction
        known = tx is not None and tx.id == transaction_id
        accepted = known or self.has("accepts_unknown_stop")
        return {"status": "Accepted" if accepted else "Rejected"}

    @after(Action.request_stop_transaction)
    async def after_request_stop(self, transaction_id: str, **_: Any) -> None:
        tx = self.transaction
        if tx is None or tx.id != transaction_id or self.has("ignores_remote_stop"):
            return
        await self._end("RemoteStop", "Remote")

    @on(Action.reset)
    async def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> dict[str, Any]:
        if evse_id is not None:
            return {"status": "Rejected"}  # resetting one EVSE is not supported (C-13 absent)
        if type == "OnIdle" and self.transaction is not None:
            return {"status": "Scheduled"}
        return {"status": "Accepted"}

    @after(Action.reset)
    async def after_reset(self, type: str, evse_id: int | None = None, **_: Any) -> None:
        if evse_id is not None or self.has("reset_without_reboot"):
            return
        if self.transaction is not None:
            if type == "OnIdle":
                return  # answered Scheduled; the reset after the transaction is not modelled
            await self._end("ResetCommand", "ImmediateReset")
        await asyncio.sleep(0.1)
        await self.reboot("RemoteReset")

    async def before_reboot(self) -> None:
        self.authorized = None  # the cable stays plugged and availability persists
        if self.has("ignores_network_profile"):
            return
        priority = self.variables[("OCPPCommCtrlr", "NetworkConfigurationPriority", None)].value
        slots = [int(p) for p in priority.split(",") if p.strip().isdigit()]
        for slot in slots:
            if slot in self.network_slots:
                self.url, profile = self.network_slots[slot]
                self.security = self.security.with_(profile=profile)
                return

    @on(Action.set_network_profile)
    async def on_set_network_profile(
        self, configuration_slot: int, connection_data: dict, **_: Any
    ) -> dict[str, Any]:
        """B09/A05: store a profile; never one below the security profile in use (unless
        ``accepts_security_downgrade``), nor TLS without a CA to trust or profile 3 without
        its own certificate."""
        profile = int(connection_data["security_profile"])
        own = self.options.security
        if profile < self.security.profile and not self.has("accepts_security_downgrade"):
            return {"status": "Rejected"}
        if (profile >= 2 and not own.ca_cert) or (profile >= 3 and not (own.cert and own.key)):
            return {"status": "Rejected"}
        scheme = "wss" if profile >= 2 else "ws"
        base = str(connection_data["ocpp_csms_url"]).rstrip("/")
        if not base.startswith(f"{scheme}://"):
            return {"status": "Rejected"}
        url = f"{base}/{self.options.charge_point_id}"
        self.network_slots[int(configuration_slot)] = (url, profile)
        return {"status": "Accepted"}

    @on(Action.change_availability)
    async def on_change_availability(
        self, operational_status: str, evse: dict | None = None, **_: Any
    ) -> dict[str, Any]:
        if evse is not None and (evse.get("id") != 1 or evse.get("connector_id") not in (None, 1)):
            return {"status": "Rejected"}
        if operational_status == "Inoperative" and self.transaction is not None:
            return {"status": "Scheduled"}
        return {"status": "Accepted"}

    @after(Action.change_availability)
    async def after_change_availability(self, operational_status: str, **_: Any) -> None:
        if self.has("ignores_change_availability") or self.transaction is not None:
            return
        self.operative = operational_status == "Operative"
        await self.report_status()

    @on(Action.get_variables)
    async def on_get_variables(self, get_variable_data: list[dict], **_: Any) -> dict[str, Any]:
        return {"getVariableResult": [self._get(item) for item in get_variable_data]}

    def _lookup(self, item: dict) -> tuple[str, Variable | None]:
        component, variable = item["component"], item["variable"]
        key = (component["name"], variable["name"], variable.get("instance"))
        if not any(k[0] == key[0] for k in self.variables):
            return "UnknownComponent", None
        if key not in self.variables:
            return "UnknownVariable", None
        return "Accepted", self.variables[key]

    @staticmethod
    def _echo(item: dict) -> dict[str, Any]:
        component = {"name": item["component"]["name"]}
        variable = {"name": item["variable"]["name"]}
        if item["variable"].get("instance"):
            variable["instance"] = item["variable"]["instance"]
        if item["component"].get("instance"):
            component["instance"] = item["component"]["instance"]
        return {"component": component, "variable": variable}

    def _get(self, item: dict) -> dict[str, Any]:
        status, var = self._lookup(item)
        result = self._echo(item)
        attribute = item.get("attribute_type", "Actual")
        if status == "UnknownComponent" and self.has("unknown_component_accepted"):
            return {**result, "attributeStatus": "Accepted", "attributeValue": ""}
        if var is not None and attribute != "Actual":
            status = "NotSupportedAttributeType"
        if var is not None and var.mutability == "WriteOnly":
            status = "Rejected"
        result["attributeStatus"] = status
        if attribute != "Actual":
            result["attributeType"] = attribute
        if status == "Accepted" and var is not None and not self.has("get_variables_no_value"):
            result["attributeValue"] = var.value
        return result

    @on(Action.set_variables)
    async def on_set_variables(self, set_variable_data: list[dict], **_: Any) -> dict[str, Any]:
        return {"setVariableResult": [self._set(item) for item in set_variable_data]}

    def _set(self, item: dict) -> dict[str, Any]:
        status, var = self._lookup(item)
        attribute = item.get("attribute_type", "Actual")
        value = str(item["attribute_value"])
        if var is not None and attribute != "Actual":
            status = "NotSupportedAttributeType"
        elif var is not None and var.mutability == "ReadOnly":
            status = "Accepted" if self.has("accepts_readonly_write") else "Rejected"
        elif var is not None and not var.accepts(value):
            status = "Rejected"
        elif var is not None and not self.has("set_variable_not_stored"):
            var.value = value
            if item["variable"]["name"] == "HeartbeatInterval":
                self.heartbeat_s = float(value)
        result = {**self._echo(item), "attributeStatus": status}
        if attribute != "Actual":
            result["attributeType"] = attribute
        return result

    @after(Action.set_variables)
    async def after_set_variables(self, set_variable_data: list[dict], **_: Any) -> None:
        """A01: an accepted SecurityCtrlr.BasicAuthPassword is used from the next connection,
        which the station opens at once (:meth:`use_new_password`)."""
        stored = self.variables[("SecurityCtrlr", "BasicAuthPassword", None)].value
        for item in set_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            if key == ("SecurityCtrlr", "BasicAuthPassword") and item["attribute_value"] == stored:
                await self.use_new_password(stored)

    @on(Action.set_charging_profile)
    async def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict, **_: Any
    ) -> dict[str, Any]:
        purpose = charging_profile["charging_profile_purpose"]
        tx_id = charging_profile.get("transaction_id")
        tx = self.transaction
        if evse_id not in (0, 1) or (purpose == "ChargingStationMaxProfile" and evse_id != 0):
            return {"status": "Rejected"}
        if purpose == "TxProfile" and (tx is None or evse_id != 1 or tx_id not in (None, tx.id)):
            return {"status": "Rejected"}
        schedule = charging_profile["charging_schedule"][0]
        limit = float(schedule["charging_schedule_period"][0]["limit"])
        if schedule["charging_rate_unit"] == "W":
            limit = limit / (VOLTS * PHASES)
        pid = int(charging_profile["id"])
        self.profiles[pid] = ChargingProfile(
            pid, purpose, limit, tx.id if purpose == "TxProfile" and tx else None
        )
        self._limit_changed()
        return {"status": "Accepted"}

    def _limit_changed(self) -> None:
        """Tell the power stage (if wired) the limit the profiles now set."""
        if self.on_power_limit is None or self.has("exceeds_charging_profile_limit"):
            return
        limits = [p.limit_a for p in self.profiles.values()]
        self.on_power_limit(min(limits) * VOLTS * PHASES / 1000.0 if limits else None)

    @on(Action.clear_charging_profile)
    async def on_clear_charging_profile(
        self, charging_profile_id: int | None = None, **_: Any
    ) -> dict[str, Any]:
        if charging_profile_id is None:
            found = bool(self.profiles)
            self.profiles.clear()
        else:
            found = self.profiles.pop(charging_profile_id, None) is not None
        self._limit_changed()
        return {"status": "Accepted" if found else "Unknown"}

    @on(Action.trigger_message)
    async def on_trigger_message(self, requested_message: str, **_: Any) -> dict[str, Any]:
        if requested_message in (
            "Heartbeat", "StatusNotification", "MeterValues", "FirmwareStatusNotification",
            "LogStatusNotification", "SignChargingStationCertificate",
        ):  # fmt: skip
            return {"status": "Accepted"}
        if requested_message == "BootNotification":
            return {"status": "Rejected"}  # F06.FR.17: already Accepted
        return {"status": "NotImplemented"}

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, **_: Any) -> None:
        if self.has("trigger_not_sent"):
            return
        if requested_message == "Heartbeat":
            await self.call("Heartbeat", {})
        elif requested_message == "StatusNotification":
            await self.call("StatusNotification", self._status_payload(self.connector_status()))
        elif requested_message == "MeterValues" and self.transaction is not None:
            mv = self._meter_value(self.transaction, "Trigger")
            await self.call("MeterValues", {"evseId": 1, "meterValue": [mv]})
        elif requested_message in ("FirmwareStatusNotification", "LogStatusNotification"):
            busy = self.firmware_busy if requested_message[0] == "F" else self.log_busy
            # F06: Idle (requestId optional) unless an update/upload is under way
            payload = (
                {"status": "Idle"} if busy is None else {"status": busy[0], "requestId": busy[1]}
            )
            await self.call(requested_message, payload)
        elif requested_message == "SignChargingStationCertificate":
            await self._sign_certificate()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **_: Any) -> dict[str, Any]:
        return {"status": "UnknownVendorId"}

    # ------------------------------------------------------------------ unlock (F05)

    @on(Action.unlock_connector)
    async def on_unlock_connector(
        self, evse_id: int, connector_id: int, **_: Any
    ) -> dict[str, Any]:
        if evse_id != 1 or connector_id != 1:
            return {"status": "UnknownConnector"}
        if self.transaction is not None and not self.has("unlocks_during_transaction"):
            return {"status": "OngoingAuthorizedTransaction"}  # F05
        if self.has("unlock_fails"):
            return {"status": "UnlockFailed"}
        return {"status": "Unlocked"}

    @after(Action.unlock_connector)
    async def after_unlock_connector(self, **_: Any) -> None:
        if self.transaction is not None and self.has("unlocks_during_transaction"):
            await self._end("UnlockCommand", "UnlockCommand")

    # ------------------------------------------------------------------ base report (B07)

    @on(Action.get_base_report)
    async def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> dict:
        if report_base == "SummaryInventory":
            return {"status": "NotSupported"}
        return {"status": "Accepted"}

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, report_base: str, **_: Any) -> None:
        if report_base == "SummaryInventory" or self.has("notify_report_missing"):
            return
        items = [
            self._report_item(key, var) for key, var in self.variables.items()
            if var.mutability != "ReadOnly"
            or (report_base == "FullInventory" and not self.has("full_inventory_partial"))
        ]  # fmt: skip
        chunks = [items[i : i + 4] for i in range(0, len(items), 4)]
        generated = now_iso()
        for seq_no, chunk in enumerate(chunks):
            await self.call("NotifyReport", {
                "requestId": request_id, "generatedAt": generated, "seqNo": seq_no,
                "tbc": seq_no < len(chunks) - 1, "reportData": chunk,
            })  # fmt: skip

    @staticmethod
    def _report_item(key: tuple[str, str, str | None], var: Variable) -> dict[str, Any]:
        component, name, instance = key
        attribute = {"type": "Actual", "mutability": var.mutability}
        if var.mutability != "WriteOnly":  # a password is not reported (A01)
            attribute["value"] = var.value
        variable = {"name": name, **({"instance": instance} if instance else {})}
        return {
            "component": {"name": component}, "variable": variable,
            "variableAttribute": [attribute],
            "variableCharacteristics": {"dataType": var.data_type, "supportsMonitoring": False},
        }  # fmt: skip

    # ------------------------------------------------------------------ local list (D01, D02)

    @on(Action.get_local_list_version)
    async def on_get_local_list_version(self, **_: Any) -> dict[str, Any]:
        version = 0 if self.has("local_list_version_stale") else self.local_version
        return {"versionNumber": version}

    @on(Action.send_local_list)
    async def on_send_local_list(
        self, version_number: int, update_type: str,
        local_authorization_list: list[dict] | None = None, **_: Any,
    ) -> dict[str, Any]:  # fmt: skip
        if not self._flag("LocalAuthListCtrlr", "Enabled"):
            return {"status": "Failed"}
        stale = update_type == "Differential" and version_number <= self.local_version
        if stale and not self.has("accepts_stale_differential"):
            return {"status": "VersionMismatch"}
        if update_type == "Full":
            self.local_list.clear()
        for entry in local_authorization_list or []:
            token = entry["id_token"]["id_token"]
            info = entry.get("id_token_info")
            if info is None:
                self.local_list.pop(token, None)  # a Differential entry without info: remove
            else:
                self.local_list[token] = info["status"]
        self.local_version = version_number
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ reservation (H01, H02)

    @on(Action.reserve_now)
    async def on_reserve_now(
        self, expiry_date_time: str, id_token: dict, evse_id: int | None = None, **kw: Any
    ) -> dict[str, Any]:
        res = self.reservation
        if evse_id not in (None, 1):
            return {"status": "Rejected"}
        if not self.operative and not self.has("reserves_unavailable_evse"):
            return {"status": "Unavailable"}  # H01.FR.13
        if self.transaction is not None or self.plugged:
            return {"status": "Occupied"}
        if res is not None and res.id != kw["id"]:
            return {"status": "Occupied"}
        if not self.has("ignores_reservation"):
            expires = datetime.fromisoformat(expiry_date_time.replace("Z", "+00:00"))
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=timezone.utc)
            self.reservation = Reservation(kw["id"], id_token["id_token"], expires)
        return {"status": "Accepted"}

    @after(Action.reserve_now)
    async def after_reserve_now(self, **kw: Any) -> None:
        res = self.reservation
        if res is None or res.id != kw["id"]:
            return
        await self.report_status()
        if not self.has("reservation_never_expires"):
            self.spawn(self._expire(res))

    async def _expire(self, res: Reservation) -> None:
        """H01: at expiryDateTime the reservation ends (ReservationStatusUpdate Expired)."""
        await asyncio.sleep(max(0.0, (res.expires - datetime.now(timezone.utc)).total_seconds()))
        if self.reservation is not res:
            return
        self.reservation = None
        update = {"reservationId": res.id, "reservationUpdateStatus": "Expired"}
        await self.call("ReservationStatusUpdate", update)
        await self.report_status()

    @on(Action.cancel_reservation)
    async def on_cancel_reservation(self, reservation_id: int, **_: Any) -> dict[str, Any]:
        res = self.reservation
        if res is None or res.id != reservation_id:
            return {"status": "Accepted" if self.has("accepts_unknown_reservation") else "Rejected"}
        if not self.has("cancel_reservation_ignored"):
            self.reservation = None
        return {"status": "Accepted"}

    @after(Action.cancel_reservation)
    async def after_cancel_reservation(self, **_: Any) -> None:
        await self.report_status()

    # ------------------------------------------------------------------ firmware (L01)

    @on(Action.update_firmware)
    async def on_update_firmware(self, request_id: int, firmware: dict, **_: Any) -> dict:
        return {"status": "Accepted"}

    @after(Action.update_firmware)
    async def after_update_firmware(self, request_id: int, firmware: dict, **_: Any) -> None:
        """Downloading, Downloaded, SignatureVerified (signed firmware), Installing,
        Installed, then the reboot that activates it (BootNotification FirmwareUpdate)."""
        await self._firmware_status("Downloading", request_id)
        image = await asyncio.to_thread(_fetch, firmware["location"])
        if image is None and not self.has("firmware_fake_download"):
            await self._firmware_status("DownloadFailed", request_id)
            self.firmware_busy = None
            return
        if not self.has("firmware_status_skipped"):
            await self._firmware_status("Downloaded", request_id)
        if firmware.get("signature"):
            if image is not None and not self._signature_ok(image, firmware):
                await self._firmware_status("InvalidSignature", request_id)  # L01.FR.03
                self.firmware_busy = None
                if not self.has("invalid_signature_not_reported"):
                    event = security_event("InvalidFirmwareSignature",
                                           f"firmware of request {request_id}")  # fmt: skip
                    await self.call("SecurityEventNotification", event)
                return
            await self._firmware_status("SignatureVerified", request_id)
        await self._firmware_status("Installing", request_id)
        await asyncio.sleep(0.2)
        unusable = image is not None and not image.startswith(FIRMWARE_MAGIC)
        if unusable and not self.has("installs_unusable_image"):
            await self._firmware_status("InstallationFailed", request_id)
            self.firmware_busy = None
            return
        await self._firmware_status("Installed", request_id)
        self.firmware_busy = None
        await asyncio.sleep(0.1)
        await self.reboot("FirmwareUpdate")

    def _signature_ok(self, image: bytes, firmware: dict) -> bool:
        """Whether firmware.signature verifies over ``image`` with the key of
        firmware.signingCertificate (L01.FR.03); the fault says yes to any signature."""
        if self.has("accepts_invalid_firmware_signature"):
            return True
        return firmware_signature_ok(image, firmware)

    async def _firmware_status(self, status: str, request_id: int) -> None:
        self.firmware_busy = (status, request_id)
        await self.call("FirmwareStatusNotification", {"status": status, "requestId": request_id})

    # ------------------------------------------------------------------ logs (N01)

    @staticmethod
    def _log_name(log_type: str, request_id: int) -> str:
        return f"vgi-ref-201-{log_type}-{request_id}.log"

    @on(Action.get_log)
    async def on_get_log(self, log_type: str, request_id: int, **_: Any) -> dict[str, Any]:
        return {"status": "Accepted", "filename": self._log_name(log_type, request_id)}

    @after(Action.get_log)
    async def after_get_log(self, log: dict, log_type: str, request_id: int, **_: Any) -> None:
        """Uploading, then Uploaded or UploadFailure, each with the request's requestId."""
        reported = request_id + 1 if self.has("log_request_id_mismatch") else request_id
        self.log_busy = ("Uploading", request_id)
        await self.call("LogStatusNotification", {"status": "Uploading", "requestId": reported})
        name = self._log_name(log_type, request_id)
        body = f"{log_type} of VGI-REF-201 at {now_iso()}\n".encode()
        url = log["remote_location"].rstrip("/") + "/" + name
        sent = self.has("log_upload_skipped") or await asyncio.to_thread(_upload, url, body)
        status = "Uploaded" if sent else "UploadFailure"
        self.log_busy = None
        await self.call("LogStatusNotification", {"status": status, "requestId": reported})

    # ------------------------------------------------------------------ certificates (A02, M)

    async def _sign_certificate(self) -> None:
        """A02: a new key pair, and its CSR (CN the station's identity, O the
        SecurityCtrlr.OrganizationName) in a SignCertificateRequest."""
        org = self.variables[("SecurityCtrlr", "OrganizationName", None)].value
        csr = self.certs.new_csr(self.options.charge_point_id, "SIM-201", org)
        payload = {"csr": csr, "certificateType": "ChargingStationCertificate"}
        for _ in range(20 if self.has("sign_certificate_retry_loop") else 1):
            exchange = await self.call("SignCertificate", payload)
            if exchange is None or exchange.payload.get("status") != "Rejected":
                return
            await asyncio.sleep(0.5)
        self.certs.pending_key = None  # Rejected: no CertificateSigned will come for this CSR

    @on(Action.certificate_signed)
    async def on_certificate_signed(self, certificate_chain: str, **_: Any) -> dict[str, Any]:
        """A02.FR.07: a chain not for the CSR's key, or not from a trusted root, is refused."""
        problem = self.certs.certificate_signed(certificate_chain)
        if problem is None:
            return {"status": "Accepted"}
        info = {"reasonCode": "InvalidCertificate", "additionalInfo": problem[:512]}
        return {"status": "Rejected", "statusInfo": info}

    @on(Action.install_certificate)
    async def on_install_certificate(
        self, certificate_type: str, certificate: str, **_: Any
    ) -> dict[str, Any]:
        return {"status": self.certs.install(certificate_type, certificate)}

    @on(Action.get_installed_certificate_ids)
    async def on_get_installed_certificate_ids(
        self, certificate_type: list[str] | None = None, **_: Any
    ) -> dict[str, Any]:
        chain = [
            {"certificateType": t, "certificateHashData": data}
            for t, data in self.certs.installed_ids(certificate_type)
        ]
        if not chain:
            return {"status": "NotFound"}
        return {"status": "Accepted", "certificateHashDataChain": chain}


def _fetch(url: str) -> bytes | None:
    """GET ``url`` (the firmware); None when it cannot be fetched."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.read()
    except (OSError, ValueError):
        return None


def _upload(url: str, body: bytes) -> bool:
    """PUT ``body`` to ``url`` (a log); False when the upload fails."""
    request = urllib.request.Request(url, data=body, method="PUT")
    try:
        with urllib.request.urlopen(request, timeout=3) as response:
            return 200 <= response.status < 300
    except (OSError, ValueError):
        return False
