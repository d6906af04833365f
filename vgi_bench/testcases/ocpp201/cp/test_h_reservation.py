"""OCPP 2.0.1 charging station, functional block H (reservation)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_status, is_call
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import ANSWER_S, OCTT, boot_accepted, clause, id_token
from vgi_bench.timing import Latency

RESERVATION_ID = 7101
#: Another idToken the bench's CSMS accepts: only the reservation keeps it from charging.
OTHER_TOKEN = "VGI-OTHER-0003"
EXPIRY_S = 2.0  # the short reservation of TC_H_07_CS


def _status_is(status: str):
    return lambda e: e.payload.get("connectorStatus") == status and e.payload.get("evseId") == 1


def _started(entry) -> bool:
    return entry.payload.get("eventType") == "Started"


def reserve(rig: CpRig, seconds: float = 300.0) -> int:
    """ReserveNow EVSE 1 for the valid idToken; Accepted and reported Reserved. The mark
    after the Reserved StatusNotification."""
    expiry = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    request = {"id": RESERVATION_ID, "evseId": 1, "idToken": id_token(VALID_TOKEN),
               "expiryDateTime": expiry.isoformat(timespec="milliseconds")
               .replace("+00:00", "Z")}  # fmt: skip
    mark = rig.mark()
    expect_status(rig.call("ReserveNow", request), "Accepted")
    reserved = expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                           where=_status_is("Reserved"),
                           what="StatusNotification Reserved (EVSE 1)")  # fmt: skip
    return reserved.seq + 1


@contextlib.contextmanager
def reserved(rig: CpRig) -> Iterator[int]:
    """:func:`reserve`, cancelled again however the case ends (a real station would stay
    reserved for the next cases when an operator step skips the case)."""
    mark = reserve(rig)
    try:
        yield mark
    finally:
        with contextlib.suppress(Exception):
            rig.call("CancelReservation", {"reservationId": RESERVATION_ID})


@case("TC_H_01_CS", clause("H01 Reservation", "TC_H_01_CS"),
      "Reserve a specific EVSE - Accepted - Valid idToken")  # fmt: skip
def test_tc_h_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a reserved EVSE is reported Reserved and charges for the reserving idToken.

    Steps: ReserveNow (id 7101, evseId 1, the valid idToken, expiry in 5 min); plug in;
    present that idToken.
    Expected:
    1. ReserveNowResponse Accepted; StatusNotification Reserved for EVSE 1 (H01).
    2. TransactionEvent Started with reservationId 7101 (H01).
    """
    boot_accepted(rig)
    with reserved(rig) as mark:
        rig.operator("plug_in")
        rig.operator("present", VALID_TOKEN)
        started = expect_call(rig.log, "TransactionEvent", since=mark, within=ANSWER_S,
                              where=_started, what="TransactionEvent Started")  # fmt: skip
    reservation = started.payload.get("reservationId")
    check(reservation == RESERVATION_ID, f"Started with reservationId {RESERVATION_ID}",
          f"reservationId {reservation!r}")  # fmt: skip


@case("TC_H_02_CS", clause("H01 Reservation", "TC_H_02_CS"),
      "Reserve a specific EVSE - Accepted - Different idToken")  # fmt: skip
def test_tc_h_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a reserved EVSE does not charge for another idToken.

    Steps: ReserveNow (id 7101, evseId 1, the valid idToken); plug in; present another
    idToken the CSMS would accept.
    Expected:
    1. ReserveNowResponse Accepted; StatusNotification Reserved (H01).
    2. No TransactionEvent Started for the other idToken (H01: the EVSE is reserved for
       the reserving idToken only).
    """
    boot_accepted(rig)
    rig.script.tokens[OTHER_TOKEN] = "Accepted"
    with reserved(rig) as mark:
        rig.operator("plug_in")
        rig.operator("present", OTHER_TOKEN)
        expect_no_call(rig.log, is_call("TransactionEvent", _started), since=mark, during=3.0,
                       what=f"no transaction for {OTHER_TOKEN} on the EVSE reserved for "
                       "another idToken")  # fmt: skip


@case("TC_H_07_CS", clause("H01 Reservation", "TC_H_07_CS"),
      "Reserve a specific EVSE - Reservation Ended / not used")  # fmt: skip
def test_tc_h_07_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an unused reservation ends at its expiryDateTime.

    Steps: ReserveNow (id 7101, evseId 1) expiring in 2 s; wait.
    Expected:
    1. ReserveNowResponse Accepted; StatusNotification Reserved (H01).
    2. ReservationStatusUpdate reservationId 7101, reservationUpdateStatus Expired, then
       StatusNotification Available (H01).
    """
    boot_accepted(rig)
    mark = reserve(rig, EXPIRY_S)
    update = expect_call(rig.log, "ReservationStatusUpdate", since=mark,
                         within=EXPIRY_S + ANSWER_S,
                         what="ReservationStatusUpdate after the expiryDateTime")  # fmt: skip
    got = (update.payload.get("reservationId"), update.payload.get("reservationUpdateStatus"))
    check(got == (RESERVATION_ID, "Expired"), f"reservation {RESERVATION_ID} Expired",
          f"reservation {got[0]!r} {got[1]!r}")  # fmt: skip
    expect_call(
        rig.log,
        "StatusNotification",
        since=mark,
        within=ANSWER_S,
        where=_status_is("Available"),
        what="StatusNotification Available (EVSE 1)",
    )
    measurements.record(
        "expired_after_reserved", Latency.between(rig.log.snapshot(mark - 1)[0].mono, update.mono)
    )


