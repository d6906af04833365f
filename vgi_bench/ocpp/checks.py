"""Case steps over the message log, each failing with "expected ...; saw ...".

A DUT message that breaks its schema fails the case naming the field; a missing
message fails it naming what did arrive instead. Waits and answers are judged with the
uncertainty of the host clock that stamps the frames (``MessageLog.timing``) by the
run's decision rule: one inside the guard band says so, and under guarded acceptance
fails as "not proven".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from vgi_bench.cases import Measurements, check, fail
from vgi_bench.decision import require_pass
from vgi_bench.ocpp.frames import Kind
from vgi_bench.ocpp.log import RX, Entry, MessageLog
from vgi_bench.ocpp.schema import describe
from vgi_bench.ocpp.session import Exchange
from vgi_bench.timing import TimeJudge

Where = Callable[[Entry], bool]


def is_call(action: str | None = None, where: Where | None = None) -> Where:
    """A predicate: a CALL from the DUT (of ``action``, matching ``where``)."""

    def match(entry: Entry) -> bool:
        frame = entry.frame
        return (
            entry.direction == RX
            and frame.kind is Kind.CALL
            and (action is None or frame.action == action)
            and (where is None or where(entry))
        )

    return match


def seen(message_log: MessageLog, since: int, limit: int = 8) -> str:
    """What the DUT sent from ``since`` on, for the 'saw' half of a failure."""
    frames = [e for e in message_log.snapshot(since) if e.direction == RX]
    if not frames:
        return "nothing from the DUT"
    text = ", ".join(e.frame.describe() for e in frames[-limit:])
    return text if len(frames) <= limit else f"... {text}"


def check_schema(entry: Entry, what: str = "") -> None:
    """Fail naming the field when a DUT message breaks its JSON schema."""
    if entry.violations:
        name = entry.action or entry.frame.action or "message"
        fail(
            f"{what or name} valid against the OCPP schema",
            f"{name} with {describe(list(entry.violations))}",
        )


def expect_call(
    message_log: MessageLog,
    action: str,
    *,
    since: int,
    within: float,
    what: str = "",
    where: Where | None = None,
) -> Entry:
    """The DUT's next ``action`` CALL (matching ``where``) within ``within`` seconds.

    The wait starts now (a host reading); the CALL's receive stamp is judged against
    ``within`` when the log has its ``timing``.
    """
    started = time.monotonic()
    timing = message_log.timing
    slack = 0.0 if timing is None else timing.clock.difference_uncertainty(within)
    entry = message_log.wait_for(is_call(action, where), within + slack, since)
    if entry is None:
        fail(f"{what or action} within {within:g} s", seen(message_log, since))
    check_schema(entry, what)
    if timing is not None and entry.mono > started:
        judged = timing.interval(started, entry.mono, limit_s=within, from_host=True)
        require_pass(judged, f"{what or action} within {within:g} s", entry.frame.describe())
    return entry


def judge_response(exchange: Exchange, timing: TimeJudge, measurements: Measurements) -> None:
    """The DUT's answer to a bench CALL within the call's timeout, judged with ``timing``
    and recorded as ``<action>.response_time``; a CALL without answer is left to the
    case (it may want none)."""
    if exchange.latency_ms is None:
        return
    judged = timing.duration(exchange.latency_ms / 1000.0, limit_s=exchange.timeout_s)
    measurements.record(f"{exchange.action}.response_time", judged)
    require_pass(judged, f"an answer to {exchange.action} within {exchange.timeout_s:g} s",
            exchange.describe())  # fmt: skip


def expect_no_call(
    message_log: MessageLog, match: Where, *, since: int, during: float, what: str
) -> None:
    """Nothing matching ``match`` from the DUT for ``during`` seconds."""
    entry = message_log.wait_for(match, during, since)
    if entry is not None:
        fail(what, entry.frame.describe())


def calls(message_log: MessageLog, action: str, since: int = 0) -> list[Entry]:
    return [e for e in message_log.snapshot(since) if is_call(action)(e)]


def expect_result(exchange: Exchange, what: str = "") -> dict[str, Any]:
    """The DUT's CALLRESULT to a bench CALL, schema-valid; its payload."""
    name = what or f"a CALLRESULT to {exchange.action}"
    check(exchange.response is not None, f"{name} within {exchange.timeout_s:g} s",
          "no answer")  # fmt: skip
    check(exchange.ok, name, exchange.describe())
    assert exchange.response is not None
    check_schema(exchange.response, f"{exchange.action} response")
    return exchange.payload


def expect_status(exchange: Exchange, *allowed: str, what: str = "") -> dict[str, Any]:
    """A CALLRESULT whose ``status`` is one of ``allowed``."""
    payload = expect_result(exchange, what)
    status = payload.get("status")
    check(
        status in allowed,
        f"{exchange.action} answered with status {' or '.join(allowed)}",
        f"status {status!r}",
    )
    return payload
