"""OCPP-J RPC framework (2.0.1 Part 4): unknown actions, malformed frames, invalid payloads.

OCTT has no ids for these; they are the bench's own (``VGI_RPC_nn_CS``), each tied to
its clause of Part 4.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.ocpp.frames import PAYLOAD_ERROR_CODES, UNKNOWN_ID, Kind
from vgi_bench.ocpp.log import RX
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import ANSWER_S, boot_accepted

PART4 = "OCPP 2.0.1 Part 4 (OCPP-J)"


@case("VGI_RPC_01_CS", f"{PART4} §4.2.3 CALLERROR, §4.3 error codes (NotImplemented)",
      "Unknown action answered with CALLERROR NotImplemented")  # fmt: skip
def test_vgi_rpc_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a CALL with an action the station does not know gets NotImplemented.

    Steps: send CALL "VgiBenchUnknownAction" {}.
    Expected: CALLERROR with the CALL's id and errorCode NotImplemented ("Requested Action
    is not known by receiver"; NotSupported means known but not supported).
    """
    boot_accepted(rig)
    exchange = rig.call("VgiBenchUnknownAction", {}, timeout=ANSWER_S)
    check(exchange.response is not None, f"an answer within {ANSWER_S:g} s", "no answer")
    check(exchange.error_code == "NotImplemented", "CALLERROR NotImplemented",
          exchange.describe())  # fmt: skip


@case("VGI_RPC_02_CS", f"{PART4} §4.2.3 CALLERROR (RpcFrameworkError, MessageId -1)",
      "Malformed frame answered with CALLERROR, connection kept")  # fmt: skip
def test_vgi_rpc_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a frame that is not valid JSON is answered, and the station keeps working.

    Steps: send the text ``[2,"vgi-1","Heartbeat",{`` (truncated); then GetVariables.
    Expected:
    1. CALLERROR with errorCode RpcFrameworkError and MessageId "-1" (the id is unreadable).
    2. The connection stays open: the next CALL is answered.
    """
    mark = boot_accepted(rig)
    rig.csms.send_raw('[2,"vgi-1","Heartbeat",{')
    answer = rig.log.wait_for(
        lambda e: e.direction == RX and e.frame.kind is Kind.ERROR, ANSWER_S, mark
    )
    check(answer is not None, f"a CALLERROR within {ANSWER_S:g} s", "no answer")
    assert answer is not None
    frame = answer.frame
    check(frame.error_code == "RpcFrameworkError" and frame.unique_id == UNKNOWN_ID,
          'CALLERROR RpcFrameworkError with MessageId "-1"', frame.describe())  # fmt: skip
    ask = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    expect_result(rig.call("GetVariables", {"getVariableData": [ask]}, timeout=ANSWER_S),
                  "an answer to the next CALL on the same connection")  # fmt: skip


@case("VGI_RPC_03_CS", f"{PART4} §4.2.3 CALLERROR, §4.3 error codes (payload errors)",
      "Schema-invalid CALL answered with a payload CALLERROR")  # fmt: skip
def test_vgi_rpc_03_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a CALL whose payload breaks the schema is refused, not acted on.

    Steps: send Reset with type "Sideways" (not in ResetEnumType).
    Expected: CALLERROR with a payload error code (FormatViolation,
    PropertyConstraintViolation, OccurrenceConstraintViolation, TypeConstraintViolation or
    ProtocolError); no ResetResponse.
    """
    boot_accepted(rig)
    exchange = rig.call("Reset", {"type": "Sideways"}, validate=False, timeout=ANSWER_S)
    check(exchange.response is not None, f"an answer within {ANSWER_S:g} s", "no answer")
    check(exchange.error_code in PAYLOAD_ERROR_CODES,
          "CALLERROR with a payload error code (e.g. PropertyConstraintViolation)",
          exchange.describe())  # fmt: skip
