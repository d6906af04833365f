"""OCPP 1.6J charge point, Local Auth List Management profile: the list's version, Full and
Differential updates, and starting a transaction on an idTag the list accepts.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check
from vgi_bench.ocpp.checks import expect_call, expect_no_call, expect_result, expect_status, is_call
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import clause, configure, next_status
from vgi_bench.testcases.ocpp_steps import ANSWER_S, boot_accepted

LOCAL_TAG = "VGI-LOCAL-0001"  # only in the Local Authorization List the bench sends
OTHER_TAG = "VGI-LOCAL-0002"


def _entry(tag: str, status: str = "Accepted") -> dict:
    return {"idTag": tag, "idTagInfo": {"status": status}}


def send_local_list(rig: CpRig, version: int, update: str, entries: list[dict] | None) -> None:
    """SendLocalList that must be Accepted."""
    payload: dict = {"listVersion": version, "updateType": update}
    if entries is not None:
        payload["localAuthorizationList"] = entries
    what = f"SendLocalList.conf to a {update} update (listVersion {version})"
    expect_status(rig.call("SendLocalList", payload), "Accepted", what=what)


def expect_list_version(rig: CpRig, version: int, after: str) -> None:
    seen = expect_result(rig.call("GetLocalListVersion", {})).get("listVersion")
    check(seen == version, f"GetLocalListVersion.conf listVersion {version} {after}",
          f"listVersion {seen!r}")  # fmt: skip


@case("TC_042_2_CS", clause("§5.10 Get Local List Version, §5.15 Send Local List", "TC_042_2_CS"),
      "Get Local List Version (empty)")  # fmt: skip
def test_tc_042_2_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an empty Local Authorization List has version 0, whatever version the Full
    update that emptied it carried.

    Steps: LocalAuthListEnabled true; SendLocalList Full, listVersion 1, no list.
    Expected: SendLocalList.conf Accepted; GetLocalListVersion.conf listVersion 0 (§5.10:
    "A version number of 0 (zero) SHALL be used to indicate that the local authorization
    list is empty").
    """
    boot_accepted(rig)
    configure(rig, "LocalAuthListEnabled", "true")
    send_local_list(rig, 1, "Full", None)
    expect_list_version(rig, 0, "(the list is empty)")


@case("TC_043_CS", clause("§5.15 Send Local List, §5.10 Get Local List Version", "TC_043_CS"),
      "Send Local Authorization List")  # fmt: skip
def test_tc_043_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: Full and Differential updates are accepted and set the list's version.

    Steps: LocalAuthListEnabled true; SendLocalList Full listVersion 2 with one idTag;
    SendLocalList Differential listVersion 5 adding another.
    Expected: both SendLocalList.conf Accepted; GetLocalListVersion.conf 2 after the Full
    and 5 after the Differential update (§5.15: the version the list has "after the
    update has been applied").
    """
    boot_accepted(rig)
    configure(rig, "LocalAuthListEnabled", "true")
    send_local_list(rig, 2, "Full", [_entry(LOCAL_TAG)])
    expect_list_version(rig, 2, "after the Full update")
    send_local_list(rig, 5, "Differential", [_entry(OTHER_TAG)])
    expect_list_version(rig, 5, "after the Differential update")


@case("TC_043_2_CS", clause("§5.15 Send Local List", "TC_043_2_CS"),
      "Send Local Authorization List - VersionMismatch")  # fmt: skip
def test_tc_043_2_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a Differential update not newer than the list is refused.

    Steps: LocalAuthListEnabled true; SendLocalList Full listVersion 2; Differential
    listVersion 5; Differential listVersion 3.
    Expected: the first two Accepted, GetLocalListVersion 2 then 5; the third
    SendLocalList.conf VersionMismatch (§5.15; UpdateStatus VersionMismatch: "Version
    number in the request for a differential update is less or equal then version number
    of current list");
    GetLocalListVersion still 5.
    """
    boot_accepted(rig)
    configure(rig, "LocalAuthListEnabled", "true")
    send_local_list(rig, 2, "Full", [_entry(LOCAL_TAG)])
    expect_list_version(rig, 2, "after the Full update")
    send_local_list(rig, 5, "Differential", [_entry(OTHER_TAG)])
    expect_list_version(rig, 5, "after the Differential update")
    stale = {"listVersion": 3, "updateType": "Differential",
             "localAuthorizationList": [_entry(OTHER_TAG, "Blocked")]}  # fmt: skip
    what = "SendLocalList.conf to a Differential update with listVersion 3 < 5"
    expect_status(rig.call("SendLocalList", stale), "VersionMismatch", what=what)
    expect_list_version(rig, 5, "after the refused update")


@case("TC_008_CS", clause("§3.5 Local Authorization, §5.15 Send Local List", "TC_008_CS"),
      "Regular Start Charging Session – Id in Local Authorization List")  # fmt: skip
def test_tc_008_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: with LocalPreAuthorize, an idTag the Local Authorization List accepts starts
    a transaction without asking the central system.

    Steps: LocalPreAuthorize and LocalAuthListEnabled true; SendLocalList Full with an
    idTag the central system's Authorize would not know; present it; plug in.
    Expected: StatusNotification Preparing; StartTransaction for the idTag; no
    Authorize.req before it (§3.5 LocalPreAuthorize: the list is used "without waiting for
    authorization response from the Central System"); StatusNotification Charging.
    """
    mark = boot_accepted(rig)
    configure(rig, "LocalAuthListEnabled", "true")
    configure(rig, "LocalPreAuthorize", "true")
    send_local_list(rig, 1, "Full", [_entry(LOCAL_TAG)])
    rig.script.tokens[LOCAL_TAG] = "Accepted"  # StartTransaction.conf; Authorize is not asked
    mark = rig.mark()
    rig.operator("present", LOCAL_TAG)
    expect_no_call(rig.log, is_call("Authorize"), since=mark, during=1.0,
                   what=f"no Authorize.req for {LOCAL_TAG}, Accepted in the Local Authorization "
                   "List with LocalPreAuthorize true")  # fmt: skip
    next_status(rig, "StatusNotification", "Preparing", mark, ANSWER_S)
    rig.operator("plug_in")
    start = expect_call(rig.log, "StartTransaction", since=mark, within=ANSWER_S)
    tag = start.payload.get("idTag")
    check(tag == LOCAL_TAG, f"StartTransaction for idTag {LOCAL_TAG}", f"idTag {tag!r}")
    next_status(rig, "StatusNotification", "Charging", start.seq, ANSWER_S)
