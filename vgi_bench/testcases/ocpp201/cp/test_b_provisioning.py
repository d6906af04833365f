"""OCPP 2.0.1 charging station, functional block B (provisioning) and G02 (heartbeat).

The bench plays the CSMS. Boot cases answer the BootNotification as the case needs.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_call, expect_status, is_call, seen
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp201.cp.steps import (
    ANSWER_S,
    INTERVAL_S,
    TOLERANCE_S,
    boot_accepted,
    clause,
    expect_status_list,
    set_variable,
)
from vgi_bench.timing import Latency, period_stats


@case("TC_B_01_CS", clause("B01 Cold Boot Charging Station", "TC_B_01_CS"),
      "Cold Boot Charging Station - Accepted")  # fmt: skip
def test_tc_b_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a booting station registers with BootNotification and reports its connectors.

    Expected:
    1. BootNotification, valid against its schema (B01), reason PowerUp after power-up.
    2. After Accepted, a StatusNotification for the connector (B01).
    """
    rig.script.boot = [("Accepted", INTERVAL_S)]
    mark = rig.boot()
    boot = rig.log.snapshot(mark - 1)[0]
    reason = boot.payload.get("reason")
    wanted = "RemoteReset" if rig.reset_for_boot else "PowerUp"
    check(reason == wanted, f"BootNotification reason {wanted}", f"reason {reason!r}")
    status = expect_call(
        rig.log, "StatusNotification", since=boot.seq, within=ANSWER_S,
        what="StatusNotification after the accepted boot",
    )  # fmt: skip
    measurements.record("status_after_boot", Latency.between(boot.mono, status.mono))


def _retry_after_refusal(rig: CpRig, measurements: Measurements, status: str) -> None:
    """Shared body of TC_B_02/03: nothing but a retried BootNotification, after the interval."""
    rig.script.boot = [(status, INTERVAL_S), ("Accepted", INTERVAL_S)]
    mark = rig.connect()
    first = expect_call(rig.log, "BootNotification", since=mark, within=10)
    answered = rig.log.wait_for(lambda e: e.action == "BootNotification" and e.seq > first.seq, 5)
    assert answered is not None
    retry = rig.log.wait_for(is_call("BootNotification"), INTERVAL_S + TOLERANCE_S, first.seq + 1)
    if retry is None:
        fail(f"BootNotification retried {INTERVAL_S} s after {status}",
             seen(rig.log, first.seq + 1))  # fmt: skip
    gap = Latency.between(answered.mono, retry.mono, INTERVAL_S)
    measurements.record("boot_retry_after", gap)
    check(
        gap.value_ms >= (INTERVAL_S - 0.2) * 1000,
        f"BootNotification retried no earlier than the interval ({INTERVAL_S} s)",
        f"retry after {gap.value_ms:.0f} ms",
    )
    others = [
        e for e in rig.log.snapshot(first.seq + 1)
        if is_call()(e) and e.seq < retry.seq and e.frame.action != "BootNotification"
    ]  # fmt: skip
    if others:
        fail(f"no other request while {status}", others[0].frame.describe())
    expect_call(rig.log, "StatusNotification", since=retry.seq, within=ANSWER_S,
                what="StatusNotification once Accepted")  # fmt: skip


@case("TC_B_02_CS", clause("B02 Cold Boot Charging Station - Pending", "TC_B_02_CS"),
      "Cold Boot Charging Station - Pending")  # fmt: skip
def test_tc_b_02_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: while Pending, the station sends no other request and retries the boot.

    Steps: answer the first BootNotification Pending (interval 2 s), the next Accepted.
    Expected:
    1. No request other than BootNotification before the boot is accepted (B02).
    2. BootNotification again after the interval, not before (B02).
    3. StatusNotification once Accepted.
    """
    _retry_after_refusal(rig, measurements, "Pending")


@case("TC_B_03_CS", clause("B03 Cold Boot Charging Station - Rejected", "TC_B_03_CS"),
      "Cold Boot Charging Station - Rejected")  # fmt: skip
def test_tc_b_03_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: after Rejected, the station sends nothing until the interval has passed.

    Steps: answer the first BootNotification Rejected (interval 2 s), the next Accepted.
    Expected:
    1. No message before the interval has passed (B03).
    2. BootNotification again after the interval (B03); StatusNotification once Accepted.
    """
    _retry_after_refusal(rig, measurements, "Rejected")


@case("VGI_G02_01_CS", "OCPP 2.0.1 Part 2 G02 Heartbeat, B01 (BootNotificationResponse.interval)",
      "Heartbeat at the interval the CSMS set at boot")  # fmt: skip
