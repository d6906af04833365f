"""Transfer: a refused push is sent again (T/CEC 102.4 §4.6 retransmission)."""

from __future__ import annotations

from vgi_bench.cases import case, check
from vgi_bench.platform.ret import Ret
from vgi_bench.testcases.tcec102.platform.steps import STATUS_CHARGING, start_charge, waited


def _charging(data: dict) -> bool:
    return data["ConnectorStatusInfo"]["Status"] == STATUS_CHARGING


@case("TCEC.N.02", "T/CEC 102.4-2016 §4.6 notification_stationStatus",
      "A push refused with Ret -1 is sent again")  # fmt: skip
def test_tcec_n02_retransmission(rig) -> None:
    """Purpose: part 4 §4.6: a push that does not go through is sent again (more than 3
    times, 1 min apart recommended).

    Steps: the bench answers the next notification_stationStatus with Status 3 (charging)
    with Ret -1 (系统繁忙, retry later); start a charge.
    Expected: 1. that push arrives within ``ack_limit_s``; 2. the same push (the
    connector, Status 3) arrives again within ``retry_wait_s`` of the refusal. Bench
    interpretation: one retransmission is checked -- the full count at the recommended
    interval would take minutes -- and Ret -1 stands for any refusal.
    """
    rig.inbox.refuse("notification_stationStatus", Ret.BUSY, _charging)
    _, connector_id, _, mark = start_charge(rig)

    def same(data: dict) -> bool:
        return _charging(data) and data["ConnectorStatusInfo"]["ConnectorID"] == connector_id

    first = waited(rig, "notification_stationStatus", mark, same,
                   f"notification_stationStatus {connector_id} Status 3")  # fmt: skip
    wait = rig.config.retry_wait_s
    after = rig.inbox.items.index(first) + 1
    again = rig.inbox.wait("notification_stationStatus", wait, since=after, match=same)
    check(again is not None,
          f"notification_stationStatus {connector_id} Status 3 sent again within {wait:g} s "
          "of the Ret -1", "sent once")  # fmt: skip
    rig.measurements.record("retransmitted_after_s", round(again.t - first.t, 3))
