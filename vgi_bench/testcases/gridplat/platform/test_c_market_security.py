"""Market clearing and settlement data; the envelope's signature."""

from __future__ import annotations

import time

from vgi_bench.cases import case, check
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.gridplat.platform.steps import names, ok

CLAUSE = "grid-level interaction access interface (bench interpretation): market"


def _timed(rig, exchange):
    rig.check_ack(exchange)


@case("GP.M.01", CLAUSE, "Market clearing results are confirmed")
def test_gp_m01_clearing(rig) -> None:
    """Purpose: the operator platform takes the clearing result of its bids.

    Steps: a clearing result for today: 96 periods of 15 min, cleared power and price.
    Expected: 1. Ret 0 with that MarketID and ConfirmResult 0; 2. within ``ack_limit_s``.
    """
    day = time.strftime("%Y-%m-%d")
    data = {"MarketID": f"VGI-MK-{day}", "TradeDate": day, "Periods": [
        {"PeriodNo": n, "ClearedPower": 50.0, "Price": 0.35} for n in range(1, 97)]}  # fmt: skip
    exchange = rig.call(names(rig)["clearing"], data)
    answer = ok(exchange, "the clearing result")
    check(answer.get("MarketID") == data["MarketID"] and answer.get("ConfirmResult") == 0,
          f"MarketID {data['MarketID']}, ConfirmResult 0", exchange.seen())  # fmt: skip
    _timed(rig, exchange)


@case("GP.M.02", CLAUSE, "Settlement data are confirmed")
def test_gp_m02_settlement(rig) -> None:
    """Purpose: the operator platform takes the settlement of a regulation event.

    Steps: settlement data: responded energy and amount.
    Expected: 1. Ret 0 with that SettlementID and ConfirmResult 0; 2. within ``ack_limit_s``.
    """
    data = {"SettlementID": "VGI-SE-0001", "TradeDate": time.strftime("%Y-%m-%d"),
            "ResponseEnergy": 12.5, "Amount": 62.5}  # fmt: skip
    exchange = rig.call(names(rig)["settlement"], data)
    answer = ok(exchange, "the settlement data")
    check(answer.get("SettlementID") == data["SettlementID"] and answer.get("ConfirmResult") == 0,
          f"SettlementID {data['SettlementID']}, ConfirmResult 0", exchange.seen())  # fmt: skip
    _timed(rig, exchange)


@case("GP.S.01", "T/CEC 102.4-2016 App. C (envelope reused)", "A wrong signature is refused")
def test_gp_s01_bad_signature(rig) -> None:
    """Purpose: the same envelope as T/CEC 102: a wrong Sig gets Ret 4001, no action.

    Steps: a clearing result with the last character of Sig changed.
    Expected: 1. Ret 4001.
    """
    rig.client.current_token()
    body = rig.client.envelope({"MarketID": "VGI-MK-BAD", "TradeDate": "2026-01-01"})
    sig = rig.client.codec.names.Sig
    body[sig] = body[sig][:-1] + ("0" if body[sig][-1:] != "0" else "1")
    sent = f"clearing result with {sig} {body[sig]} (last character changed)"
    token = rig.client.token.value if rig.client.token else None
    exchange = rig.client.post(names(rig)["clearing"], body, token=token, sent=sent)
    rig.measurements.record("sent", sent)
    rig.note("answer", exchange)
    check(exchange.ret == Ret.SIGNATURE, f"Ret 4001 to {sent}", exchange.seen())


@case("GP.S.02", "T/CEC 102.4-2016 §5 (token reused)", "A wrong token is refused")
def test_gp_s02_bad_token(rig) -> None:
    """Purpose: calls need the token query_token granted.

    Steps: a settlement, correctly sealed, with a Bearer token never issued.
    Expected: 1. Ret 4002.
    """
    body = rig.client.envelope({"SettlementID": "VGI-SE-BAD", "TradeDate": "2026-01-01"})
    sent = "settlement data with Bearer token 'vgi-bench-not-a-token'"
    exchange = rig.client.post(names(rig)["settlement"], body, token="vgi-bench-not-a-token",
                               sent=sent)  # fmt: skip
    rig.measurements.record("sent", sent)
    rig.note("answer", exchange)
    check(exchange.ret == Ret.TOKEN, f"Ret 4002 to {sent}", exchange.seen())
