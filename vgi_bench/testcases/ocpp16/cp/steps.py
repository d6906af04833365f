"""Steps shared by the OCPP 1.6J charge-point cases (limits: ``vgi_bench.testcases.ocpp_steps``)."""

from __future__ import annotations

from vgi_bench.cases import check
from vgi_bench.ocpp.checks import expect_call, expect_status
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.ocpp.log import Entry
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp_steps import ANSWER_S

OCTT = "OCA OCTT 1.6"


def clause(section: str, case_id: str) -> str:
    return f"OCPP 1.6 {section}; {OCTT} {case_id}"


def configure(rig: CpRig, key: str, value: str) -> None:
    """ChangeConfiguration that must be Accepted (a precondition)."""
    expect_status(rig.call("ChangeConfiguration", {"key": key, "value": value}), "Accepted")


def start_local_transaction(rig: CpRig, mark: int) -> Entry:
    """Plug in and present the valid idTag: the StartTransaction the charge point sends."""
    rig.operator("plug_in")
    rig.operator("present", VALID_TOKEN)
    start = expect_call(rig.log, "StartTransaction", since=mark, within=ANSWER_S)
    tag = start.payload.get("idTag")
    check(tag == VALID_TOKEN, f"StartTransaction for idTag {VALID_TOKEN}", f"idTag {tag!r}")
    return start


def transaction_id(rig: CpRig, start: Entry) -> int | None:
    """The transactionId the bench's central system gave in its StartTransaction.conf."""
    answer = rig.log.wait_for(
        lambda e: e.frame.unique_id == start.frame.unique_id and e.seq > start.seq, 5, start.seq
    )
    return None if answer is None else answer.payload.get("transactionId")


def next_status(
    rig: CpRig, action: str, expected: str | tuple[str, ...], since: int, within: float,
    before: list[str] | None = None,
) -> Entry:  # fmt: skip
    """The DUT's next ``action`` CALL (a status notification) from ``since`` on, which must
    carry ``status`` ``expected`` (one of them); ``before``: the statuses already seen, for
    the failure message. Appends what it saw to ``before``."""
    wanted = (expected,) if isinstance(expected, str) else expected
    text = " or ".join(wanted)
    after = f" after {', '.join(before)}" if before else ""
    entry = expect_call(rig.log, action, since=since, within=within,
                        what=f"{action} {text}{after}")  # fmt: skip
    status = entry.payload.get("status")
    check(status in wanted, f"{action} {text}{after}", f"{action} {status!r}")
    if before is not None:
        before.append(str(status))
    return entry
