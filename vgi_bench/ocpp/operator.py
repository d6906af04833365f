"""Operator actions at a CSMS under test: what OCTT asks a human to do ("manual action").

Much of what a CSMS must be certified for starts at its operator's console: remote start
and stop, reset, change availability, read and write configuration, charging profiles.
A CSMS case asks for such an action by name (:data:`ACTIONS`: the parameters it gives and
the CALL the CSMS is then expected to send the charge point) and judges the CALL the
bench's charge point receives. Who performs the action:

* the built-in reference CSMS does it in-process (``vgi_bench/reference/ocpp/csms_operator.py``);
* for an external CSMS, the profile's ``[ocpp.operator]`` table gives a command per action,
  a template with the action's parameters in braces, split like a shell line (``shlex``),
  each argument formatted on its own, then ``$NAME`` / ``${NAME}`` taken from the bench's
  environment (so a token need not be written in the profile, which goes into
  ``summary.json``; the log shows the command before that step), run without a shell within
  :data:`COMMAND_TIMEOUT_S`; its output goes to the message log (``ocpp.jsonl``) and a
  command that fails is an *error* verdict quoting its stderr
  (:class:`CommandOperator`)::

      [ocpp.operator]
      remote_start = "csms-cli start --cp {charge_point_id} --token {id_token} --evse {evse_id}"
      reset = "curl -fsS -X POST http://csms.lab/api/cp/{charge_point_id}/reset?type={reset_type}"

* otherwise the case is skipped with "needs operator action X at the CSMS: set
  [ocpp.operator] X" (:func:`perform`).

Only the standard library is imported here: :mod:`vgi_bench.profile` checks the table's
action names and placeholders against :data:`ACTIONS`.
"""

from __future__ import annotations

import difflib
import logging
import os
import shlex
import string
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from vgi_bench.ocpp.log import MessageLog

log = logging.getLogger(__name__)

#: How long an ``[ocpp.operator]`` command may run before the case errors.
COMMAND_TIMEOUT_S = 30.0

#: Parameters every action gets (besides its own).
COMMON_PARAMS = ("charge_point_id", "version")


@dataclass(frozen=True)
class OperatorAction:
    """One thing an operator does at the CSMS, and the CALL that must follow."""

    name: str
    summary: str
    params: tuple[str, ...]
    sends: Mapping[str, str]  # OCPP version -> the action of the CALL the CSMS then sends

    @property
    def all_params(self) -> tuple[str, ...]:
        return (*COMMON_PARAMS, *self.params)


def _action(name: str, summary: str, params: tuple[str, ...], v201: str, v16: str) -> tuple:
    sends = MappingProxyType({"2.0.1": v201, "1.6": v16})
    return name, OperatorAction(name, summary, params, sends)


ACTIONS: Mapping[str, OperatorAction] = MappingProxyType(
    dict(
        [
            _action("remote_start", "start a transaction for {id_token} on EVSE/connector "
                    "{evse_id}", ("id_token", "evse_id"),
                    "RequestStartTransaction", "RemoteStartTransaction"),
            _action("remote_stop", "stop transaction {transaction_id}", ("transaction_id",),
                    "RequestStopTransaction", "RemoteStopTransaction"),
            _action("reset", "reset the charge point ({reset_type}: 2.0.1 Immediate/OnIdle, "
                    "1.6 Hard/Soft)", ("reset_type",), "Reset", "Reset"),
            _action("change_availability", "make EVSE/connector {evse_id} {availability} "
                    "(Operative/Inoperative)", ("evse_id", "availability"),
                    "ChangeAvailability", "ChangeAvailability"),
            _action("get_variables", "read {component}.{variable} (1.6: configuration key "
                    "{variable})", ("component", "variable"), "GetVariables", "GetConfiguration"),
            _action("set_variables", "write {value} to {component}.{variable} (1.6: "
                    "configuration key {variable})", ("component", "variable", "value"),
                    "SetVariables", "ChangeConfiguration"),
            _action("set_charging_profile", "install charging profile {profile_id} "
                    "({purpose}, stack level {stack_level}) limiting EVSE/connector {evse_id} "
                    "to {limit_a} A (a TxProfile: for transaction {transaction_id}, else empty)",
                    ("evse_id", "profile_id", "purpose", "stack_level", "limit_a",
                     "transaction_id"), "SetChargingProfile", "SetChargingProfile"),
            _action("clear_charging_profile", "clear charging profile {profile_id}",
                    ("profile_id",), "ClearChargingProfile", "ClearChargingProfile"),
            _action("trigger_message", "have the charge point send {requested_message} "
                    "(for EVSE/connector {evse_id})", ("requested_message", "evse_id"),
                    "TriggerMessage", "TriggerMessage"),
            _action("unlock_connector", "unlock the connector of EVSE/connector {evse_id}",
                    ("evse_id",), "UnlockConnector", "UnlockConnector"),
        ]
    )
)  # fmt: skip


