"""Endpoint names by their job, overridable per deployment (``[platform] endpoints``).

The grid-level interaction access interface has no public text (see the research note in
shared/reference/backend.md, §B), so its endpoint names are the bench's, in the style of
T/CEC 102 (``query_*`` answered by the callee, ``notification_*`` pushed), and every one
can be renamed in the profile: ``endpoints = { regulation_command = "notify_adjust" }``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Grid platform (the bench) <-> operator/aggregator platform (the DUT): job -> default name.
GRIDPLAT_ENDPOINTS: Mapping[str, str] = MappingProxyType(
    {
        # pushed by the operator platform to the grid platform
        "archive": "notification_archive_info",
        "realtime": "notification_realtime_data",
        "device_status": "notification_device_status",
        "regulation_result": "notification_regulation_result",
        # called by the grid platform on the operator platform
        "archive_sync": "query_archive_sync",
        "regulation_command": "notification_regulation_command",
        "clearing": "notification_clearing_result",
        "settlement": "notification_settlement_info",
    }
)


@dataclass(frozen=True)
class Endpoints:
    """Wire names of one deployment: defaults overridden by the profile."""

    defaults: Mapping[str, str]
    overrides: Mapping[str, str]

    def __getitem__(self, job: str) -> str:
        return self.overrides.get(job, self.defaults[job])

    def unknown(self) -> list[str]:
        return sorted(set(self.overrides) - set(self.defaults))


def gridplat_endpoints(overrides: Mapping[str, str] | None) -> Endpoints:
    return Endpoints(GRIDPLAT_ENDPOINTS, dict(overrides or {}))
