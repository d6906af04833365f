"""The OCPP infrastructure on its own: frame parsing, schema checks, sessions, the log,
and ``vgi-bench sim ocpp201-cp`` against the bench's CSMS on a free port."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ocpp_helpers import free_port, ocpp_section
from vgi_bench.ocpp.csms_handlers import CsmsScript
from vgi_bench.ocpp.csms_role import BenchCsms
from vgi_bench.ocpp.frames import UNKNOWN_ID, Kind, parse_frame
from vgi_bench.ocpp.log import RX, MessageLog
from vgi_bench.ocpp.loop import LoopThread
from vgi_bench.ocpp.schema import check_payload, error_code_for
from vgi_bench.reference.ocpp.cp201 import ReferenceChargePoint201
from vgi_bench.reference.ocpp.cp_base import CpOptions, SimulatedChargePoint


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        ('[2,"1","Heartbeat",{}]', Kind.CALL, ""),
        ('[3,"1",{"currentTime":"x"}]', Kind.RESULT, ""),
        ('[4,"1","NotImplemented","",{}]', Kind.ERROR, ""),
        ('[2,"1","Heartbeat",{', Kind.GARBAGE, "not JSON"),
        ("{}", Kind.GARBAGE, "array"),
        ("[]", Kind.GARBAGE, "array"),
        ('[5,"1",{}]', Kind.GARBAGE, "MessageTypeId"),
        ('[2,1,"Heartbeat",{}]', Kind.GARBAGE, "MessageId"),
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', Kind.GARBAGE, "MessageId"),
        ('[2,"1","Heartbeat"]', Kind.GARBAGE, "elements"),
        ('[2,"1","Heartbeat",null]', Kind.GARBAGE, "object payload"),
        (b"\xff\xfe", Kind.GARBAGE, "UTF-8"),
    ],
)
def test_parse_frame_never_raises(raw: str | bytes, kind: Kind, reason: str) -> None:
    frame = parse_frame(raw)
    assert frame.kind is kind
    assert reason in frame.reason


def test_schema_violations_name_the_field() -> None:
    payload = {"reason": "PowerUp", "chargingStation": {"model": "x" * 30, "vendorName": "v"}}
    violations = check_payload("2.0.1", "BootNotification", payload, response=False)
    assert [(v.field, v.rule) for v in violations] == [("chargingStation.model", "maxLength")]
    assert error_code_for(violations, "2.0.1") == "PropertyConstraintViolation"
    bad_time = {"status": "Accepted", "currentTime": "yesterday", "interval": 1}
    assert check_payload("2.0.1", "BootNotification", bad_time, response=True)[0].field == (
        "currentTime"
    )
    missing = check_payload("1.6", "Authorize", {}, response=False)
    assert missing[0].field == "idTag"
    assert error_code_for(missing, "1.6") == "OccurrenceConstraintViolation"


@pytest.fixture
def bench_and_cp():
    """The bench's CSMS and the reference station, on a free port, for one test."""
    port = free_port()
    loop = LoopThread("test-csms")
    log = MessageLog()
    csms = BenchCsms(loop, "2.0.1", f"127.0.0.1:{port}", log, charge_point_id="CP_1",
                     script=CsmsScript(boot=[("Accepted", 30)])).start()  # fmt: skip
    options = CpOptions(url=f"ws://127.0.0.1:{port}/CP_1")
    sim = SimulatedChargePoint(ReferenceChargePoint201(options))
    sim.start()
    assert csms.wait_session(5) is not None
    assert log.wait_for(lambda e: e.frame.action == "StatusNotification", 5) is not None
    yield csms, log
    sim.stop()
    csms.stop()
    loop.stop()


