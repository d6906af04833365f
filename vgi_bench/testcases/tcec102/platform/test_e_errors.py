"""Error paths of the envelope and the business data (T/CEC 102.4 §4, Ret codes).

Every bad input is a query_start_charge on a free connector, so "no side effect" is
checked the same way each time: the connector is not charging afterwards. The bad input
is named in the measurements (``sent``), so the report lists what was sent.
"""

from __future__ import annotations

import json

from vgi_bench.cases import case, check
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.tcec102.platform.steps import (
    BUSINESS_REFUSAL,
    REPLAY_REFUSAL,
    Refusal,
    free_connector,
    not_charging,
    ok,
    refused,
    start_request,
    token,
)

CLAUSE = "T/CEC 102.4-2016 §4.4, §4.5"
ENDPOINT = "query_start_charge"


def _prepare(rig):
    station_id, connector_id = free_connector(rig)
    return station_id, connector_id, token(rig), start_request(rig, connector_id)


def _changed(sig: str) -> str:
    """The signature with its last character changed."""
    return sig[:-1] + ("0" if sig[-1:] != "0" else "1")


def _post_bad(rig, body=None, *, raw=None, bearer=None, sent=""):
    """POST a bad request; the exchange."""
    return rig.client.post(ENDPOINT, body, raw=raw, token=bearer, sent=sent)


@case("TCEC.E.01", f"{CLAUSE}, App. C", "A wrong signature is refused with Ret 4001")
def test_tcec_e01_bad_signature(rig) -> None:
    """Purpose: the platform checks Sig before anything else.

    Steps: query_start_charge, sealed, with the last character of Sig changed.
    Expected: 1. Ret 4001; 2. no charge started.
    """
    station_id, connector_id, value, request = _prepare(rig)
    body, n = rig.client.envelope(request), rig.client.codec.names
    body[n.Sig] = _changed(body[n.Sig])
    sent = f"query_start_charge with {n.Sig} {body[n.Sig]} (last character changed)"
    refused(rig, _post_bad(rig, body, bearer=value, sent=sent), Refusal((Ret.SIGNATURE,)), sent)
    not_charging(rig, station_id, connector_id, "a wrong signature")


@case("TCEC.E.02", "T/CEC 102.4-2016 §5", "A wrong token is refused with Ret 4002")
def test_tcec_e02_bad_token(rig) -> None:
    """Purpose: business calls need the token query_token granted.

    Steps: query_start_charge, correctly sealed, with ``Authorization: Bearer`` a token
    the platform never issued.
    Expected: 1. Ret 4002; 2. no charge started.
    """
    station_id, connector_id, _, request = _prepare(rig)
    sent = "query_start_charge with Bearer token 'vgi-bench-not-a-token'"
    exchange = _post_bad(rig, rig.client.envelope(request), bearer="vgi-bench-not-a-token",
                         sent=sent)  # fmt: skip
    refused(rig, exchange, Refusal((Ret.TOKEN,)), sent)
    not_charging(rig, station_id, connector_id, "a wrong token")


@case("TCEC.E.03", CLAUSE, "An envelope without Seq is refused with Ret 4003")
def test_tcec_e03_missing_field(rig) -> None:
    """Purpose: every envelope field is required.

    Steps: query_start_charge, sealed, then ``Seq`` removed.
    Expected: 1. Ret 4003 (缺少必需参数); 2. no charge started.
    """
    station_id, connector_id, value, request = _prepare(rig)
    body, n = rig.client.envelope(request), rig.client.codec.names
    del body[n.Seq]
    sent = f"query_start_charge envelope without {n.Seq}"
    refused(rig, _post_bad(rig, body, bearer=value, sent=sent), Refusal((Ret.POST_PARAMS,)), sent)
    not_charging(rig, station_id, connector_id, "a missing field")


@case("TCEC.E.04", CLAUSE, "Envelope fields of the wrong type are refused with Ret 4003")
def test_tcec_e04_wrong_types(rig) -> None:
    """Purpose: envelope fields are strings (TimeStamp 14 digits, Seq 4 digits).

    Steps: query_start_charge, sealed, then TimeStamp and Seq sent as JSON numbers.
    Expected: 1. Ret 4003; 2. no charge started.
    """
    station_id, connector_id, value, request = _prepare(rig)
    body, n = rig.client.envelope(request), rig.client.codec.names
    body[n.TimeStamp], body[n.Seq] = int(body[n.TimeStamp]), int(body[n.Seq])
    sent = f"query_start_charge with TimeStamp {body[n.TimeStamp]}, Seq {body[n.Seq]} as numbers"
    refused(rig, _post_bad(rig, body, bearer=value, sent=sent), Refusal((Ret.POST_PARAMS,)), sent)
    not_charging(rig, station_id, connector_id, "wrong types")


@case("TCEC.E.05", CLAUSE, "A body that is not JSON is refused with Ret 4003")
def test_tcec_e05_malformed_json(rig) -> None:
    """Purpose: a malformed body gets a proper (signed) refusal, not an error page.

    Steps: POST query_start_charge with the body ``{"OperatorID": "`` (cut short).
    Expected: 1. Ret 4003 in a sound, signed answer; 2. no charge started.
    """
    station_id, connector_id, value, _ = _prepare(rig)
    raw = b'{"OperatorID": "'
    sent = f"query_start_charge with body {raw.decode()!r} (not JSON)"
    exchange = _post_bad(rig, raw=raw, bearer=value, sent=sent)
    refused(rig, exchange, Refusal((Ret.POST_PARAMS,)), sent)
    not_charging(rig, station_id, connector_id, "a malformed body")


