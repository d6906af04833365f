"""Fixtures of the BMS suite: the rig (bus, capture, bench charger, simulated BMS)."""

from vgi_bench.fixtures.gbt27930 import bms_suite_rig, can_raw_log

__all__ = ["bms_suite_rig", "can_raw_log"]
