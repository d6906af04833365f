"""Without the ``report`` extra (WeasyPrint, matplotlib) the core still runs a campaign:
report.html and report.sig are written, report.pdf is not (one line naming the extra),
power-stage plots are left out with a note, and nothing crashes. The missing packages
are simulated: ``None`` in ``sys.modules`` in-process, a shadowing module that raises
ImportError in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vgi_bench.extras import MissingExtra, require
from vgi_bench.profile import load_profile
from vgi_bench.reports.build import build_reports
from vgi_bench.reports.signing import verify_run
from vgi_bench.results import build_summary

INSTALL_HINT = "pip install 'vgi-bench[report]'"


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(MissingExtra) as caught:
        require("weasyprint", extra="report", what="report.pdf")
    assert str(caught.value) == f"report.pdf needs weasyprint: {INSTALL_HINT}"
    assert isinstance(caught.value, ImportError)
    assert caught.value.extra == "report"
    assert require("json", extra="report", what="x") is json


def _summary() -> dict:
    case = {
        "id": "DP.1001",
        "suite": "gbt27930.charger",
        "clause": "GB/T 34658-2017 §7.5.1",
        "title": "CHM transmission",
        "verdict": "passed",
        "message": "",
        "duration_s": 1.0,
        "measurements": {},
    }
    profile = load_profile(None).to_dict()
    return build_summary(
        [case],
        profile=profile,
        dut=profile["dut"],
        started="2026-01-01T10:00:00+00:00",
        finished="2026-01-01T10:01:00+00:00",
    )


def test_reports_without_weasyprint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    built = build_reports(_summary(), tmp_path)
    assert built.html is not None and built.html.is_file()
    assert built.pdf is None
    assert not (tmp_path / "report.pdf").exists()
    assert len(built.problems) == 1
    assert "report.pdf" in built.problems[0] and INSTALL_HINT in built.problems[0]
    assert "\n" not in built.problems[0]
    assert built.sig is not None and verify_run(built.sig).ok


def test_plot_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vgi_bench.power.plots import plot_session

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtra, match=r"vgi-bench\[report\]"):
        plot_session(tmp_path / "p.png", "title", [])
    assert not (tmp_path / "p.png").exists()


def test_power_case_runs_on_the_core_install(tmp_path: Path) -> None:
    """A whole run through the CLI with WeasyPrint and matplotlib unimportable."""
    shim = tmp_path / "shim"
    (shim / "matplotlib").mkdir(parents=True)
    blocked = 'raise ImportError("simulated: installed without vgi-bench[report]")\n'
    (shim / "weasyprint.py").write_text(blocked)
    (shim / "matplotlib" / "__init__.py").write_text(blocked)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(shim), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "run", "--suite", "power.charger", "-k", "PS.4103",
         "--out", str(out), "--", "-p", "no:cacheprovider"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    assert (out / "report.html").is_file() and (out / "report.sig").is_file()
    assert not (out / "report.pdf").exists()
    hints = [line for line in output.splitlines() if "report.pdf" in line and INSTALL_HINT in line]
    assert len(hints) == 1, output[-3000:]
    case = json.loads((out / "summary.json").read_text())["cases"][0]
    evidence = case["measurements"]["evidence"]
    assert "plot" not in evidence and not (out / "plots").exists()
    assert INSTALL_HINT in evidence["plot_note"]
    assert (out / evidence["samples_csv"]).is_file()  # the measured samples are kept
    assert verify_run(out / "report.sig").ok
