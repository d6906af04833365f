"""OCPP 2.0.1 charging station, functional block G (availability, status notifications)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case
from vgi_bench.ocpp.checks import expect_call, expect_status
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import ANSWER_S, boot_accepted, clause
from vgi_bench.timing import Latency


def _status_is(status: str):
    return lambda e: e.payload.get("connectorStatus") == status and e.payload.get("evseId") == 1


@case("TC_G_01_CS", clause("G01 Status Notification", "TC_G_01_CS"),
      "Connector status Notification - Available to Occupied")  # fmt: skip
def test_tc_g_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: plugging in a cable is reported.

    Expected: StatusNotification connectorStatus Occupied for EVSE 1 (G01).
    """
    mark = boot_accepted(rig)
    rig.operator("plug_in")
    what = "StatusNotification Occupied (EVSE 1)"
    expect_call(
        rig.log,
        "StatusNotification",
        since=mark,
        within=ANSWER_S,
        where=_status_is("Occupied"),
        what=what,
    )


@case("TC_G_03_CS", clause("G03 Change Availability EVSE/Connector", "TC_G_03_CS"),
      "Change Availability EVSE - Operative to inoperative")  # fmt: skip
def test_tc_g_03_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idle EVSE set Inoperative becomes Unavailable.

    Expected: ChangeAvailabilityResponse Accepted; StatusNotification Unavailable (G03).
    """
    mark = boot_accepted(rig)
    exchange = rig.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                               "evse": {"id": 1}})  # fmt: skip
    expect_status(exchange, "Accepted")
    status = expect_call(
        rig.log, "StatusNotification", since=mark, within=ANSWER_S,
        where=_status_is("Unavailable"), what="StatusNotification Unavailable (EVSE 1)",
    )  # fmt: skip
    measurements.record("status_after_request", Latency.between(exchange.request.mono, status.mono))
    _restore_operative(rig)


def _restore_operative(rig: CpRig) -> None:
    """Leave the station as found: availability persists, even across reboots (G03)."""
    rig.call("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}})


@case("TC_G_04_CS", clause("G03 Change Availability EVSE/Connector", "TC_G_04_CS"),
      "Change Availability EVSE - Inoperative to operative")  # fmt: skip
def test_tc_g_04_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an Inoperative EVSE set Operative becomes Available again.

    Before: the EVSE is Inoperative (ChangeAvailability, StatusNotification Unavailable).
    Expected: ChangeAvailabilityResponse Accepted; StatusNotification Available (G03).
    """
    mark = boot_accepted(rig)
    expect_status(rig.call("ChangeAvailability", {"operationalStatus": "Inoperative",
                                                  "evse": {"id": 1}}), "Accepted")  # fmt: skip
    down = expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                       where=_status_is("Unavailable"), what="(before) Unavailable")  # fmt: skip
    exchange = rig.call("ChangeAvailability", {"operationalStatus": "Operative",
                                               "evse": {"id": 1}})  # fmt: skip
    expect_status(exchange, "Accepted")
    what = "StatusNotification Available (EVSE 1)"
    expect_call(
        rig.log, "StatusNotification", since=down.seq + 1, within=ANSWER_S,
        where=_status_is("Available"), what=what,
    )  # fmt: skip
