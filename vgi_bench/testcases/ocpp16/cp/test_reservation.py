"""OCPP 1.6J charge point, Reservation profile: reserve a connector, use it with the reserved
idTag only, let the reservation expire, cancel it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_status, is_call
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import clause, next_status, start_local_transaction
from vgi_bench.testcases.ocpp_steps import ANSWER_S, CONNECTOR, boot_accepted

RESERVED_TAG = "VGI-RESERVED-01"  # the central system accepts it too
EXPIRY_S = 2  # TC_047_CS: a reservation nobody uses


def _status(status: str):
    return lambda e: e.payload.get("connectorId") == CONNECTOR and e.payload.get("status") == status


def reserve(rig: CpRig, reservation_id: int, expiry_s: float = 120) -> int:
    """ReserveNow on the connector for RESERVED_TAG, Accepted, and the StatusNotification
    Reserved that follows (§5.13); the log mark after it."""
    rig.script.tokens[RESERVED_TAG] = "Accepted"
    expiry = datetime.now(timezone.utc) + timedelta(seconds=expiry_s)
    mark = rig.mark()
    exchange = rig.call("ReserveNow", {
        "connectorId": CONNECTOR, "expiryDate": expiry.isoformat(timespec="seconds"),
        "idTag": RESERVED_TAG, "reservationId": reservation_id,
    })  # fmt: skip
    expect_status(exchange, "Accepted")
    reserved = expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                           where=_status("Reserved"),
                           what=f"StatusNotification Reserved (connector {CONNECTOR})")  # fmt: skip
    return reserved.seq + 1


@case("TC_046_1_CS", clause("§5.13 Reserve Now", "TC_046_1_CS"),
      "Reservation of a Connector - Local start transaction")  # fmt: skip
def test_tc_046_1_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a reserved connector serves only the reserved idTag.

    Steps: ReserveNow connector 1 for an idTag; present another (valid) idTag; present the
    reserved idTag; plug in.
    Expected:
    1. ReserveNow.conf Accepted; StatusNotification Reserved (§5.13).
    2. For the other idTag: no Authorize.req, no StartTransaction (the connector is
       reserved).
    3. For the reserved idTag (Authorize optional): StatusNotification Preparing; on
       plug-in StartTransaction with that idTag and the reservationId (§5.13, §4.8);
       StatusNotification Charging.
    """
    boot_accepted(rig)
    mark = reserve(rig, 46)
    rig.operator("present", VALID_TOKEN)
    expect_no_call(rig.log, is_call(where=lambda e: e.frame.action in ("Authorize",
                                                                        "StartTransaction")),
                   since=mark, during=1.5,
                   what=f"no Authorize.req or StartTransaction for {VALID_TOKEN} at a connector "
                   f"reserved for {RESERVED_TAG}")  # fmt: skip
    mark = rig.mark()
    rig.operator("present", RESERVED_TAG)
    next_status(rig, "StatusNotification", "Preparing", mark, ANSWER_S)
    rig.operator("plug_in")
    start = expect_call(rig.log, "StartTransaction", since=mark, within=ANSWER_S)
    tag, reservation = start.payload.get("idTag"), start.payload.get("reservationId")
    check(tag == RESERVED_TAG, f"StartTransaction for idTag {RESERVED_TAG}", f"idTag {tag!r}")
    check(reservation == 46, "StartTransaction with reservationId 46",
          f"reservationId {reservation!r}")  # fmt: skip
    next_status(rig, "StatusNotification", "Charging", start.seq, ANSWER_S)


@case("TC_048_2_CS", clause("§5.13 Reserve Now", "TC_048_2_CS"),
      "Reservation of a Connector - Occupied")  # fmt: skip
def test_tc_048_2_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a connector in use cannot be reserved.

    Steps: plug in (StatusNotification Preparing); ReserveNow for the connector.
    Expected: ReserveNow.conf Occupied (§5.13: the connector is occupied); no
    StatusNotification Reserved.
    """
    mark = boot_accepted(rig)
    rig.operator("plug_in")
    next_status(rig, "StatusNotification", "Preparing", mark, ANSWER_S)
    rig.script.tokens[RESERVED_TAG] = "Accepted"
    expiry = datetime.now(timezone.utc) + timedelta(seconds=120)
    mark = rig.mark()
    exchange = rig.call("ReserveNow", {
        "connectorId": CONNECTOR, "expiryDate": expiry.isoformat(timespec="seconds"),
        "idTag": RESERVED_TAG, "reservationId": 482,
    })  # fmt: skip
    expect_status(exchange, "Occupied")
    expect_no_call(rig.log, is_call("StatusNotification", _status("Reserved")), since=mark,
                   during=1.0, what="no StatusNotification Reserved")  # fmt: skip


@case("TC_047_CS", clause("§5.13 Reserve Now (expiryDate)", "TC_047_CS"),
      "Reservation of a Connector - Expire")  # fmt: skip
def test_tc_047_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a reservation nobody uses ends at its expiryDate.

    Steps: ReserveNow with expiryDate 2 s ahead; nobody comes.
    Expected: StatusNotification Reserved, then Available after the expiry (+ the answer
    time) (§5.13: the reservation is terminated at the expiryDate).
    """
    boot_accepted(rig)
    mark = reserve(rig, 47, expiry_s=EXPIRY_S)
    expect_call(rig.log, "StatusNotification", since=mark, within=EXPIRY_S + ANSWER_S,
                where=_status("Available"),
                what=f"StatusNotification Available once the reservation expired "
                f"({EXPIRY_S} s)")  # fmt: skip


@case("TC_051_CS", clause("§5.1 Cancel Reservation", "TC_051_CS"), "Cancel Reservation")
def test_tc_051_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a cancelled reservation frees the connector.

    Steps: reserve connector 1; CancelReservation with its reservationId; start a
    transaction with another valid idTag.
    Expected: CancelReservation.conf Accepted; StatusNotification Available (§5.1); the
    StartTransaction for the other idTag has no reservationId.
    """
    boot_accepted(rig)
    mark = reserve(rig, 51)
    expect_status(rig.call("CancelReservation", {"reservationId": 51}), "Accepted")
    expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                where=_status("Available"),
                what="StatusNotification Available after CancelReservation")  # fmt: skip
    start = start_local_transaction(rig, rig.mark())
    reservation = start.payload.get("reservationId")
    check(reservation is None, "StartTransaction without reservationId",
          f"reservationId {reservation!r}")  # fmt: skip


@case("TC_052_CS", clause("§5.1 Cancel Reservation", "TC_052_CS"),
      "Cancel Reservation - Rejected")  # fmt: skip
def test_tc_052_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: cancelling a reservation the charge point does not have is rejected and
    leaves the real one in place.

    Steps: reserve connector 1 (reservationId 52); CancelReservation 9052.
    Expected: CancelReservation.conf Rejected (§5.1); the connector stays Reserved (no
    StatusNotification Available).
    """
    boot_accepted(rig)
    mark = reserve(rig, 52)
    expect_status(rig.call("CancelReservation", {"reservationId": 9052}), "Rejected")
    expect_no_call(rig.log, is_call("StatusNotification", _status("Available")), since=mark,
                   during=1.0, what="the connector still Reserved")  # fmt: skip
