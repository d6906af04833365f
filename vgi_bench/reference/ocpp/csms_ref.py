"""The reference CSMS (2.0.1 and 1.6): the DUT of the ``ocpp*.csms`` suites, with faults.

It is the bench's own conformant CSMS handlers (:mod:`vgi_bench.ocpp.csms_handlers`) behind a
websocket server, with each fault in :data:`CSMS_FAULTS` overriding one behaviour.
``vgi-bench sim ocpp-csms`` runs it on the host and port of the profile's ``[ocpp] url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from ocpp.routing import on
from ocpp.v16.enums import Action as Action16
from ocpp.v201.enums import Action as Action201

from vgi_bench.ocpp.csms_handlers import Csms16Handlers, Csms201Handlers, CsmsScript
from vgi_bench.ocpp.csms_role import BenchCsms
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.security import Security, parse_basic_auth
from vgi_bench.ocpp.session import Exchange, OcppSession, RpcPolicy
from vgi_bench.profile import Profile
from vgi_bench.reference.ocpp.csms_certs import (
    CERTIFICATE_FAULTS,
    CertificateAuthority,
    CertificateSigning,
)

CSMS_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "invalid_boot_response": "answers BootNotification with status 'OK' (not in the enum)",
        "rejects_boot": "answers every BootNotification Rejected",
        "bad_current_time": "answers Heartbeat with currentTime 'yesterday' (not RFC 3339)",
        "slow_heartbeat_response": "answers Heartbeat after 6 s",
        "accepts_unknown_idtoken": "authorizes every idToken/idTag, known or not",
        "no_idtokeninfo": "2.0.1: answers a TransactionEvent carrying an idToken without "
        "idTokenInfo; 1.6: gives every transaction the same transactionId",
        "unknown_action_not_supported": "answers an unknown action with NotSupported instead "
        "of NotImplemented (the ocpp library's habit)",
        "drops_malformed_frames": "drops unparseable frames silently instead of answering with "
        "a CALLERROR",
        "accepts_invalid_payload": "handles a schema-invalid CALL as if it were valid",
        "accepts_any_password": "security profile 1/2: accepts any Basic auth password",
        "ignores_username": "security profile 1/2: accepts a Basic auth username other than "
        "the charge point id in the URL",
        "accepts_any_client_cert": "security profile 3: does not verify client certificates",
        "accepts_tls_below_1_2": "security profile 2/3: completes a TLS 1.0/1.1 handshake",
        "accepts_expired_client_cert": "security profile 3: does not check the validity period "
        "of client certificates (accepts an expired one its CA signed)",
        **CERTIFICATE_FAULTS,  # both versions (vgi_bench/reference/ocpp/csms_certs.py)
        # operator actions (vgi_bench/reference/ocpp/csms_operator.py)
        "remote_start_wrong_id_token": "remote start: sends an idToken/idTag other than the "
        "operator's",
        "remote_stop_wrong_transaction": "remote stop: names a transactionId other than the "
        "one the operator picked",
        "reset_wrong_type": "reset: sends the other reset type (OnIdle for Immediate, Soft for "
        "Hard, and back)",
        "availability_wrong_status": "change availability: sends the opposite status",
        "set_variables_wrong_value": "SetVariables / ChangeConfiguration: writes another value "
        "than the operator's",
        "charging_profile_wrong_limit": "SetChargingProfile: twice the limit the operator set",
        "sends_invalid_charging_profile": "SetChargingProfile: chargingRateUnit 'Amps' (not in "
        "the schema's enum)",
        "crashes_on_rejected_profile": "closes the connection when a SetChargingProfile is "
        "answered Rejected",
        "clear_profile_wrong_id": "ClearChargingProfile: names another profile id than the "
        "operator's",
        "tx_profile_wrong_transaction": "SetChargingProfile TxProfile: names another "
        "transactionId than the running one the operator picked",
        "trigger_wrong_message": "TriggerMessage: asks for Heartbeat whatever the operator chose",
        "unlock_wrong_connector": "UnlockConnector: the next EVSE/connector after the operator's",
    }
)


class _Faults:
    """Mixin: the fault set and the shared overrides of both versions."""

    faults: frozenset[str] = frozenset()

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def _boot(self, reply: dict[str, Any]) -> dict[str, Any]:
        if self.has("rejects_boot"):
            reply["status"] = "Rejected"
        if self.has("invalid_boot_response"):
            reply["status"] = "OK"
        return reply

    async def _heartbeat(self, reply: dict[str, Any]) -> dict[str, Any]:
        if self.has("slow_heartbeat_response"):
            await asyncio.sleep(6.0)
        if self.has("bad_current_time"):
            reply["currentTime"] = "yesterday"
        return reply


class ReferenceCsms201Handlers(CertificateSigning, _Faults, Csms201Handlers):
    @on(Action201.boot_notification)
    def on_boot_notification(self, **kw: Any) -> dict[str, Any]:
        return self._boot(super().on_boot_notification(**kw))

    @on(Action201.heartbeat)
    async def on_heartbeat(self, **kw: Any) -> dict[str, Any]:
        return await self._heartbeat(super().on_heartbeat(**kw))

    @on(Action201.authorize)
    def on_authorize(self, id_token: dict[str, Any], **kw: Any) -> dict[str, Any]:
        if self.has("accepts_unknown_idtoken"):
            return {"idTokenInfo": {"status": "Accepted"}}
        return super().on_authorize(id_token, **kw)

    @on(Action201.transaction_event)
    def on_transaction_event(self, id_token: dict | None = None, **kw: Any) -> dict[str, Any]:
        if self.has("no_idtokeninfo"):
            return {}
        if self.has("accepts_unknown_idtoken") and id_token is not None:
            return {"idTokenInfo": {"status": "Accepted"}}
        return super().on_transaction_event(id_token, **kw)


class ReferenceCsms16Handlers(CertificateSigning, _Faults, Csms16Handlers):
    @on(Action16.boot_notification)
    def on_boot_notification(self, **kw: Any) -> dict[str, Any]:
        return self._boot(super().on_boot_notification(**kw))

    @on(Action16.heartbeat)
    async def on_heartbeat(self, **kw: Any) -> dict[str, Any]:
        return await self._heartbeat(super().on_heartbeat(**kw))

    @on(Action16.authorize)
    def on_authorize(self, id_tag: str, **kw: Any) -> dict[str, Any]:
        if self.has("accepts_unknown_idtoken"):
            return {"idTagInfo": {"status": "Accepted"}}
        return super().on_authorize(id_tag, **kw)

    @on(Action16.start_transaction)
    def on_start_transaction(self, id_tag: str, **kw: Any) -> dict[str, Any]:
        reply = super().on_start_transaction(id_tag, **kw)
        if self.has("no_idtokeninfo"):
            reply["transactionId"] = 1
        if self.has("accepts_unknown_idtoken"):
            reply["idTagInfo"] = {"status": "Accepted"}
        return reply


HANDLER_CLASSES = {"2.0.1": ReferenceCsms201Handlers, "1.6": ReferenceCsms16Handlers}


class ReferenceCsms:
    """The reference CSMS on its own loop thread, listening on ``listen`` (HOST:PORT)."""

    FAULTS = CSMS_FAULTS

    def __init__(
        self,
        version: str,
        listen: str,
        faults: tuple[str, ...] = (),
        loop: LoopThread | None = None,
        security: Security | None = None,
    ) -> None:
        unknown = [f for f in faults if f not in CSMS_FAULTS]
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}")
        self.faults = frozenset(faults)
        self.version = version
        self._own_loop = loop is None
        self.loop = loop or LoopThread("reference-csms")
        cls = HANDLER_CLASSES[version]

        def handlers(script: CsmsScript) -> object:
            obj = cls(script)
            obj.faults = self.faults
            obj.authority, obj.server = self.authority, self.server  # A02/A03 signing
            return obj

        policy = RpcPolicy(
            validate_incoming="accepts_invalid_payload" not in self.faults,
            answer_garbage="drops_malformed_frames" not in self.faults,
            unknown_action_code=(
                "NotSupported" if "unknown_action_not_supported" in self.faults
                else "NotImplemented"
            ),
        )  # fmt: skip
        script = CsmsScript(boot=[("Accepted", 300)])
        security = security or Security()
        self.authority = CertificateAuthority(security)
        if "accepts_tls_below_1_2" in self.faults:
            security = security.with_(tls_min=ssl.TLSVersion.TLSv1)
        if "accepts_expired_client_cert" in self.faults:
            security = security.with_(check_expiry=False)
        self.server = BenchCsms(
            self.loop, version, listen, MessageLog(), script=script, handlers=handlers,
            policy=policy, security=security, auth_check=self._auth_check(security),
            verify_client="accepts_any_client_cert" not in self.faults,
        )  # fmt: skip
        self.where = f"{security.scheme}://{listen}/"

    def _auth_check(self, security: Security):
        """The Basic auth check, loosened by ``accepts_any_password`` / ``ignores_username``."""

        def check(header: str | None, charge_point_id: str) -> str | None:
            reason = security.check_basic_auth(header, charge_point_id)
            if reason == "wrong password" and "accepts_any_password" in self.faults:
                return None
            if reason and reason.startswith("username") and "ignores_username" in self.faults:
                _, password = parse_basic_auth(header)
                return None if password == security.password else "wrong password"
            return reason

        return check

    @classmethod
    def sim_from_profile(cls, profile: Profile, faults: tuple[str, ...]) -> ReferenceCsms:
        """``vgi-bench sim ocpp-csms``: listen where the profile's ``[ocpp] url`` points."""
        ocpp = profile.ocpp
        if ocpp is None or not ocpp.url:
            raise ValueError(f"profile {profile.source}: needs [ocpp] url")
        return cls(ocpp.version, listen_of(ocpp.url), faults, security=Security.from_config(ocpp))

    def start(self) -> None:
        self.server.start()

    def send_call(
        self, action: str, payload: dict[str, Any], *, validate: bool = True,
        on_answer: Callable[[OcppSession, Exchange], Awaitable[None]] | None = None,
    ) -> None:  # fmt: skip
        """The operator's hook (:mod:`vgi_bench.reference.ocpp.csms_operator`): send a CALL to the
        connected charge point without waiting for its answer; ``on_answer`` gets it."""
        session = self.server.wait_session(5.0)
        if session is None:
            raise ConnectionError("no charge point is connected to the reference CSMS")

        async def exchange() -> None:
            answer = await session.call(action, payload, validate=validate)
            if on_answer is not None:
                await on_answer(session, answer)

        self.loop.submit(exchange())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.server.stop()
        if self._own_loop:
            self.loop.stop()


def listen_of(url: str) -> str:
    """HOST:PORT of a ws:// or wss:// URL (port 80/443 when the URL has none)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    return f"{parts.hostname}:{port}"