def test_vgi_g02_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idle station sends Heartbeat at the interval of the boot response.

    Steps: accept the boot with interval 2 s; watch the idle station for three heartbeats.
    Expected:
    1. No gap between messages from the station longer than interval + 1 s (G02).
    2. Heartbeat requests valid against the schema.
    """
    mark = boot_accepted(rig)
    limit = INTERVAL_S + TOLERANCE_S
    times = []
    for _ in range(3):
        what = f"Heartbeat within {INTERVAL_S} s (+{TOLERANCE_S:g} s)"
        beat = expect_call(rig.log, "Heartbeat", since=mark, within=limit, what=what)
        times.append(beat.mono)
        mark = beat.seq + 1
    measurements.record("heartbeat_period", period_stats(times, INTERVAL_S))


def _variable(component: str, variable: str, instance: str | None = None) -> dict:
    var = {"name": variable, **({"instance": instance} if instance else {})}
    return {"component": {"name": component}, "variable": var}


@case("TC_B_06_CS", clause("B06 Get Variables", "TC_B_06_CS"), "Get Variables - single value")
def test_tc_b_06_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: the station reports one variable's Actual value.

    Steps: GetVariables OCPPCommCtrlr.HeartbeatInterval.
    Expected: attributeStatus Accepted with an attributeValue, for the component and
    variable asked (B06); the value is the interval of the boot response (B01).
    """
    boot_accepted(rig)
    ask = _variable("OCPPCommCtrlr", "HeartbeatInterval")
    result = expect_status_list(rig.call("GetVariables", {"getVariableData": [ask]}),
                                "getVariableResult")[0]  # fmt: skip
    check(result.get("attributeStatus") == "Accepted", "attributeStatus Accepted", str(result))
    check(result.get("component", {}).get("name") == "OCPPCommCtrlr"
          and result.get("variable", {}).get("name") == "HeartbeatInterval",
          "the result for OCPPCommCtrlr.HeartbeatInterval", str(result))  # fmt: skip
    value = result.get("attributeValue")
    check(value is not None, "an attributeValue with Accepted", str(result))
    check(value == str(INTERVAL_S), f"HeartbeatInterval {INTERVAL_S} (from the boot response)",
          f"attributeValue {value!r}")  # fmt: skip


@case("TC_B_09_CS", clause("B05 Set Variables", "TC_B_09_CS"), "Set Variables - single value")
def test_tc_b_09_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a variable set with SetVariables reads back with the new value.

    Steps: SetVariables TxCtrlr.EVConnectionTimeOut = 25; GetVariables it.
    Expected: SetVariables Accepted (B05); GetVariables returns "25".
    """
    boot_accepted(rig)
    set_variable(rig, "TxCtrlr", "EVConnectionTimeOut", "25")
    ask = _variable("TxCtrlr", "EVConnectionTimeOut")
    result = expect_status_list(rig.call("GetVariables", {"getVariableData": [ask]}),
                                "getVariableResult")[0]  # fmt: skip
    check(result.get("attributeValue") == "25", "EVConnectionTimeOut reads back as 25",
          f"{result.get('attributeStatus')} {result.get('attributeValue')!r}")  # fmt: skip


@case("TC_B_32_CS", clause("B06 Get Variables", "TC_B_32_CS"),
      "Get Variables - Unknown component")  # fmt: skip
def test_tc_b_32_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a variable of a component the station does not have is reported unknown.

    Expected: attributeStatus UnknownComponent and no attributeValue (B06).
    """
    boot_accepted(rig)
    ask = _variable("VgiBenchNoSuchCtrlr", "HeartbeatInterval")
    result = expect_status_list(rig.call("GetVariables", {"getVariableData": [ask]}),
                                "getVariableResult")[0]  # fmt: skip
    status = result.get("attributeStatus")
    check(status == "UnknownComponent", "attributeStatus UnknownComponent", f"{status!r}")
    check("attributeValue" not in result, "no attributeValue for an unknown component",
          str(result))  # fmt: skip


@case("TC_B_39_CS", clause("B05 Set Variables", "TC_B_39_CS"), "Set Variables - Read-only")
def test_tc_b_39_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a ReadOnly variable cannot be set.

    Steps: SetVariables DeviceDataCtrlr.ItemsPerMessage[GetVariables] = 1.
    Expected: attributeStatus Rejected (B05).
    """
    boot_accepted(rig)
    item = {**_variable("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
            "attributeValue": "1"}  # fmt: skip
    result = expect_status_list(rig.call("SetVariables", {"setVariableData": [item]}),
                                "setVariableResult")[0]  # fmt: skip
    status = result.get("attributeStatus")
    check(status == "Rejected", "attributeStatus Rejected for a ReadOnly variable", f"{status!r}")


@case("TC_B_20_CS", clause("B11 Reset - Without Ongoing Transaction", "TC_B_20_CS"),
      "Reset Charging Station - Without ongoing transaction - OnIdle")  # fmt: skip
def test_tc_b_20_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idle station accepts Reset OnIdle and reboots.

    Expected:
    1. ResetResponse Accepted (B11).
    2. The station reboots: BootNotification with reason RemoteReset (B11), then
       StatusNotification.
    """
    mark = boot_accepted(rig)
    expect_status(rig.call("Reset", {"type": "OnIdle"}), "Accepted")
    boot = expect_call(rig.log, "BootNotification", since=mark, within=30,
                       what="BootNotification after the reset")  # fmt: skip
    reason = boot.payload.get("reason")
    check(reason == "RemoteReset", "BootNotification reason RemoteReset", f"reason {reason!r}")
    measurements.record("reboot_s", round(boot.mono - rig.log.snapshot(mark)[0].mono, 3))
    expect_call(rig.log, "StatusNotification", since=boot.seq, within=ANSWER_S)
