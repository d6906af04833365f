"""The reference CSMS's operator console: performs :data:`vgi_bench.ocpp.operator.ACTIONS`
in-process by sending the charge point the CALL each action stands for.

Conformant by default; the reference CSMS's operator faults (``CSMS_FAULTS`` in
:mod:`vgi_bench.reference.ocpp.csms_ref`) change what it sends, or how it takes the answer:
``remote_start_wrong_id_token``, ``remote_stop_wrong_transaction``, ``reset_wrong_type``,
``availability_wrong_status``, ``set_variables_wrong_value``, ``charging_profile_wrong_limit``,
``sends_invalid_charging_profile``, ``crashes_on_rejected_profile``,
``clear_profile_wrong_id``, ``tx_profile_wrong_transaction``, ``trigger_wrong_message``,
``unlock_wrong_connector``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from vgi_bench.ocpp.operator import ACTIONS
from vgi_bench.ocpp.session import Exchange, OcppSession

if TYPE_CHECKING:
    from vgi_bench.reference.ocpp.csms_ref import ReferenceCsms

Params = Mapping[str, str]

#: 1.6 names of the 2.0.1 reset types (the operator may say either).
RESET_16 = {"Immediate": "Hard", "OnIdle": "Soft"}
RESET_201 = {v: k for k, v in RESET_16.items()}
OTHER_RESET = {"Immediate": "OnIdle", "OnIdle": "Immediate", "Hard": "Soft", "Soft": "Hard"}
OTHER_AVAILABILITY = {"Operative": "Inoperative", "Inoperative": "Operative"}


def _int(params: Params, name: str) -> int:
    return int(params[name])


class ReferenceOperator:
    """Operator actions at a :class:`~vgi_bench.reference.ocpp.csms_ref.ReferenceCsms`."""

    def __init__(self, csms: ReferenceCsms) -> None:
        self.csms = csms
        self.version = csms.version

    def has(self, fault: str) -> bool:
        return fault in self.csms.faults

    def can(self, action: str) -> bool:
        return action in ACTIONS

    def perform(self, action: str, params: Params) -> None:
        build: Callable[[Params], dict[str, Any]] = getattr(self, f"_{action}")
        payload = build(params)
        call = ACTIONS[action].sends[self.version]
        invalid = action == "set_charging_profile" and self.has("sends_invalid_charging_profile")
        on_answer = self._on_profile_answer if action == "set_charging_profile" else None
        self.csms.send_call(call, payload, validate=not invalid, on_answer=on_answer)

    async def _on_profile_answer(self, session: OcppSession, exchange: Exchange) -> None:
        if exchange.payload.get("status") == "Rejected" and self.has("crashes_on_rejected_profile"):
            await session.close(1011, "internal error")

    # ------------------------------------------------------------------ payloads

    def _remote_start(self, p: Params) -> dict[str, Any]:
        token = p["id_token"] + ("-X" if self.has("remote_start_wrong_id_token") else "")
        if self.version == "1.6":
            return {"connectorId": _int(p, "evse_id"), "idTag": token}
        return {"idToken": {"idToken": token, "type": "ISO14443"}, "evseId": _int(p, "evse_id"),
                "remoteStartId": 4711}  # fmt: skip

    def _remote_stop(self, p: Params) -> dict[str, Any]:
        tx = p["transaction_id"]
        if self.version == "1.6":
            return {"transactionId": int(tx) + (1 if self.has("remote_stop_wrong_transaction")
                                                else 0)}  # fmt: skip
        return {"transactionId": tx + ("-X" if self.has("remote_stop_wrong_transaction") else "")}

    def _reset(self, p: Params) -> dict[str, Any]:
        kind = p["reset_type"]
        kind = (RESET_16 if self.version == "1.6" else RESET_201).get(kind, kind)
        if self.has("reset_wrong_type"):
            kind = OTHER_RESET[kind]
        return {"type": kind}

    def _change_availability(self, p: Params) -> dict[str, Any]:
        status = p["availability"]
        if self.has("availability_wrong_status"):
            status = OTHER_AVAILABILITY[status]
        if self.version == "1.6":
            return {"connectorId": _int(p, "evse_id"), "type": status}
        evse = _int(p, "evse_id")
        return {"operationalStatus": status, **({"evse": {"id": evse}} if evse else {})}

    def _get_variables(self, p: Params) -> dict[str, Any]:
        if self.version == "1.6":
            return {"key": [p["variable"]]}
        return {"getVariableData": [{"component": {"name": p["component"]},
                                     "variable": {"name": p["variable"]}}]}  # fmt: skip

    def _set_variables(self, p: Params) -> dict[str, Any]:
        value = p["value"] + ("0" if self.has("set_variables_wrong_value") else "")
        if self.version == "1.6":
            return {"key": p["variable"], "value": value}
        return {"setVariableData": [{"component": {"name": p["component"]},
                                     "variable": {"name": p["variable"]},
                                     "attributeValue": value}]}  # fmt: skip

    def _set_charging_profile(self, p: Params) -> dict[str, Any]:
        limit = float(p["limit_a"]) * (2 if self.has("charging_profile_wrong_limit") else 1)
        unit = "Amps" if self.has("sends_invalid_charging_profile") else "A"
        periods = [{"startPeriod": 0, "limit": limit}]
        common: dict[str, Any] = {"stackLevel": _int(p, "stack_level"),
                                  "chargingProfilePurpose": p["purpose"],
                                  "chargingProfileKind": "Relative"}  # fmt: skip
        tx = p["transaction_id"]
        if tx:
            wrong = self.has("tx_profile_wrong_transaction")
            if self.version == "1.6":
                common["transactionId"] = int(tx) + (1 if wrong else 0)
            else:
                common["transactionId"] = tx + ("-X" if wrong else "")
        if self.version == "1.6":
            profile = {"chargingProfileId": _int(p, "profile_id"), **common,
                       "chargingSchedule": {"chargingRateUnit": unit,
                                            "chargingSchedulePeriod": periods}}  # fmt: skip
            return {"connectorId": _int(p, "evse_id"), "csChargingProfiles": profile}
        profile = {"id": _int(p, "profile_id"), **common,
                   "chargingSchedule": [{"id": 1, "chargingRateUnit": unit,
                                         "chargingSchedulePeriod": periods}]}  # fmt: skip
        return {"evseId": _int(p, "evse_id"), "chargingProfile": profile}

    def _clear_charging_profile(self, p: Params) -> dict[str, Any]:
        profile_id = _int(p, "profile_id") + (1 if self.has("clear_profile_wrong_id") else 0)
        if self.version == "1.6":
            return {"id": profile_id}
        return {"chargingProfileId": profile_id}

    def _trigger_message(self, p: Params) -> dict[str, Any]:
        message = "Heartbeat" if self.has("trigger_wrong_message") else p["requested_message"]
        if self.version == "1.6":
            return {"requestedMessage": message, "connectorId": _int(p, "evse_id")}
        return {"requestedMessage": message, "evse": {"id": _int(p, "evse_id"), "connectorId": 1}}

    def _unlock_connector(self, p: Params) -> dict[str, Any]:
        evse = _int(p, "evse_id") + (1 if self.has("unlock_wrong_connector") else 0)
        if self.version == "1.6":
            return {"connectorId": evse}
        return {"evseId": evse, "connectorId": 1}
