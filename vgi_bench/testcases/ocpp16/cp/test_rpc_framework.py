"""OCPP-J 1.6 RPC framework: unknown actions, malformed frames, invalid payloads.

OCTT has no ids for these; they are the bench's own (``VGI_RPC_nn_CS``).
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_result
from vgi_bench.ocpp.frames import PAYLOAD_ERROR_CODES, Kind
from vgi_bench.ocpp.log import RX
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp_steps import ANSWER_S, boot_accepted

OCPPJ = "OCPP-J 1.6 §4.2.3 CallError"


@case("VGI_RPC_01_CS", f"{OCPPJ} (NotImplemented: action not known)",
      "Unknown action answered with CallError NotImplemented")  # fmt: skip
def test_vgi_rpc_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a CALL with an unknown action gets NotImplemented ("Requested Action is
    not known by receiver"; NotSupported is for a recognised action).
    """
    boot_accepted(rig)
    exchange = rig.call("VgiBenchUnknownAction", {}, timeout=ANSWER_S)
    check(exchange.response is not None, f"an answer within {ANSWER_S:g} s", "no answer")
    check(exchange.error_code == "NotImplemented", "CallError NotImplemented",
          exchange.describe())  # fmt: skip


@case("VGI_RPC_02_CS", f"{OCPPJ}; §4.1 (message structure)",
      "Malformed frame answered with a CallError, connection kept")  # fmt: skip
def test_vgi_rpc_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a frame that is not valid JSON is answered, and the charge point goes on.

    Expected: a CallError; the next CALL on the same connection is answered.
    """
    mark = boot_accepted(rig)
    rig.csms.send_raw('[2,"vgi-1","Heartbeat",{')
    answer = rig.log.wait_for(
        lambda e: e.direction == RX and e.frame.kind is Kind.ERROR, ANSWER_S, mark
    )
    check(answer is not None, f"a CallError within {ANSWER_S:g} s", "no answer")
    expect_result(rig.call("GetConfiguration", {"key": ["HeartbeatInterval"]}, timeout=ANSWER_S),
                  "an answer to the next CALL on the same connection")  # fmt: skip


@case("VGI_RPC_03_CS", f"{OCPPJ} (payload errors)",
      "Schema-invalid CALL answered with a payload CallError")  # fmt: skip
def test_vgi_rpc_03_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a CALL whose payload breaks the schema is refused, not acted on.

    Steps: Reset with type "Sideways". Expected: a CallError with a payload error code
    (FormationViolation, PropertyConstraintViolation, ...), not Reset.conf.
    """
    boot_accepted(rig)
    exchange = rig.call("Reset", {"type": "Sideways"}, validate=False, timeout=ANSWER_S)
    check(exchange.response is not None, f"an answer within {ANSWER_S:g} s", "no answer")
    check(exchange.error_code in PAYLOAD_ERROR_CODES,
          "CallError with a payload error code (e.g. PropertyConstraintViolation)",
          exchange.describe())  # fmt: skip