def test_session_measures_latency_and_times_out(bench_and_cp) -> None:
    csms, log = bench_and_cp
    ok = csms.call("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert ok.ok and ok.payload == {"status": "Accepted"}
    assert ok.latency_ms is not None and 0 <= ok.latency_ms < 1000
    beat = log.wait_for(lambda e: e.direction == RX and e.frame.action == "Heartbeat", 5)
    assert beat is not None
    # An action OCPP 2.0.1 does not define: NotImplemented, as OCPP-J defines it.
    unknown = csms.call("VgiBenchUnknownAction", {}, timeout=2)
    assert unknown.error_code == "NotImplemented"


def test_garbage_answered_with_callerror_minus_one(bench_and_cp) -> None:
    csms, log = bench_and_cp
    mark = len(log)
    csms.send_raw("not json at all")
    answer = log.wait_for(lambda e: e.direction == RX and e.frame.kind is Kind.ERROR, 5, mark)
    assert answer is not None
    assert (answer.frame.unique_id, answer.frame.error_code) == (UNKNOWN_ID, "RpcFrameworkError")


def test_bench_refuses_to_send_invalid_payload_unless_told(bench_and_cp) -> None:
    csms, _ = bench_and_cp
    with pytest.raises(ValueError, match="type"):
        csms.call("Reset", {"type": "Sideways"})
    refused = csms.call("Reset", {"type": "Sideways"}, validate=False, timeout=3)
    assert refused.error_code == "PropertyConstraintViolation"


def test_log_writes_json_lines(tmp_path: Path) -> None:
    log = MessageLog.to_file(tmp_path / "ocpp.jsonl", case="x")
    log.add(RX, "CP_1#1", parse_frame('[2,"1","Heartbeat",{}]'))
    log.close()
    line = json.loads((tmp_path / "ocpp.jsonl").read_text())
    assert line["case"] == "x" and line["action"] == "Heartbeat" and line["kind"] == "call"


def test_sim_command_connects_to_the_bench(tmp_path: Path) -> None:
    port = free_port()
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[dut]\nvendor = "v"\nmodel = "m"\nserial = "s"\nfirmware = "f"\n'
        + ocpp_section(port=port),
        encoding="utf-8",
    )
    loop = LoopThread("test-sim")
    log = MessageLog()
    csms = BenchCsms(loop, "2.0.1", f"127.0.0.1:{port}", log, charge_point_id="CP_1").start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgi_bench.cli", "sim", "ocpp201-cp", "--profile", str(profile)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert "running on ws://" in proc.stdout.readline()  # its signal handlers are set
        boot = log.wait_for(lambda e: e.frame.action == "BootNotification", 20)
        assert boot is not None, proc.stderr.read() if proc.poll() is not None else "no boot"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        csms.stop()
        loop.stop()


def test_list_faults_and_unknown_fault() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "sim", "--list-faults", "ocpp201-cp"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0 and "ignores_heartbeat_interval" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "sim", "ocpp201-cp", "--fault", "nope"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "unknown fault 'nope'" in bad.stderr


def test_load_command_against_the_reference_csms(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[dut]\nvendor = "v"\nmodel = "m"\nserial = "s"\nfirmware = "f"\nsimulated = true\n'
        + ocpp_section(csms_port=free_port()),
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "load", "--cp", "5", "--duration", "1",
         "--interval", "0.5", "--profile", str(profile), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["connected"] == 5 and summary["errors"] == 0 and summary["timeouts"] == 0
    assert summary["response_ms"]["Heartbeat"]["count"] >= 5


def test_bench_refuses_another_identity(bench_and_cp) -> None:
    csms, _ = bench_and_cp
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    async def knock() -> int:
        try:
            async with connect(f"ws://{csms.host}:{csms.port}/NOT_CP_1", open_timeout=5):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert csms.loop.run(knock(), 10) == 404


def test_external_reference_cp_both_ways(tmp_path: Path) -> None:
    """The reference station in another process (vgi-bench sim), the bench's CSMS in run."""
    from tests.proof import run_case

    port = free_port()
    section = ocpp_section(port=port)
    profile = tmp_path / "sim.toml"
    profile.write_text(
        '[dut]\nvendor = "v"\nmodel = "m"\nserial = "s"\nfirmware = "f"\n' + section,
        encoding="utf-8",
    )
    sim = subprocess.Popen(
        [sys.executable, "-m", "vgi_bench.cli", "sim", "ocpp201-cp", "--profile", str(profile),
         "--fault", "retries_boot_early"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert "running on ws://" in sim.stdout.readline()  # its signal handlers are set
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    try:
        fails = run_case(tmp_path / "a", "ocpp201.cp", "test_tc_b_02_cs", simulated=False,
                         extra=section, timeout=120)  # fmt: skip
        assert fails.verdict == "failed" and fails.message.startswith("expected BootNotification")
        passes = run_case(tmp_path / "b", "ocpp201.cp", "test_tc_b_32_cs", simulated=False,
                          extra=section, timeout=120)  # fmt: skip
        assert passes.verdict == "passed", passes.message
    finally:
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(10) == 0