@case("TCEC.E.06", "T/CEC 102.3-2016 query_start_charge; T/CEC 102.4 §4.5",
      "Business data of the wrong type is refused with Ret 4004")  # fmt: skip
def test_tcec_e06_business_wrong_type(rig) -> None:
    """Purpose: the platform checks the business data's types.

    Steps: query_start_charge with ConnectorID as the JSON number 1.
    Expected: 1. Ret 4004 (4003 also taken: bench interpretation); 2. no charge started.
    """
    station_id, connector_id, _, request = _prepare(rig)
    request["ConnectorID"] = 1
    exchange = rig.client.call(ENDPOINT, request)
    refused(rig, exchange, BUSINESS_REFUSAL, "query_start_charge with ConnectorID 1 (a number)")
    not_charging(rig, station_id, connector_id, "a wrong business type")


@case("TCEC.E.07", "T/CEC 102.3-2016 query_start_charge; T/CEC 102.4 §4.5",
      "Business data lacking a required field is refused with Ret 4004")  # fmt: skip
def test_tcec_e07_business_missing(rig) -> None:
    """Purpose: the platform checks required business fields.

    Steps: query_start_charge without StartChargeSeq.
    Expected: 1. Ret 4004 (4003 also taken: bench interpretation); 2. no charge started.
    """
    station_id, connector_id, _, request = _prepare(rig)
    del request["StartChargeSeq"]
    exchange = rig.client.call(ENDPOINT, request)
    refused(rig, exchange, BUSINESS_REFUSAL, "query_start_charge without StartChargeSeq")
    not_charging(rig, station_id, connector_id, "a missing business field")


@case("TCEC.E.08", f"{CLAUSE} Seq", "A replayed request (same Seq) is refused")
def test_tcec_e08_replayed_seq(rig) -> None:
    """Purpose: a captured request sent again does not act again.

    Steps: query_start_charge (accepted); query_stop_charge; the first start's request
    body sent again unchanged (same TimeStamp, Seq and Sig).
    Expected: 1. the replay refused with Ret 4003, 4001 or 4004 (the standard names no
    code: bench interpretation); 2. no charge started by the replay.
    """
    station_id, connector_id, value, request = _prepare(rig)
    body = rig.client.envelope(request)
    first = rig.client.post(ENDPOINT, body, token=value, sent=request)
    rig.note("first_start", first)
    ok(first, "the first query_start_charge")
    stop = rig.client.call("query_stop_charge", {"StartChargeSeq": request["StartChargeSeq"],
                                                 "ConnectorID": connector_id})  # fmt: skip
    rig.note("stop", stop)
    n = rig.client.codec.names
    sent = f"query_start_charge replayed (TimeStamp {body[n.TimeStamp]}, Seq {body[n.Seq]})"
    refused(rig, _post_bad(rig, body, bearer=value, sent=sent), REPLAY_REFUSAL, sent)
    not_charging(rig, station_id, connector_id, "the replay")


@case("TCEC.E.09", CLAUSE, "An oversized body is refused and the platform stays up")
def test_tcec_e09_oversized_body(rig) -> None:
    """Purpose: a body beyond the platform's limit is refused without harm.

    Steps: query_start_charge, correctly sealed, whose QRCode makes the body larger than
    ``[platform] max_body_bytes``; then a good query_token.
    Expected: 1. Ret 4003 or HTTP 413 (bench interpretation: the standard gives no
    limit); 2. no charge started; 3. the platform still answers.
    """
    station_id, connector_id, value, request = _prepare(rig)
    request["QRCode"] = "X" * rig.config.max_body_bytes
    body = rig.client.envelope(request)
    size = len(json.dumps(body))
    sent = f"query_start_charge of {size} bytes (QRCode of {rig.config.max_body_bytes} bytes)"
    exchange = _post_bad(rig, body, bearer=value, sent=sent)
    if exchange.status == 413:
        rig.measurements.record("sent", sent)
        rig.measurements.record("answer", exchange.as_dict())
    else:
        refused(rig, exchange, Refusal((Ret.POST_PARAMS,), "or HTTP 413"), sent)
    not_charging(rig, station_id, connector_id, "an oversized body")
    after = rig.client.query_token()
    rig.note("after", after)
    check(after.ret == Ret.OK, "the platform answering after the oversized body", after.seen())


@case("TCEC.E.10", "T/CEC 102.4-2016 §5", "A token used under another OperatorID is refused")
def test_tcec_e10_wrong_operator(rig) -> None:
    """Purpose: a token is the operator's it was granted to, not anyone's.

    Steps: query_token as the profile's operator; query_start_charge with that token but
    OperatorID ``000000000`` in the envelope (signed with the profile's secrets).
    Expected: 1. Ret 4002 (4001 or 4003 also taken: the platform may hold no secrets for
    that operator; bench interpretation); 2. no charge started.
    """
    station_id, connector_id, value, request = _prepare(rig)
    body = rig.client.envelope(request, operator_id="000000000")
    sent = "query_start_charge as OperatorID '000000000' with the profile operator's token"
    refusal = Refusal((Ret.TOKEN, Ret.SIGNATURE, Ret.POST_PARAMS), "bench interpretation")
    refused(rig, _post_bad(rig, body, bearer=value, sent=sent), refusal, sent)
    not_charging(rig, station_id, connector_id, "a token of another operator")
