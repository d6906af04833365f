"""Token acquisition and expiry (T/CEC 102.4 §5 and App. A)."""

from __future__ import annotations

import time

import pytest

from vgi_bench.cases import case, check
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.tcec102.platform.steps import (
    Refusal,
    conforms,
    free_connector,
    not_charging,
    ok,
    refused,
    token,
)

CLAUSE = "T/CEC 102.4-2016 App. A"


@case("TCEC.T.01", f"{CLAUSE}, App. B, App. C", "query_token grants a token in a signed answer")
def test_tcec_t01_query_token(rig) -> None:
    """Purpose: the platform authenticates the bench as operator and grants a token.

    Steps: query_token with the profile's OperatorID and OperatorSecret.
    Expected: 1. Ret 0 in an answer whose Sig verifies and whose Data decrypts;
    2. Data valid against query_token.json, SuccStat 0, a non-empty AccessToken,
    0 < TokenAvailableTime <= 7 days.
    """
    exchange = rig.client.query_token()
    rig.note("query_token", exchange)
    data = ok(exchange, "query_token")
    conforms("query_token", data, "query_token Data")
    check(data["SuccStat"] == 0 and data["AccessToken"], "SuccStat 0 and an AccessToken",
          exchange.seen())  # fmt: skip
    check(data["TokenAvailableTime"] > 0, "TokenAvailableTime > 0", exchange.seen())


@case("TCEC.T.02", CLAUSE, "query_token with a wrong OperatorSecret grants no token")
def test_tcec_t02_wrong_secret(rig) -> None:
    """Purpose: a wrong OperatorSecret gets no token (App. A FailReason 2 密钥错误).

    Steps: query_token with the right OperatorID and a wrong OperatorSecret.
    Expected: 1. SuccStat 1 with FailReason 2 and no AccessToken (Ret 0), or a refusal
    Ret 4004; never a token.
    """
    sent = "query_token with OperatorSecret 'WRONG-SECRET-000'"
    exchange = rig.client.query_token(rig.client.operator_id, "WRONG-SECRET-000")
    rig.measurements.record("sent", sent)
    rig.note("answer", exchange)
    if exchange.ret == Ret.BUSINESS_PARAMS:
        return
    data = ok(exchange, "query_token")
    check(data.get("SuccStat") == 1 and data.get("FailReason") == 2 and not data.get("AccessToken"),
          f"SuccStat 1, FailReason 2, no AccessToken for {sent}", exchange.seen())  # fmt: skip


@case("TCEC.T.03", CLAUSE, "query_token for an unknown OperatorID grants no token")
def test_tcec_t03_unknown_operator(rig) -> None:
    """Purpose: an OperatorID the platform does not know gets no token (FailReason 1).

    Steps: query_token as OperatorID ``000000000`` (signed with the profile's secrets).
    Expected: 1. SuccStat 1 with FailReason 1 and no AccessToken, or a refusal Ret 4001,
    4003 or 4004 (the platform may know no secrets for that operator); never a token.
    """
    sent = "query_token as unknown OperatorID '000000000'"
    exchange = rig.client.query_token("000000000", rig.client.operator_secret)
    rig.measurements.record("sent", sent)
    rig.note("answer", exchange)
    if exchange.ret in (Ret.SIGNATURE, Ret.POST_PARAMS, Ret.BUSINESS_PARAMS):
        return
    data = ok(exchange, "query_token")
    check(data.get("SuccStat") == 1 and data.get("FailReason") == 1 and not data.get("AccessToken"),
          f"SuccStat 1, FailReason 1, no AccessToken for {sent}", exchange.seen())  # fmt: skip


@case("TCEC.T.04", "T/CEC 102.4-2016 §5, App. A", "An expired token is refused with Ret 4002")
def test_tcec_t04_expired_token(rig) -> None:
    """Purpose: a token is good for TokenAvailableTime only.

    Steps: query_token; wait TokenAvailableTime + 1 s (skipped when that is longer than
    ``[platform] token_wait_max_s``); query_start_charge with the expired token.
    Expected: 1. Ret 4002; 2. no charge started (connector not Status 3).
    """
    station_id, connector_id = free_connector(rig)
    value = token(rig)
    ttl = rig.client.token.remaining() if rig.client.token else 0.0
    if ttl > rig.config.token_wait_max_s:
        pytest.skip(
            f"the token lives {ttl:.0f} s > token_wait_max_s {rig.config.token_wait_max_s:g}"
        )
    rig.measurements.record("token_wait_s", round(ttl + 1.0, 1))
    time.sleep(max(0.0, ttl) + 1.0)
    request = {"StartChargeSeq": "x" * 27, "ConnectorID": connector_id, "QRCode": "vgi-bench"}
    exchange = rig.client.post("query_start_charge", rig.client.envelope(request), token=value,
                               sent=request)  # fmt: skip
    refused(rig, exchange, Refusal((Ret.TOKEN,)), "query_start_charge with an expired token")
    not_charging(rig, station_id, connector_id, "the expired token")