@case("TC_H_17_CS", clause("H02 Cancel Reservation", "TC_H_17_CS"),
      "Cancel reservation of an EVSE - Success")  # fmt: skip
def test_tc_h_17_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a cancelled reservation frees the EVSE.

    Steps: ReserveNow (id 7101, evseId 1); CancelReservation 7101.
    Expected:
    1. CancelReservationResponse Accepted (H02).
    2. StatusNotification Available for EVSE 1 (H02).
    """
    boot_accepted(rig)
    mark = reserve(rig)
    exchange = rig.call("CancelReservation", {"reservationId": RESERVATION_ID})
    expect_status(exchange, "Accepted")
    available = expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                            where=_status_is("Available"),
                            what="StatusNotification Available (EVSE 1)")  # fmt: skip
    measurements.record(
        "available_after_cancel", Latency.between(exchange.request.mono, available.mono)
    )


@case("TC_H_18_CS", clause("H02 Cancel Reservation", "TC_H_18_CS"),
      "Cancel reservation of an EVSE - Rejected")  # fmt: skip
def test_tc_h_18_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: cancelling a reservation the station does not have fails.

    Steps: CancelReservation 7999 on a station without reservations.
    Expected: CancelReservationResponse Rejected (H02).
    """
    boot_accepted(rig)
    expect_status(rig.call("CancelReservation", {"reservationId": 7999}), "Rejected")


@case("VGI_H_01_CS", "OCPP 2.0.1 Part 2 H01 Reservation (H01.FR.13), G03 Change Availability "
      f"EVSE/Connector; as {OCTT} TC_H_01_CS on an Inoperative EVSE",
      "Reserve a specific EVSE - Unavailable")  # fmt: skip
def test_vgi_h_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an EVSE the CSMS set Inoperative is not reserved.

    Steps: ChangeAvailability Inoperative for EVSE 1; ReserveNow (id 7101, evseId 1, the
    valid idToken, expiry in 5 min); ChangeAvailability Operative again at the end.
    Expected:
    1. ChangeAvailabilityResponse Accepted; StatusNotification Unavailable (G03).
    2. ReserveNowResponse Unavailable (H01.FR.13); no StatusNotification Reserved.
    """
    mark = boot_accepted(rig)
    inoperative = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    expect_status(rig.call("ChangeAvailability", inoperative), "Accepted")
    try:
        expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                    where=_status_is("Unavailable"),
                    what="StatusNotification Unavailable (EVSE 1)")  # fmt: skip
        expiry = datetime.now(timezone.utc) + timedelta(minutes=5)
        request = {"id": RESERVATION_ID, "evseId": 1, "idToken": id_token(VALID_TOKEN),
                   "expiryDateTime": expiry.isoformat(timespec="milliseconds")
                   .replace("+00:00", "Z")}  # fmt: skip
        mark = rig.mark()
        expect_status(rig.call("ReserveNow", request), "Unavailable")
        expect_no_call(rig.log, is_call("StatusNotification", _status_is("Reserved")),
                       since=mark, during=1.0,
                       what="no StatusNotification Reserved for the Inoperative EVSE")  # fmt: skip
    finally:
        with contextlib.suppress(Exception):
            rig.call("CancelReservation", {"reservationId": RESERVATION_ID})
        with contextlib.suppress(Exception):
            rig.call("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}})
