"""What every reference charge point shares: connect, reconnect after a reboot, one CALL
at a time, and a synchronous face (:class:`SimulatedChargePoint`) for rigs and ``sim``.

The version-specific behaviour (boot, transactions, device model, faults) lives in
``cp201.py`` and ``cp16.py``; each subclasses :class:`ChargePointBase`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from websockets.asyncio.client import ClientConnection, connect

from vgi_bench.ocpp.csms_role import subprotocol
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.security import Security
from vgi_bench.ocpp.session import Exchange, OcppSession, RouteHandler, RpcPolicy
from vgi_bench.profile import OcppConfig, Profile

log = logging.getLogger(__name__)


#: Faults of a charge point's TLS client (security profiles 2 and 3), in the 2.0.1 catalogue.
TLS_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "accepts_tls_below_1_2": "security profile 2/3: connects to a CSMS that offers only "
        "TLS 1.0/1.1",
        "accepts_expired_server_cert": "security profile 2/3: does not check the validity "
        "period of the CSMS certificate (connects with an expired one)",
    }
)


#: Faults of a charge point's Basic auth password change (2.0.1 A01 SetVariables
#: SecurityCtrlr.BasicAuthPassword, 1.6 ChangeConfiguration AuthorizationKey), in both catalogues.
PASSWORD_FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "keeps_old_password": "security profile 1/2: accepts a new Basic auth password, then "
        "reconnects with the old one",
        "password_change_no_reconnect": "security profile 1/2: accepts a new Basic auth "
        "password but stays connected (does not reconnect to use it)",
    }
)


class SimSetupError(ValueError):
    """The profile lacks what a reference charge point needs."""


@dataclass(frozen=True)
class CpOptions:
    """Knobs of a reference charge point that a real one would have in its configuration."""

    url: str
    charge_point_id: str = "CP_1"
    default_heartbeat_s: float = 10.0  # until the CSMS sets one
    reconnect_delay_s: float = 0.3
    meter_interval_s: float = 1.0  # TxUpdatedInterval / MeterValueSampleInterval
    max_current_a: float = 32.0
    ev_connection_timeout_s: float = 10.0
    security: Security = field(default_factory=Security)

    @classmethod
    def for_csms(cls, ocpp: OcppConfig) -> CpOptions:
        """Reach a CSMS listening on ``ocpp.listen`` with the profile's security."""
        security = Security.from_config(ocpp)
        cp_id = security.charge_point_id
        return cls(url=f"{security.scheme}://{ocpp.listen}/{cp_id}", charge_point_id=cp_id,
                   security=security)  # fmt: skip


