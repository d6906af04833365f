"""OCPP 1.6J charge point, Core profile: boot, heartbeat, configuration, reset, availability.

The bench plays the central system.
"""

from __future__ import annotations

from vgi_bench.cases import Measurements, case, check, fail
from vgi_bench.ocpp.checks import expect_call, expect_result, expect_status, is_call, seen
from vgi_bench.rigs.ocpp_cp import CpRig
from vgi_bench.testcases.ocpp16.cp.steps import clause, configure
from vgi_bench.testcases.ocpp_steps import ANSWER_S, INTERVAL_S, TOLERANCE_S, boot_accepted
from vgi_bench.timing import Latency, period_stats

#: Core keys a 1.6 charge point must report (OCPP 1.6 §9.1, "required" keys; a sample).
REQUIRED_KEYS = (
    "HeartbeatInterval", "MeterValueSampleInterval", "ConnectionTimeOut", "NumberOfConnectors",
    "MeterValuesSampledData", "ResetRetries", "StopTransactionOnInvalidId",
)  # fmt: skip


@case("TC_001_CS", clause("§4.2 Boot Notification, §4.9 Status Notification", "TC_001_CS"),
      "Cold Boot Charge Point")  # fmt: skip
def test_tc_001_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a booting charge point registers and reports its connectors.

    Expected:
    1. BootNotification valid against its schema (§4.2).
    2. After Accepted, StatusNotification for the connector(s) (§4.2, §4.9).
    """
    rig.script.boot = [("Accepted", INTERVAL_S)]
    mark = rig.boot()
    boot = rig.log.snapshot(mark - 1)[0]
    status = expect_call(rig.log, "StatusNotification", since=mark, within=ANSWER_S,
                         what="StatusNotification after the accepted boot")  # fmt: skip
    measurements.record("status_after_boot", Latency.between(boot.mono, status.mono))


@case("TC_002_CS", clause("§4.2 Boot Notification (Pending)", "TC_002_CS"),
      "Cold Boot Charge Point - Pending")  # fmt: skip
def test_tc_002_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: while Pending, the charge point sends no other request and retries.

    Steps: answer the first BootNotification Pending (interval 2 s), the next Accepted.
    Expected: nothing but BootNotification until Accepted; the retry after the interval,
    not before (§4.2); StatusNotification once Accepted.
    """
    rig.script.boot = [("Pending", INTERVAL_S), ("Accepted", INTERVAL_S)]
    mark = rig.connect()
    first = expect_call(rig.log, "BootNotification", since=mark, within=10)
    answered = rig.log.wait_for(lambda e: e.action == "BootNotification" and e.seq > first.seq, 5)
    assert answered is not None
    retry = rig.log.wait_for(is_call("BootNotification"), INTERVAL_S + TOLERANCE_S, first.seq + 1)
    if retry is None:
        fail(f"BootNotification retried {INTERVAL_S} s after Pending", seen(rig.log, first.seq + 1))
    others = [e for e in rig.log.snapshot(first.seq + 1)
              if is_call()(e) and e.seq < retry.seq]  # fmt: skip
    if others:
        fail("no other request while Pending", others[0].frame.describe())
    gap = Latency.between(answered.mono, retry.mono, INTERVAL_S)
    measurements.record("boot_retry_after", gap)
    check(gap.value_ms >= (INTERVAL_S - 0.2) * 1000,
          f"BootNotification retried no earlier than the interval ({INTERVAL_S} s)",
          f"retry after {gap.value_ms:.0f} ms")  # fmt: skip
    expect_call(rig.log, "StatusNotification", since=retry.seq, within=ANSWER_S)


@case("VGI_HB_01_CS", "OCPP 1.6 §4.6 Heartbeat, §4.2 (BootNotification.conf interval)",
      "Heartbeat at the interval the central system set at boot")  # fmt: skip
