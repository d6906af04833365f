"""How the bench, playing the CSMS, answers a charge point: one ``@on`` handler per action.

Answers follow a :class:`CsmsScript`, which a case sets to what it tests (Pending boot,
an unknown idToken, ...). Handlers only answer; cases judge from the message log.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ocpp.routing import on
from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201

#: The idToken the reference DUTs present, and the one the bench's CSMS accepts.
VALID_TOKEN = "VGI-TOKEN-0001"
UNKNOWN_TOKEN = "VGI-UNKNOWN-99"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class CsmsScript:
    """What the bench's CSMS answers.

    ``boot`` is consumed one (status, interval) per BootNotification; the last repeats.
    ``tokens`` maps idTokens to their authorization status; others get ``Invalid``.
    """

    boot: list[tuple[str, int]] = field(default_factory=lambda: [("Accepted", 60)])
    tokens: dict[str, str] = field(default_factory=lambda: {VALID_TOKEN: "Accepted"})
    _boots: int = 0

    def next_boot(self) -> tuple[str, int]:
        reply = self.boot[min(self._boots, len(self.boot) - 1)]
        self._boots += 1
        return reply

    def token_status(self, token: str | None) -> str:
        return self.tokens.get(token or "", "Invalid")


class Csms201Handlers:
    """OCPP 2.0.1: the CSMS side of every charging-station-initiated message it handles."""

    def __init__(self, script: CsmsScript) -> None:
        self.script = script

    @on(Action201.boot_notification)
    def on_boot_notification(self, **_: Any) -> dict[str, Any]:
        status, interval = self.script.next_boot()
        return {"currentTime": now_iso(), "interval": interval, "status": status}

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: Any) -> dict[str, Any]:
        return {"currentTime": now_iso()}

    @on(Action201.status_notification)
    def on_status_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {"idTokenInfo": {"status": self.script.token_status(id_token.get("id_token"))}}

    @on(Action201.transaction_event)
    def on_transaction_event(self, id_token: dict | None = None, **_: Any) -> dict[str, Any]:
        if id_token is None:
            return {}
        return {"idTokenInfo": {"status": self.script.token_status(id_token.get("id_token"))}}

    @on(Action201.meter_values)
    def on_meter_values(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.notify_report)
    def on_notify_report(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.notify_event)
    def on_notify_event(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.security_event_notification)
    def on_security_event_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> dict[str, Any]:
        """A02/A03: the CSR is taken; a case signs it and sends CertificateSigned itself."""
        return {"status": "Accepted"}

    @on(Action201.log_status_notification)
    def on_log_status_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.notify_charging_limit)
    def on_notify_charging_limit(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.reservation_status_update)
    def on_reservation_status_update(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.report_charging_profiles)
    def on_report_charging_profiles(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action201.data_transfer)
    def on_data_transfer(self, **_: Any) -> dict[str, Any]:
        return {"status": "UnknownVendorId"}


class Csms16Handlers:
    """OCPP 1.6: the central system side of every charge-point-initiated message."""

    def __init__(self, script: CsmsScript) -> None:
        self.script = script
        self._transaction_ids = itertools.count(1001)

    @on(Action16.boot_notification)
    def on_boot_notification(self, **_: Any) -> dict[str, Any]:
        status, interval = self.script.next_boot()
        return {"currentTime": now_iso(), "interval": interval, "status": status}

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: Any) -> dict[str, Any]:
        return {"currentTime": now_iso()}

    @on(Action16.status_notification)
    def on_status_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action16.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> dict[str, Any]:
        return {"idTagInfo": {"status": self.script.token_status(id_tag)}}

    @on(Action16.start_transaction)
    def on_start_transaction(self, id_tag: str, **_: Any) -> dict[str, Any]:
        return {
            "transactionId": next(self._transaction_ids),
            "idTagInfo": {"status": self.script.token_status(id_tag)},
        }

    @on(Action16.stop_transaction)
    def on_stop_transaction(self, id_tag: str | None = None, **_: Any) -> dict[str, Any]:
        if id_tag is None:
            return {}
        return {"idTagInfo": {"status": self.script.token_status(id_tag)}}

    @on(Action16.meter_values)
    def on_meter_values(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action16.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action16.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action16.security_event_notification)
    def on_security_event_notification(self, **_: Any) -> dict[str, Any]:
        return {}

    @on(Action16.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> dict[str, Any]:
        """Security whitepaper: the CSR is taken; a case signs it and sends CertificateSigned
        itself."""
        return {"status": "Accepted"}

    @on(Action16.data_transfer)
    def on_data_transfer(self, **_: Any) -> dict[str, Any]:
        return {"status": "UnknownVendorId"}


HANDLERS = {"2.0.1": Csms201Handlers, "1.6": Csms16Handlers}
