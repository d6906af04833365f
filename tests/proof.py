"""Running one conformance case through the real CLI against a (faulty) reference DUT."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    verdict: str
    message: str
    measurements: dict
    output: str


def write_profile(
    path: Path,
    *,
    faults: tuple[str, ...] = (),
    can: str = "",
    simulated: bool = True,
    extra: str = "",
) -> Path:
    """A profile for the (simulated) DUT with ``faults`` switched on; ``extra``: more
    sections (``[ocpp]`` with a free port, for instance)."""
    fault_list = ", ".join(f'"{f}"' for f in faults)
    can = can or 'interface = "virtual"\nchannel = "proof"\nbitrate = 250000\n'
    path.write_text(
        "[dut]\n"
        'vendor = "vgi-bench"\nmodel = "reference charger"\nserial = "T"\nfirmware = "t"\n'
        f"simulated = {'true' if simulated else 'false'}\n"
        + (f"faults = [{fault_list}]\n" if simulated else "")
        + f"[can]\n{can}"
        + extra,
        encoding="utf-8",
    )
    return path


def run_case(
    tmp: Path,
    suite: str,
    selector: str,
    *,
    faults: tuple[str, ...] = (),
    can: str = "",
    simulated: bool = True,
    timeout: float = 300,
    extra: str = "",
    pytest_args: tuple[str, ...] = (),
) -> Outcome:
    """``vgi-bench run --suite SUITE -k SELECTOR`` with a fresh profile and out dir."""
    profile = write_profile(
        tmp / "profile.toml", faults=faults, can=can, simulated=simulated, extra=extra
    )
    out = tmp / "out"
    proc = subprocess.run(
        [
            sys.executable, "-m", "vgi_bench.cli", "run", "--suite", suite,
            "--profile", str(profile),
            "--out", str(out), "-k", selector, "--", "-p", "no:randomly", "-q",
            # the PDF has its own tests; hypothesis and assert rewriting cost CPU per run
            "--vgi-no-pdf", "-p", "no:hypothesispytest", "--assert=plain", *pytest_args,
        ],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    lines = (out / "results.jsonl").read_text().splitlines() if out.exists() else []
    results = [json.loads(line) for line in lines if line.strip()]
    output = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(results) == 1, f"expected one result for {selector}, got {len(results)}\n{output}"
    r = results[0]
    return Outcome(proc.returncode, r["verdict"], r["message"], r["measurements"], output)


def case_timeout(case_id: str, slow_cases: set[str]) -> float:
    """Slow cases wait out 60 s or 10 min timers in real time."""
    return 900.0 if case_id in slow_cases else 300.0


def proof_params(
    case_faults: dict[str, tuple[str, ...]], slow_cases: set[str], *, with_faults: bool
) -> list:
    """pytest params (case id, fault or None) for a proof table, slow cases marked."""
    params = []
    for case_id, faults in case_faults.items():
        marks = [pytest.mark.slow] if case_id in slow_cases else []
        for fault in faults if with_faults else (None,):
            name = f"{case_id}-{fault}" if fault else case_id
            params.append(pytest.param(case_id, fault, id=name, marks=marks))
    return params


def assert_caught(outcome: Outcome, case_id: str, fault: str) -> None:
    """The case failed against ``fault`` (exit 1), saying what it expected and saw."""
    assert outcome.verdict == "failed", f"{case_id} vs {fault}: {outcome.verdict} {outcome.message}"
    assert outcome.exit_code == 1
    assert outcome.message.startswith("expected "), outcome.message
    assert "; saw " in outcome.message, outcome.message


def suite_case_ids(suite: str) -> set[str]:
    """Every case id a registered suite collects."""
    from vgi_bench.cli import collect_cases
    from vgi_bench.suites import all_suites

    return {case_id for _, case_id, _, _ in collect_cases([all_suites()[suite].path()])}


def faults_caught(*tables: Iterable[tuple[str, ...]]) -> set[str]:
    """Every fault named in proof tables (each an iterable of fault tuples)."""
    return {fault for table in tables for faults in table for fault in faults}