def test_vgi_hb_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idle charge point sends Heartbeat at the interval of the boot answer.

    Expected: three Heartbeats, each within interval (2 s) + 1 s of the one before (§4.6).
    """
    mark = boot_accepted(rig)
    times = []
    for _ in range(3):
        what = f"Heartbeat within {INTERVAL_S} s (+{TOLERANCE_S:g} s)"
        beat = expect_call(
            rig.log, "Heartbeat", since=mark, within=INTERVAL_S + TOLERANCE_S, what=what
        )
        times.append(beat.mono)
        mark = beat.seq + 1
    measurements.record("heartbeat_period", period_stats(times, INTERVAL_S))


def _keys(rig: CpRig, keys: list[str] | None = None) -> dict:
    payload = {"key": keys} if keys else {}
    return expect_result(rig.call("GetConfiguration", payload))


@case("TC_019_CS", clause("§5.8 Get Configuration, §9.1 Core keys", "TC_019_CS"),
      "Retrieve configuration")  # fmt: skip
def test_tc_019_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: GetConfiguration without keys lists the configuration, Core keys included.

    Expected: configurationKey holds the required Core keys (§9.1), each with readonly;
    HeartbeatInterval is the interval of the boot answer.
    """
    boot_accepted(rig)
    listed = {k.get("key"): k for k in _keys(rig).get("configurationKey", [])}
    missing = [k for k in REQUIRED_KEYS if k not in listed]
    check(not missing, "the required Core keys in GetConfiguration", f"missing {missing}")
    value = listed["HeartbeatInterval"].get("value")
    check(value == str(INTERVAL_S), f"HeartbeatInterval {INTERVAL_S}", f"{value!r}")


@case("TC_021_CS", clause("§5.3 Change Configuration", "TC_021_CS"), "Change/set Configuration")
def test_tc_021_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a changed key reads back with the new value.

    Expected: ChangeConfiguration MeterValueSampleInterval=7 Accepted; GetConfiguration 7.
    """
    boot_accepted(rig)
    configure(rig, "MeterValueSampleInterval", "7")
    keys = _keys(rig, ["MeterValueSampleInterval"]).get("configurationKey", [])
    value = keys[0].get("value") if keys else None
    check(value == "7", "MeterValueSampleInterval reads back as 7", f"{value!r}")


@case("TC_040_1_CS", clause("§5.3 Change Configuration", "TC_040_1_CS"),
      "Configuration key - NotSupported")  # fmt: skip
def test_tc_040_1_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an unknown key is reported as not supported. Expected: NotSupported (§5.3)."""
    boot_accepted(rig)
    exchange = rig.call("ChangeConfiguration", {"key": "VgiBenchNoSuchKey", "value": "1"})
    expect_status(exchange, "NotSupported")


@case("TC_040_2_CS", clause("§5.3 Change Configuration", "TC_040_2_CS"),
      "Configuratoin key - Invalid value")  # fmt: skip
def test_tc_040_2_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: a value of the wrong type is refused. Expected: Rejected (§5.3)."""
    boot_accepted(rig)
    exchange = rig.call("ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                "value": "often"})  # fmt: skip
    expect_status(exchange, "Rejected")


@case("TC_013_CS", clause("§5.13 Reset", "TC_013_CS"), "Hard Reset Without transaction")
def test_tc_013_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: Reset Hard reboots the charge point.

    Expected: Reset.conf Accepted; a new BootNotification, then StatusNotification (§5.13).
    """
    mark = boot_accepted(rig)
    exchange = rig.call("Reset", {"type": "Hard"})
    expect_status(exchange, "Accepted")
    boot = expect_call(rig.log, "BootNotification", since=mark, within=30,
                       what="BootNotification after the reset")  # fmt: skip
    measurements.record("reboot", Latency.between(exchange.request.mono, boot.mono))
    expect_call(rig.log, "StatusNotification", since=boot.seq, within=ANSWER_S)


@case("VGI_AV_01_CS", "OCPP 1.6 §5.2 Change Availability, §4.9 Status Notification",
      "Change availability of a connector to Inoperative")  # fmt: skip
def test_vgi_av_01_cs(rig: CpRig, measurements: Measurements) -> None:
    """Purpose: an idle connector set Inoperative becomes Unavailable.

    Expected: ChangeAvailability.conf Accepted; StatusNotification Unavailable for
    connector 1 (§5.2); the connector is set Operative again afterwards.
    """
    mark = boot_accepted(rig)
    expect_status(rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}),
                  "Accepted")  # fmt: skip
    expect_call(
        rig.log, "StatusNotification", since=mark, within=ANSWER_S,
        where=lambda e: e.payload.get("connectorId") == 1
        and e.payload.get("status") == "Unavailable",
        what="StatusNotification Unavailable (connector 1)",
    )  # fmt: skip
    rig.call("ChangeAvailability", {"connectorId": 1, "type": "Operative"})