class ChargePointBase:
    """An OCPP charge point client with named faults; ``await run()`` until ``stop``."""

    version: ClassVar[str]
    FAULTS: ClassVar[Mapping[str, str]]

    def __init__(
        self,
        options: CpOptions,
        faults: tuple[str, ...] = (),
        message_log: MessageLog | None = None,
    ) -> None:
        unknown = [f for f in faults if f not in self.FAULTS]
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}")
        self.options = options
        self.faults = frozenset(faults)
        self.log = message_log or MessageLog()
        self.session: OcppSession | None = None
        self.boot_reason = "PowerUp"
        self.accepted = asyncio.Event()
        self._stopping = False
        self._call_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connection: ClientConnection | None = None
        #: The Basic auth password (profiles 1/2): the configured one until the CSMS sets
        #: another (:meth:`use_new_password`).
        self.password = options.security.password
        #: Where and how it connects: the options' until a network profile replaces them
        #: (2.0.1 A05/B09: the 2.0.1 reference switches them when it reboots).
        self.url = options.url
        self.security = options.security

    @classmethod
    def sim_from_profile(cls, profile: Profile, faults: tuple[str, ...]) -> SimulatedChargePoint:
        """``vgi-bench sim``: this charge point, connecting to the profile's ``[ocpp] listen``."""
        return SimulatedChargePoint.from_profile(cls, profile, faults)

    def has(self, fault: str) -> bool:
        return fault in self.faults

    def policy(self) -> RpcPolicy:
        """Conformant OCPP-J error handling unless one of the shared RPC faults says otherwise.

        The faults are ``unknown_action_not_supported``, ``drops_malformed_frames`` and
        ``accepts_invalid_payload`` (each version's catalogue lists those it has).
        """
        return RpcPolicy(
            validate_incoming=not self.has("accepts_invalid_payload"),
            answer_garbage=not self.has("drops_malformed_frames"),
            unknown_action_code=(
                "NotSupported" if self.has("unknown_action_not_supported") else "NotImplemented"
            ),
        )

    # ------------------------------------------------------------------ life cycle

    async def run(self) -> None:
        while not self._stopping:
            try:
                async with connect(
                    self.url, subprotocols=[subprotocol(self.version)],
                    open_timeout=5, ping_interval=None, **self.transport(),
                ) as ws:  # fmt: skip
                    self._connection = ws
                    self.session = OcppSession(
                        ws, self.version, self.log, handler=RouteHandler(self),
                        name=self.options.charge_point_id, policy=self.policy(),
                    )  # fmt: skip
                    self.spawn(self.on_connected())
                    await self.session.serve()
            except Exception as exc:  # refused, TLS refused, reset, closed, timed out
                log.debug("%s: connection ended: %s", self.options.charge_point_id, exc)
            self._connection = None
            self.accepted.clear()
            self.cancel_tasks()
            if not self._stopping:
                await asyncio.sleep(self.options.reconnect_delay_s)

    def transport(self) -> dict[str, Any]:
        """Basic auth header and TLS context for ``connect`` (security profiles 1-3), with
        the security faults of :data:`TLS_FAULTS` and ``no_basic_auth``, ``no_client_cert``,
        ``accepts_any_server_cert`` (each version's catalogue lists those it has)."""
        security = self.security.with_(password=self.password)
        if self.has("accepts_tls_below_1_2"):
            security = security.with_(tls_min=ssl.TLSVersion.TLSv1)
        if self.has("accepts_expired_server_cert"):
            security = security.with_(check_expiry=False)
        headers = {} if self.has("no_basic_auth") else security.auth_headers()
        wss = self.url.startswith("wss")
        ctx = security.client_ssl(client_cert=not self.has("no_client_cert")) if wss else None
        if ctx is not None and self.has("accepts_any_server_cert"):
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return {"additional_headers": headers or None, "ssl": ctx}

    async def use_new_password(self, password: str) -> None:
        """After accepting a new Basic auth password (2.0.1 A01, 1.6 security whitepaper):
        close the connection; run() reconnects with it. Faults ``keeps_old_password`` and
        ``password_change_no_reconnect`` (:data:`PASSWORD_FAULTS`)."""
        if not self.has("keeps_old_password"):
            self.password = password
        if self.has("password_change_no_reconnect"):
            return
        await asyncio.sleep(0.1)  # the answer is on its way
        if self._connection is not None:
            await self._connection.close()

    async def on_connected(self) -> None:
        """Start of every connection (boot, reporting); the subclass's protocol."""

    async def reboot(self, reason: str) -> None:
        """Drop the connection as a rebooting charger does; run() reconnects and boots."""
        self.boot_reason = reason
        await self.before_reboot()
        if self._connection is not None:
            await self._connection.close()

    async def before_reboot(self) -> None:
        """Hook: what survives a reboot and what does not."""

    def stop(self) -> None:
        self._stopping = True
        self.cancel_tasks()
        if self._connection is not None:
            self.spawn(self._connection.close())

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()

    async def call(self, action: str, payload: dict[str, Any], **kw: Any) -> Exchange | None:
        """One CALL at a time (OCPP-J §4.1.1); None when not connected."""
        session = self.session
        if session is None or session.closed.is_set():
            return None
        async with self._call_lock:
            try:
                return await session.call(action, payload, **kw)
            except ConnectionError:
                return None


class SimulatedChargePoint:
    """A reference charge point on its own loop thread, driven from synchronous code.

    ``plug_in``, ``unplug`` and ``present`` are what an operator does at a real charger.
    """

    def __init__(self, cp: ChargePointBase, loop: LoopThread | None = None) -> None:
        self.cp = cp
        self._own_loop = loop is None
        self.loop = loop or LoopThread(f"sim-{cp.options.charge_point_id}")
        self._future: Any = None
        self.where = cp.options.url

    @classmethod
    def from_profile(
        cls, cp_class: type[ChargePointBase], profile: Profile, faults: tuple[str, ...]
    ) -> SimulatedChargePoint:
        """``vgi-bench sim``: connect to the bench's CSMS at the profile's ``[ocpp] listen``."""
        ocpp = profile.ocpp
        if ocpp is None or not ocpp.listen:
            raise SimSetupError(f"profile {profile.source}: needs [ocpp] listen")
        return cls(cp_class(CpOptions.for_csms(ocpp), faults))

    def start(self) -> None:
        self._future = self.loop.submit(self.cp.run())

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.run(self._stop(), 5)
        if self._future is not None:
            with contextlib.suppress(Exception):
                self._future.result(5)
        if self._own_loop:
            self.loop.stop()

    async def _stop(self) -> None:
        self.cp.stop()
        await asyncio.sleep(0)

    def act(self, name: str, *args: Any) -> Any:
        """Run the charge point's operator action ``name`` (plug_in, unplug, present)."""
        return self.loop.run(getattr(self.cp, name)(*args), 15)
