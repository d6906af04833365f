"""The charger suite against a reference charger in another process, over udp_multicast.

This is the shape of a real campaign: the DUT is a separate node on a shared bus, the
bench does not start or reset it, and consecutive cases meet it in whatever state the
last one left it (the simulated charger starts over after a quiet bus, like a re-plug).
Each test uses its own multicast group and port so parallel runs never cross.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.proof import run_case, write_profile
from tests.test_charger_cases_proof import CASE_FAULTS, selector

SUITE = "gbt27930.charger"


def multicast_can() -> str:
    group = f"239.74.{random.randint(1, 254)}.{random.randint(1, 254)}"
    port = random.randint(20000, 60000)
    return f'interface = "udp_multicast"\nchannel = "{group}"\nbitrate = 250000\nport = {port}\n'


class ExternalDut:
    """``vgi-bench sim ROLE`` in a subprocess."""

    def __init__(
        self, profile: Path, faults: tuple[str, ...] = (), role: str = "gbt-charger"
    ) -> None:
        args = [sys.executable, "-m", "vgi_bench.cli", "sim", role, "--profile", str(profile)]
        for fault in faults:
            args += ["--fault", fault]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        assert "running on udp_multicast" in line, line + self.proc.stderr.read()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def shared_bus(tmp_path: Path) -> str:
    return multicast_can()


def _start(
    tmp_path: Path, can: str, faults: tuple[str, ...] = (), role: str = "gbt-charger"
) -> ExternalDut:
    sim_profile = write_profile(tmp_path / "sim.toml", can=can)
    return ExternalDut(sim_profile, faults, role)


def _external_profile(tmp_path: Path, can: str) -> Path:
    return write_profile(tmp_path / "profile.toml", can=can, simulated=False)


@pytest.fixture
def conformant_charger(tmp_path: Path, shared_bus: str) -> Iterator[ExternalDut]:
    charger = _start(tmp_path, shared_bus)
    yield charger
    assert charger.stop() == 0, "the sim must exit cleanly on SIGTERM"


def test_cases_in_sequence_pass_external_charger(
    tmp_path: Path, shared_bus: str, conformant_charger: ExternalDut
) -> None:
    profile = _external_profile(tmp_path, shared_bus)
    out = tmp_path / "out"
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable, "-m", "vgi_bench.cli", "run", "--suite", SUITE,
            "--profile", str(profile),
            "--out", str(out), "-k", "dp1001 or dp1003 or dn1001 or dp3001 or dp4001 or dp4002",
            "--", "--vgi-no-pdf",
        ],
        capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    results = (out / "results.jsonl").read_text().splitlines()
    assert len(results) == 6
    assert (out / "summary.json").exists() and (out / "report.html").exists()
    assert time.monotonic() - started < 300


def _first_case_for(fault: str) -> str:
    return next(case_id for case_id, faults in CASE_FAULTS.items() if fault in faults)


@pytest.mark.parametrize("fault", sorted({f for fs in CASE_FAULTS.values() for f in fs}))
def test_fault_of_external_charger_is_caught(tmp_path: Path, fault: str) -> None:
    can = multicast_can()
    charger = _start(tmp_path, can, (fault,))
    try:
        profile_dir = tmp_path / "bench"
        profile_dir.mkdir()
        case_id = _first_case_for(fault)
        outcome = run_case(profile_dir, SUITE, selector(case_id), can=can, simulated=False)
    finally:
        charger.stop()
    assert outcome.verdict == "failed", f"{case_id} vs external {fault}: {outcome.message}"
    assert outcome.message.startswith("expected ")


def test_bms_cases_in_sequence_pass_external_bms(tmp_path: Path) -> None:
    can = multicast_can()
    bms = _start(tmp_path, can, role="gbt-bms")
    try:
        profile = _external_profile(tmp_path, can)
        out = tmp_path / "out"
        proc = subprocess.run(
            [
                sys.executable, "-m", "vgi_bench.cli", "run", "--suite", "gbt27930.bms",
                "--profile", str(profile), "--out", str(out),
                "-k", "BP.1002 or BN.1001 or BP.3001 or BP.4001 or BP.4002", "--", "--vgi-no-pdf",
            ],
            capture_output=True, text=True, timeout=400, check=False,
        )  # fmt: skip
    finally:
        assert bms.stop() == 0
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert len((out / "results.jsonl").read_text().splitlines()) == 5


@pytest.mark.parametrize("fault", ["tp_ignores_flow_control", "no_bem_on_ccs_timeout", "no_bsd"])
def test_fault_of_external_bms_is_caught(tmp_path: Path, fault: str) -> None:
    from tests.test_bms_cases_proof import CASE_FAULTS as BMS_CASE_FAULTS

    can = multicast_can()
    bms = _start(tmp_path, can, (fault,), role="gbt-bms")
    try:
        profile_dir = tmp_path / "bench"
        profile_dir.mkdir()
        case_id = next(c for c, faults in BMS_CASE_FAULTS.items() if fault in faults)
        outcome = run_case(profile_dir, "gbt27930.bms", selector(case_id), can=can, simulated=False)
    finally:
        bms.stop()
    assert outcome.verdict == "failed", f"{case_id} vs external {fault}: {outcome.message}"


def test_capture_of_a_passing_external_run_passes_check(
    tmp_path: Path, shared_bus: str, conformant_charger: ExternalDut
) -> None:
    """The run's ``can.asc`` holds each frame once: ``check`` finds the session as clean as
    the cases did (a doubled bench frame shows as BHM/BRO every 0 ms)."""
    profile = _external_profile(tmp_path, shared_bus)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable, "-m", "vgi_bench.cli", "run", "--suite", SUITE,
            "--profile", str(profile),
            "--out", str(out), "-k", "dp1001 or dp3001", "--", "--vgi-no-pdf",
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    clocks = json.loads((out / "summary.json").read_text())["clocks"]
    assert [(c["bus"], c["interface"]) for c in clocks] == [("can", "udp_multicast")]
    assert "loopback" in clocks[0]["stamped_by"]
    checked = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "check", str(out / "can.asc")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-2000:]
