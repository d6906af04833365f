"""Fixtures of the gridplat.platform suite: the bench as grid platform and the rig."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import pytest

from vgi_bench.cases import Measurements
from vgi_bench.fixtures.platform import platform_capture, platform_seq
from vgi_bench.platform.envelope import SeqCounter
from vgi_bench.profile import Profile
from vgi_bench.rigs.platform import PlatformRig, platform_rig
from vgi_bench.testcases.gridplat.platform.steps import grid_acks, reference_operator_platform

__all__ = ["platform_capture", "platform_seq"]


@pytest.fixture
def rig(
    request: pytest.FixtureRequest,
    vgi_profile: Profile,
    measurements: Measurements,
    platform_capture: IO[str],
    platform_seq: SeqCounter,
) -> Iterator[PlatformRig]:
    """The bench's grid platform (client and push receiver) and the reference DUT."""
    endpoints = vgi_profile.platform.endpoints if vgi_profile.platform else {}
    with platform_rig(
        vgi_profile, measurements, platform_capture, platform_seq, grid_acks(endpoints),
        reference_operator_platform, request.node.name,
    ) as r:  # fmt: skip
        yield r
