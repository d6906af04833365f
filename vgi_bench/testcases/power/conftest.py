"""Fixtures of the power suite: the rig (CAN session + instruments) and its limits."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import can
import pytest

from vgi_bench.cases import Measurements, case_info
from vgi_bench.fixtures.gbt27930 import can_raw_log
from vgi_bench.profile import Profile
from vgi_bench.rigs.gbt27930 import v2g_table
from vgi_bench.rigs.power import PowerRig, power_rig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["can_raw_log", "limits", "rig", "v2g_rig"]


@pytest.fixture(scope="session")
def limits() -> dict[str, Any]:
    """``limits.toml``: each limit with its source clause and whether it was verified."""
    text = resources.files("vgi_bench.testcases.power").joinpath("limits.toml").read_text("utf-8")
    return tomllib.loads(text)


def _open(request: pytest.FixtureRequest, profile: Profile, measurements: Measurements,
          out_dir: Path, raw_log: can.Listener, table: Any) -> Iterator[PowerRig]:  # fmt: skip
    info = case_info(request.node)
    case_id = info.id if info else request.node.name
    with power_rig(profile, measurements, out_dir, case_id, raw_log=raw_log, table=table) as rig:
        yield rig


@pytest.fixture
def rig(
    request: pytest.FixtureRequest, vgi_profile: Profile, measurements: Measurements,
    vgi_out_dir: Path, can_raw_log: can.Listener,
) -> Iterator[PowerRig]:  # fmt: skip
    """A charging session with the battery emulator and the analyzer on the charger."""
    yield from _open(request, vgi_profile, measurements, vgi_out_dir, can_raw_log, None)


@pytest.fixture
def v2g_rig(
    request: pytest.FixtureRequest, vgi_profile: Profile, measurements: Measurements,
    vgi_out_dir: Path, can_raw_log: can.Listener,
) -> Iterator[PowerRig]:  # fmt: skip
    """The same, speaking the V2G draft message set (BDP/CDC, positive = discharge)."""
    table = v2g_table(vgi_profile)
    yield from _open(request, vgi_profile, measurements, vgi_out_dir, can_raw_log, table)
