"""The wheel a lab installs: what is in it, its metadata, and a suite run from it.

The wheel is built from a copy of the source tree (so the build leaves nothing in the
checkout) and installed with ``pip install --no-deps --target``; the run puts that
directory first on ``sys.path``, so the bench, its suites and its ``pytest11`` plugin are
the wheel's, not the editable install's.
"""

from __future__ import annotations

import email
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = {"vgi_bench"}  # one namespace: nothing else at the top of site-packages
HEAVY = {"weasyprint", "matplotlib", "pyhanko", "numpy"}


def _name(requirement: str) -> str:
    """The distribution name of a Requires-Dist line (``pyvisa-py[usb]>=0.7; ...``)."""
    for stop in "[<>=!~; ":
        requirement = requirement.split(stop, maxsplit=1)[0]
    return requirement.lower()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "out", "build", "*.egg-info", "__pycache__", ".*_cache",
            ".hypothesis", "*.dbc",
        ),
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"),
         str(src)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (built,) = (tmp / "dist").glob("vgi_bench-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path) -> Path:
    target = wheel.parent / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return target


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(zf.read(name))


def test_wheel_holds_the_packages_and_their_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == PACKAGES  # no benchmarks, tests
    for data in (
        "vgi_bench/data/default_profile.toml",
        "vgi_bench/data/profile.schema.json",
        "vgi_bench/reports/templates/report.html.j2",
    ):
        assert data in names
    assert any(n.startswith("vgi_bench/instruments/models/") and n.endswith(".toml") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_wheel_metadata(wheel: Path) -> None:
    meta = wheel_metadata(wheel)
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["License-File"] == "LICENSE"
    assert meta["Version"] == metadata.version("vgi-bench")
    requires = meta.get_all("Requires-Dist") or []
    core = {_name(r) for r in requires if "extra ==" not in r}
    assert not core & HEAVY, f"heavy dependencies in the core: {core & HEAVY}"
    report = {_name(r) for r in requires if 'extra == "report"' in r}
    assert {"weasyprint", "matplotlib", "pyhanko"} <= report
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"report", "usb", "gpib", "lan", "pcan", "test"} <= extras


def test_extras_pass_through_only_what_the_libraries_define(wheel: Path) -> None:
    """``vgi-bench[pcan]`` is ``python-can[pcan]``: every extra named of python-can or
    pyvisa-py must be one that (installed) library itself declares."""
    own = {
        dist: set(metadata.metadata(dist).get_all("Provides-Extra") or [])
        for dist in ("python-can", "pyvisa-py")
    }
    for requirement in wheel_metadata(wheel).get_all("Requires-Dist") or []:
        dist = _name(requirement)
        if dist in own and "[" in requirement:
            wanted = requirement.split("[", 1)[1].split("]", 1)[0].split(",")
            assert set(wanted) <= own[dist], f"{requirement}: {dist} has {sorted(own[dist])}"


def test_run_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    """From a directory outside the repository: the suite passes, no pytest warnings
    about assertion rewriting or unknown marks, and the version names no commit."""
    env = {**os.environ, "PYTHONPATH": str(installed), "XDG_CONFIG_HOME": str(tmp_path / "c")}

    def vgi(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "vgi_bench.cli", *args],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip

    proc = vgi("run", "--suite", "gbt27930.bms", "-k", "BP.1001", "--out", "run",
               "--", "--vgi-no-pdf", "-p", "no:cacheprovider")  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "1 passed" in output
    assert (
        str(installed / "vgi_bench" / "testcases") in output or "vgi_bench/testcases/" in output
    ), output[-3000:]
    assert "PytestAssertRewriteWarning" not in output, output[-3000:]
    assert "PytestUnknownMarkWarning" not in output, output[-3000:]
    version = vgi("--version")
    assert version.stdout.strip() == f"vgi-bench {metadata.version('vgi-bench')}"
    assert Path(vgi("schema", "--path").stdout.strip()).is_relative_to(installed)
