"""Fixtures of the V2G draft suite: a charger rig speaking the draft message set."""

from vgi_bench.fixtures.gbt27930 import can_raw_log, v2g_suite_rig

__all__ = ["can_raw_log", "v2g_suite_rig"]