class OperatorError(RuntimeError):
    """The operator action could not be performed (an error verdict, not a failure)."""


class Operator(Protocol):
    """Someone (something) at the CSMS's console."""

    def can(self, action: str) -> bool: ...
    def perform(self, action: str, params: Mapping[str, str]) -> None: ...


def skip_reason(action: str) -> str:
    return f"needs operator action {action} at the CSMS: set [ocpp.operator] {action}"


def perform(operator: Operator | None, action: str, **params: Any) -> dict[str, str]:
    """Have ``operator`` perform ``action`` (skip the case when nobody can); its parameters
    as given to the operator (every value a string)."""
    spec = ACTIONS[action]
    missing = [p for p in spec.all_params if p not in params]
    if missing:  # a bench bug, not the DUT's
        raise ValueError(f"operator action {action} needs {', '.join(missing)}")
    if operator is None or not operator.can(action):
        import pytest

        pytest.skip(skip_reason(action))
    values = {k: str(v) for k, v in params.items()}
    operator.perform(action, values)
    return values


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a command template uses."""
    names: set[str] = set()
    for arg in shlex.split(template):
        names |= {field for _, field, _, _ in string.Formatter().parse(arg) if field is not None}
    return names


def check_operator_table(table: Mapping[str, Any]) -> str | None:
    """The profile's check of ``[ocpp.operator]``: a reason, or None when it is fine."""
    for name, template in table.items():
        if name not in ACTIONS:
            close = difflib.get_close_matches(name, list(ACTIONS), n=1, cutoff=0.8)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return f"has unknown action {name!r} ({hint}known: {', '.join(ACTIONS)})"
        if not isinstance(template, str) or not template.strip():
            return f"entry {name!r} must be a command (a non-empty string)"
        try:
            used = placeholders(template)
        except ValueError as exc:
            return f"entry {name!r} is not a valid command line: {exc}"
        unknown = sorted(used - set(ACTIONS[name].all_params))
        if unknown:
            allowed = ", ".join("{" + p + "}" for p in ACTIONS[name].all_params)
            return f"entry {name!r} uses {{{unknown[0]}}} (it may use {allowed})"
    return None


class CommandOperator:
    """Performs actions by running the profile's ``[ocpp.operator]`` commands."""

    def __init__(
        self,
        commands: Mapping[str, str],
        *,
        timeout_s: float = COMMAND_TIMEOUT_S,
        message_log: MessageLog | None = None,
    ) -> None:
        self.commands = dict(commands)
        self.timeout_s = timeout_s
        self.log = message_log

    def can(self, action: str) -> bool:
        return action in self.commands

    def _note(self, text: str) -> None:
        log.info("%s", text)
        if self.log is not None:
            self.log.note(text, "operator")

    def argv(self, action: str, params: Mapping[str, str]) -> list[str]:
        try:
            return [arg.format_map(params) for arg in shlex.split(self.commands[action])]
        except (KeyError, ValueError, IndexError) as exc:
            raise OperatorError(f"[ocpp.operator] {action}: cannot fill in the command: "
                                f"{type(exc).__name__} {exc}") from None  # fmt: skip

    def perform(self, action: str, params: Mapping[str, str]) -> None:
        argv = self.argv(action, params)
        line = shlex.join(argv)  # logged as written: environment values (secrets) stay out
        self._note(f"operator {action}: running {line}")
        try:
            proc = subprocess.run(
                [os.path.expandvars(arg) for arg in argv],
                capture_output=True, text=True, timeout=self.timeout_s, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise OperatorError(f"[ocpp.operator] {action}: {line} did not finish within "
                                f"{self.timeout_s:g} s") from None  # fmt: skip
        except OSError as exc:
            raise OperatorError(f"[ocpp.operator] {action}: cannot run {line}: {exc}") from None
        out, err = proc.stdout.strip(), proc.stderr.strip()
        self._note(
            f"operator {action}: exit {proc.returncode}"
            + (f"; stdout: {out[-2000:]}" if out else "")
            + (f"; stderr: {err[-2000:]}" if err else "")
        )
        if proc.returncode != 0:
            said = err[-500:] or out[-500:] or "no output"
            raise OperatorError(
                f"[ocpp.operator] {action}: {line} exited with {proc.returncode}: {said}"
            )


__all__ = [
    "ACTIONS",
    "COMMAND_TIMEOUT_S",
    "CommandOperator",
    "Operator",
    "OperatorAction",
    "OperatorError",
    "check_operator_table",
    "perform",
    "placeholders",
    "skip_reason",
]
