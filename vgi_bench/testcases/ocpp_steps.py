"""Steps and limits shared by the OCPP charge-point suites (1.6 and 2.0.1).

The bench sets short intervals (heartbeat, boot retry, meter sampling) through the
standard's own means (BootNotification interval, configuration), so a case takes seconds;
the timing tolerance is the bench's, tighter than the 4 s labs use for long intervals.
"""

from __future__ import annotations

from vgi_bench.ocpp.checks import expect_call
from vgi_bench.rigs.ocpp_cp import CpRig

INTERVAL_S = 2  # heartbeat / boot retry interval the bench's CSMS hands out
TOLERANCE_S = 1.0  # on top of an interval
ANSWER_S = 5.0  # a message the DUT sends on its own after an event
METER_INTERVAL_S = 1


CONNECTOR = 1  # the connector every case drives (EVSE 1 in 2.0.1)


def boot_accepted(rig: CpRig) -> int:
    """Precondition 'Booted': boot Accepted with the short interval; the mark after the
    boot-time StatusNotification of the connector under test.

    A charge point reports every connector once Accepted (1.6 §4.9: connector 0 first, then
    each connector; 2.0.1 B01), so waiting for connector 1's report keeps that report from
    being taken for the answer to the case's own first action.
    """
    rig.script.boot = [("Accepted", INTERVAL_S)]
    mark = rig.boot()
    status = expect_call(
        rig.log, "StatusNotification", since=mark, within=ANSWER_S,
        where=lambda e: e.payload.get("connectorId") == CONNECTOR,
        what=f"StatusNotification for connector {CONNECTOR} after the accepted boot",
    )  # fmt: skip
    return status.seq + 1
