"""OCPP 2.0.1 charging station, functional block D (local authorization list)."""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_result, expect_status, is_call
from vgi_bench.ocpp.csms_handlers import VALID_TOKEN
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    OCTT,
    boot_accepted,
    clause,
    id_token,
    is_charging,
    set_variable,
    set_variable_if_implemented,
)

#: An idToken the bench puts on the station's local list (its CSMS accepts it too).
LOCAL_TOKEN = "VGI-LOCAL-0002"
#: An idToken the bench puts on the local list as Blocked (its CSMS says Blocked too).
BLOCKED_TOKEN = "VGI-BLOCKED-0004"


def _entry(token: str, status: str = "Accepted") -> dict:
    return {"idToken": id_token(token), "idTokenInfo": {"status": status}}


def send_local_list(rig: CpRig, version: int, update: str, entries: list[dict], *allowed: str):
    request = {"versionNumber": version, "updateType": update,
               "localAuthorizationList": entries}  # fmt: skip
    return expect_status(rig.call("SendLocalList", request), *(allowed or ("Accepted",)),
                         what=f"SendLocalList {update} version {version}")  # fmt: skip


def expect_version(rig: CpRig, version: int, why: str) -> None:
    payload = expect_result(rig.call("GetLocalListVersion", {}))
    got = payload.get("versionNumber")
    check(got == version, f"GetLocalListVersion versionNumber {version} ({why})", f"{got!r}")


@case("TC_D_01_CS", clause("D01 Send Local Authorization List", "TC_D_01_CS"),
      "Send Local Authorization List - Full")  # fmt: skip
def test_tc_d_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a Full local list replaces the station's list and its version.

    Steps: GetLocalListVersion; SendLocalList Full, versionNumber 3, two Accepted idTokens;
    GetLocalListVersion.
    Expected:
    1. GetLocalListVersionResponse with a versionNumber (D02).
    2. SendLocalListResponse Accepted (D01).
    3. GetLocalListVersion then reports versionNumber 3 (D01, D02).
    """
    boot_accepted(rig)
    before = expect_result(rig.call("GetLocalListVersion", {})).get("versionNumber")
    check(isinstance(before, int), "GetLocalListVersionResponse with a versionNumber",
          f"{before!r}")  # fmt: skip
    measurements.record("version_before", before)
    send_local_list(rig, 3, "Full", [_entry(VALID_TOKEN), _entry(LOCAL_TOKEN)])
    expect_version(rig, 3, "after the Full list")


@case("TC_D_02_CS", clause("D01 Send Local Authorization List; C14 Online authorization "
                           "through Local Authorization List", "TC_D_02_CS"),
      "Send Local Authorization List - Differential Update")  # fmt: skip
def test_tc_d_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a Differential update adds an idToken the station then authorizes locally.

    Steps: set AuthCtrlr.LocalPreAuthorize true; SendLocalList Full version 1 (one
    idToken), Differential version 2 adding VGI-LOCAL-0002 Accepted; plug in; present
    VGI-LOCAL-0002.
    Expected:
    1. Both SendLocalList Accepted; GetLocalListVersion reports 2 (D01).
    2. The transaction starts for VGI-LOCAL-0002 (TransactionEvent Started with that
       idToken) without an AuthorizeRequest first: it is Accepted on the local list and
       LocalPreAuthorize is true (C14).
    """
    boot_accepted(rig)
    rig.operator("plug_in")
    set_variable(rig, "AuthCtrlr", "LocalPreAuthorize", "true")
    send_local_list(rig, 1, "Full", [_entry(VALID_TOKEN)])
    send_local_list(rig, 2, "Differential", [_entry(LOCAL_TOKEN)])
    expect_version(rig, 2, "after the Differential update")
    rig.script.tokens[LOCAL_TOKEN] = "Accepted"  # the CSMS agrees with the list it sent
    mark = rig.mark()
    rig.operator("present", LOCAL_TOKEN)
    started = expect_call(
        rig.log, "TransactionEvent", since=mark, within=ANSWER_S,
        where=lambda e: e.payload.get("eventType") == "Started",
        what=f"TransactionEvent Started for {LOCAL_TOKEN}",
    )  # fmt: skip
    token = started.payload.get("idToken", {}).get("idToken")
    check(token == LOCAL_TOKEN, f"Started with idToken {LOCAL_TOKEN}", f"{token!r}")
    authorize = [e for e in rig.log.snapshot(mark) if is_call("Authorize")(e)
                 and e.seq < started.seq]  # fmt: skip
    if authorize:
        fail(f"no AuthorizeRequest for {LOCAL_TOKEN} (Accepted on the local list, "
             "LocalPreAuthorize true)", authorize[0].frame.describe())  # fmt: skip


