"""``vgi-bench sim tcec102-platform`` / ``gridplat-platform``: the reference platforms in
another process, and whole suites run against them as against a real platform (the bench
neither starts nor resets the DUT; each case leaves it as it found it)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.platform_helpers import platform_section, run_cases, selector
from tests.proof import write_profile

#: Cases that meet the DUT's state left by earlier ones: tokens, pushes to a bench server
#: that restarted, charges and regulations started before.
ROLES = {
    "tcec102-platform": (
        "tcec102.platform",
        ("TCEC.T.01", "TCEC.I.03", "TCEC.N.01", "TCEC.C.01", "TCEC.C.02", "TCEC.E.08"),
    ),
    "gridplat-platform": ("gridplat.platform", ("GP.A.01", "GP.C.01", "GP.C.03", "GP.M.01")),
}


def _vgi(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vgi_bench.cli", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


@pytest.mark.parametrize("role", sorted(ROLES))
def test_list_faults(role: str) -> None:
    proc = _vgi("sim", "--list-faults", role)
    assert proc.returncode == 0
    assert "accepts_bad_signature" in proc.stdout


def test_unknown_fault_is_a_usage_error(tmp_path: Path) -> None:
    profile = write_profile(tmp_path / "p.toml", simulated=False, extra=platform_section())
    proc = _vgi("sim", "tcec102-platform", "--profile", str(profile), "--fault", "nope")
    assert proc.returncode == 2 and "unknown fault 'nope'" in proc.stderr


@pytest.mark.parametrize("role", sorted(ROLES))
def test_suite_against_the_sim_in_another_process(role: str, tmp_path: Path) -> None:
    suite, cases = ROLES[role]
    section = platform_section()
    profile = write_profile(tmp_path / "sim.toml", simulated=False, extra=section)
    sim = subprocess.Popen([sys.executable, "-m", "vgi_bench.cli", "sim", role, "--profile",
                            str(profile)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)  # fmt: skip
    try:
        line = sim.stdout.readline() if sim.stdout else ""
        assert f"vgi-bench sim {role}: running on http://127.0.0.1:" in line, line
        outcome = run_cases(
            tmp_path, suite, selector(list(cases)), section=section, simulated=False
        )
    finally:
        sim.send_signal(signal.SIGTERM)
        code = sim.wait(timeout=15)
    failed = {c: r["message"] for c, r in outcome.results.items() if r["verdict"] != "passed"}
    assert set(outcome.results) == set(cases) and not failed, failed or outcome.output
    assert code == 0
