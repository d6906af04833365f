"""Fixtures of the charger suite: the rig (bus, capture, bench BMS, simulated charger)."""

from vgi_bench.fixtures.gbt27930 import can_raw_log, charger_suite_rig

__all__ = ["can_raw_log", "charger_suite_rig"]
