"""How the bench, playing the charge point, answers what a CSMS under test sends it.

A small scripted table, action -> answer, per OCPP version: the CALLs an operator's
actions at the CSMS cause (remote start/stop, reset, availability, configuration,
charging profiles). Every answer is schema-valid and, by default, the positive one; a case
sets another (``handler.replies["SetChargingProfile"] = {"status": "Rejected"}``) to see
how the CSMS copes. Configuration reads and writes go to a small variable store, so a
value the CSMS writes is what it reads back. The session has already checked each CALL
against its schema (a schema-invalid CALL gets a CALLERROR and never reaches this table);
cases judge the content from the message log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vgi_bench.ocpp.frames import Frame
from vgi_bench.ocpp.session import Reply

Answer = dict[str, Any] | Callable[[dict[str, Any]], Reply]

#: 2.0.1 variables the bench's charging station has: (component, variable) -> value.
VARIABLES_201 = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): "60",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "60",
    ("AuthCtrlr", "AuthorizeRemoteStart"): "true",
}
#: 1.6 configuration keys: key -> (value, readonly).
CONFIGURATION_16 = {
    "HeartbeatInterval": ("60", False),
    "MeterValueSampleInterval": ("60", False),
    "AuthorizeRemoteTxRequests": ("true", False),
    "NumberOfConnectors": ("1", True),
}

ACCEPTED = {"status": "Accepted"}


class CpHandlers:
    """The :class:`~vgi_bench.ocpp.session.Handler` of the bench charge point in CSMS cases."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.variables = dict(VARIABLES_201)
        self.configuration = dict(CONFIGURATION_16)
        self.replies: dict[str, Answer] = (
            self._table_201() if version == "2.0.1" else self._table_16()
        )

    def _table_201(self) -> dict[str, Answer]:
        return {
            "RequestStartTransaction": dict(ACCEPTED),
            "RequestStopTransaction": dict(ACCEPTED),
            "Reset": dict(ACCEPTED),
            "ChangeAvailability": dict(ACCEPTED),
            "GetVariables": self._get_variables,
            "SetVariables": self._set_variables,
            "SetChargingProfile": dict(ACCEPTED),
            "ClearChargingProfile": dict(ACCEPTED),
            "TriggerMessage": dict(ACCEPTED),
            "UnlockConnector": {"status": "Unlocked"},
        }

    def _table_16(self) -> dict[str, Answer]:
        return {
            "RemoteStartTransaction": dict(ACCEPTED),
            "RemoteStopTransaction": dict(ACCEPTED),
            "Reset": dict(ACCEPTED),
            "ChangeAvailability": dict(ACCEPTED),
            "GetConfiguration": self._get_configuration,
            "ChangeConfiguration": self._change_configuration,
            "SetChargingProfile": dict(ACCEPTED),
            "ClearChargingProfile": dict(ACCEPTED),
            "TriggerMessage": dict(ACCEPTED),
            "UnlockConnector": {"status": "Unlocked"},
        }

    # ------------------------------------------------------------------ Handler protocol

    def known(self, action: str) -> bool:
        return action in self.replies

    async def handle(self, frame: Frame) -> Reply:
        answer = self.replies[frame.action or ""]
        return answer(dict(frame.payload)) if callable(answer) else dict(answer)

    def after(self, frame: Frame) -> None:
        return None

    # ------------------------------------------------------------------ 2.0.1 variables

    def _get_variables(self, payload: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in payload.get("getVariableData", []):
            component, variable = item["component"], item["variable"]
            key = (component.get("name"), variable.get("name"))
            result: dict[str, Any] = {"component": component, "variable": variable}
            if key in self.variables:
                result |= {"attributeStatus": "Accepted", "attributeValue": self.variables[key]}
            elif all(c != key[0] for c, _ in self.variables):
                result["attributeStatus"] = "UnknownComponent"
            else:
                result["attributeStatus"] = "UnknownVariable"
            results.append(result)
        return {"getVariableResult": results}

    def _set_variables(self, payload: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in payload.get("setVariableData", []):
            component, variable = item["component"], item["variable"]
            key = (component.get("name"), variable.get("name"))
            status = "Accepted" if key in self.variables else "UnknownVariable"
            if status == "Accepted":
                self.variables[key] = item["attributeValue"]
            results.append({"attributeStatus": status, "component": component,
                            "variable": variable})  # fmt: skip
        return {"setVariableResult": results}

    # ------------------------------------------------------------------ 1.6 configuration

    def _get_configuration(self, payload: dict[str, Any]) -> dict[str, Any]:
        keys = payload.get("key") or list(self.configuration)
        known = [k for k in keys if k in self.configuration]
        reply: dict[str, Any] = {
            "configurationKey": [
                {"key": k, "readonly": self.configuration[k][1], "value": self.configuration[k][0]}
                for k in known
            ]
        }
        unknown = [k for k in keys if k not in self.configuration]
        if unknown:
            reply["unknownKey"] = unknown
        return reply

    def _change_configuration(self, payload: dict[str, Any]) -> dict[str, Any]:
        key, value = payload["key"], payload["value"]
        if key not in self.configuration:
            return {"status": "NotSupported"}
        if self.configuration[key][1]:
            return {"status": "Rejected"}
        self.configuration[key] = (value, False)
        return dict(ACCEPTED)
