"""Steps shared by the CSMS suites (1.6 and 2.0.1): the bench is the charge point.

A real CSMS under test must know the charge point id of the profile and the idToken
``VGI-TOKEN-0001`` (accepted), and must not know ``VGI-UNKNOWN-99``.
"""

from __future__ import annotations

from datetime import datetime, timezone

from vgi_bench.cases import Measurements, check
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.ocpp.frames import PAYLOAD_ERROR_CODES, Kind
from vgi_bench.ocpp.log import RX
from vgi_bench.rigs.ocpp_csms import CsmsRig

ANSWER_S = 5.0  # the bench's timeout for a CSMS answer in these cases
CLOCK_TOLERANCE_S = 60.0


def heartbeat_in_time(rig: CsmsRig, measurements: Measurements) -> None:
    """Heartbeat answered within 5 s with a valid currentTime close to the bench's clock."""
    exchange = rig.call("Heartbeat", {}, timeout=ANSWER_S)
    payload = expect_result(exchange)
    measurements.record("heartbeat_response_ms", exchange.latency_ms)
    stamp = datetime.fromisoformat(payload["currentTime"].replace("Z", "+00:00"))
    skew = abs((stamp - datetime.now(timezone.utc)).total_seconds())
    measurements.record("clock_skew_s", round(skew, 3))
    check(skew <= CLOCK_TOLERANCE_S, f"currentTime within {CLOCK_TOLERANCE_S:g} s of UTC",
          f"{payload['currentTime']} ({skew:.0f} s off)")  # fmt: skip


def unknown_action(rig: CsmsRig) -> None:
    exchange = rig.call("VgiBenchUnknownAction", {}, timeout=ANSWER_S)
    check(exchange.response is not None, f"an answer within {ANSWER_S:g} s", "no answer")
    check(exchange.error_code == "NotImplemented", "CALLERROR NotImplemented",
          exchange.describe())  # fmt: skip


def malformed_frame(rig: CsmsRig, next_action: str, next_payload: dict) -> None:
    mark = len(rig.log)
    rig.cp.send_raw('[2,"vgi-1","Heartbeat",{')
    answer = rig.log.wait_for(
        lambda e: e.direction == RX and e.frame.kind is Kind.ERROR, ANSWER_S, mark
    )
    check(answer is not None, f"a CALLERROR within {ANSWER_S:g} s", "no answer")
    expect_result(rig.call(next_action, next_payload, timeout=ANSWER_S),
                  "an answer to the next CALL on the same connection")  # fmt: skip


def invalid_payload(rig: CsmsRig, action: str, payload: dict) -> None:
    exchange = rig.call(action, payload, validate=False, timeout=ANSWER_S)
    check(exchange.response is not None, f"an answer within {ANSWER_S:g} s", "no answer")
    check(exchange.error_code in PAYLOAD_ERROR_CODES,
          "CALLERROR with a payload error code (e.g. PropertyConstraintViolation)",
          exchange.describe())  # fmt: skip
