"""``vgi-bench --version``, ``list --suite S --json`` and ``run --suite all`` (the parts of
the command line a lab's tool chain scripts against)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from vgi_bench.suites import ALL_SUITES, BUILTIN_SUITES, SuiteError, all_suites, select_suites
from vgi_bench.version import checkout_commit, describe, package_version

REPO = Path(__file__).resolve().parent.parent


def vgi(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", *args],
        capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd,
    )  # fmt: skip


# --------------------------------------------------------------------------- --version


def test_version_from_metadata_and_checkout(tmp_path: Path) -> None:
    proc = vgi("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line == describe()
    assert line.startswith(f"vgi-bench {metadata.version('vgi-bench')}")
    if (REPO / ".git").exists():  # the tests run from a checkout: its commit is named
        assert f"(git {checkout_commit()})" in line
    assert package_version() == metadata.version("vgi-bench")


def test_no_commit_outside_a_checkout(tmp_path: Path) -> None:
    """An installed package (no .git beside it) names no commit, not even that of a
    repository the virtual environment happens to sit in."""
    assert checkout_commit(tmp_path) is None
    subprocess.run(["git", "init", "-q", str(tmp_path / "lab")], check=True)
    site = tmp_path / "lab" / ".venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    assert checkout_commit(site) is None


# --------------------------------------------------------------------------- suites


def test_select_suites() -> None:
    every = select_suites([ALL_SUITES])
    assert [s.name for s in every] == list(all_suites())
    assert {s.name for s in BUILTIN_SUITES} <= {s.name for s in every}
    picked = select_suites(["ocpp16.cp", "gbt27930.bms", "ocpp16.cp"])
    assert [s.name for s in picked] == ["ocpp16.cp", "gbt27930.bms"]  # order kept, once each
    assert len(select_suites(["gbt27930.bms", ALL_SUITES])) == len(every)
    with pytest.raises(SuiteError, match=r"unknown suite 'nope' \(known: all, gbt27930"):
        select_suites(["nope"])


# --------------------------------------------------------------------------- list


def test_list_json_is_machine_readable(tmp_path: Path) -> None:
    proc = vgi("list", "--suite", "gbt27930.bms", "--suite", "ocpp16.csms", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["bench"]["version"] == package_version()
    assert [s["name"] for s in doc["suites"]] == ["gbt27930.bms", "ocpp16.csms"]
    assert doc["suites"][0]["dut_role"] == "gbt-bms"
    cases = doc["cases"]
    assert {c["suite"] for c in cases} == {"gbt27930.bms", "ocpp16.csms"}
    assert all(set(c) == {"suite", "id", "clause", "title", "nodeid"} for c in cases)
    asked = ["gbt27930.bms", "ocpp16.csms"]
    order = [c["suite"] for c in cases]
    assert order == sorted(order, key=asked.index)  # suite by suite, as asked
    first = cases[0]
    assert first["id"] == "BP.1001" and "GB/T 34658" in first["clause"] and first["title"]
    assert first["nodeid"].startswith("vgi_bench/testcases/gbt27930/bms/test_")
    assert "::test_bp1001" in first["nodeid"]
    assert list(tmp_path.iterdir()) == []  # listing writes nothing


def test_list_nodeid_selects_its_case(tmp_path: Path) -> None:
    """A nodeid, joined to the suite's root, is what pytest collects as that one case."""
    doc = json.loads(vgi("list", "--suite", "gbt27930.bms", "--json").stdout)
    nodeid = doc["cases"][1]["nodeid"]
    root = all_suites()["gbt27930.bms"].root()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         f"{root / nodeid.split('::')[0]}::{nodeid.split('::', 1)[1]}"],
        capture_output=True, text=True, timeout=120, check=False, cwd=root,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert collected == [nodeid], proc.stdout


def test_list_text_filtered_by_suite_keeps_its_format() -> None:
    proc = vgi("list", "--suite", "gbt27930.bms")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("\t") for line in proc.stdout.splitlines() if line.strip()]
    assert rows and all(len(row) == 4 for row in rows)
    assert {row[0] for row in rows} == {"gbt27930.bms"}
    every = vgi("list", "--suite", ALL_SUITES).stdout
    assert every == vgi("list").stdout  # no --suite is every suite


def test_list_unknown_suite_is_usage_error() -> None:
    proc = vgi("list", "--suite", "nope", "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown suite 'nope'" in lines[0]


# --------------------------------------------------------------------------- run --suite all


def test_run_suite_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = vgi(
        "run", "--suite", ALL_SUITES, "-k", "BP.1001 or TCEC.T.01", "--out", str(out),
        "--", "--vgi-no-pdf", "-p", "no:cacheprovider", timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert {(c["suite"], c["id"]) for c in summary["cases"]} == {
        ("gbt27930.bms", "BP.1001"),
        ("tcec102.platform", "TCEC.T.01"),
    }