@case("TC_D_06_CS", clause("D01 Send Local Authorization List", "TC_D_06_CS"),
      "Send Local Authorization List - VersionMismatch")  # fmt: skip
def test_tc_d_06_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a Differential update older than the station's list is refused.

    Steps: SendLocalList Full version 5; SendLocalList Differential version 4.
    Expected:
    1. The Full list Accepted (D01).
    2. The Differential one VersionMismatch: its versionNumber is not greater than the
       list's (D01, SendLocalListStatusEnumType); GetLocalListVersion still reports 5.
    """
    boot_accepted(rig)
    send_local_list(rig, 5, "Full", [_entry(VALID_TOKEN)])
    send_local_list(rig, 4, "Differential", [_entry(LOCAL_TOKEN)], "VersionMismatch")
    expect_version(rig, 5, "the refused update changes nothing")


@case("VGI_D_01_CS",
      "OCPP 2.0.1 Part 2 C14 Online authorization through Local Authorization List "
      f"(C14.FR.02/03), D01 Send Local Authorization List; as {OCTT} TC_C_10_CS does for "
      "the Authorization Cache",
      "Local Authorization List - Blocked idToken does not start")  # fmt: skip
def test_vgi_d_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idToken the local list holds as Blocked does not start a transaction,
    even with LocalPreAuthorize true.

    The bench's reading of C14: LocalPreAuthorize lets the station start at once only for
    an idToken Accepted in its list (C14.FR.02); for one listed with another status it
    asks the CSMS (C14.FR.03, unless LocalAuthListCtrlr.DisablePostAuthorize is true,
    which the bench sets false where implemented). The bench's CSMS answers that Authorize
    with Blocked too, so the list and the CSMS agree: no reading lets the station charge.

    Steps: AuthCtrlr.LocalPreAuthorize true, LocalAuthListCtrlr.DisablePostAuthorize false
    (if implemented); SendLocalList Full version 1 with VGI-BLOCKED-0004 Blocked; plug in;
    present VGI-BLOCKED-0004.
    Expected:
    1. SendLocalList Accepted (D01).
    2. An AuthorizeRequest for VGI-BLOCKED-0004 (C14.FR.03), answered Blocked.
    3. No TransactionEvent Started and no charging within 3 s (C14, C01).
    """
    boot_accepted(rig)
    rig.operator("plug_in")
    set_variable(rig, "AuthCtrlr", "LocalPreAuthorize", "true")
    set_variable_if_implemented(rig, "LocalAuthListCtrlr", "DisablePostAuthorize", "false")
    send_local_list(rig, 1, "Full", [_entry(BLOCKED_TOKEN, "Blocked")])
    rig.script.tokens[BLOCKED_TOKEN] = "Blocked"  # the CSMS agrees with its list
    mark = rig.mark()
    rig.operator("present", BLOCKED_TOKEN)
    expect_no_call(
        rig.log, is_call("TransactionEvent", lambda e: e.payload.get("eventType") == "Started"
                         or is_charging(e)),
        since=mark, during=3.0, what=f"no transaction for {BLOCKED_TOKEN} (Blocked in the "
        "local list and at the CSMS)",
    )  # fmt: skip
    auth = expect_call(rig.log, "Authorize", since=mark, within=0.1,
                       what=f"AuthorizeRequest for {BLOCKED_TOKEN} (listed, not Accepted: "
                       "C14.FR.03)")  # fmt: skip
    token = auth.payload.get("idToken", {}).get("idToken")
    check(token == BLOCKED_TOKEN, f"Authorize for idToken {BLOCKED_TOKEN}", f"idToken {token!r}")
