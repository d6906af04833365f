"""Fixtures of the V2G draft suite: a charger rig speaking the draft message set."""

from fixtures.gbt27930.pytest_fixtures import can_raw_log, v2g_suite_rig

__all__ = ["can_raw_log", "v2g_suite_rig"]
