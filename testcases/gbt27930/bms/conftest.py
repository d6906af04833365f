"""Fixtures of the BMS suite: the rig (bus, capture, bench charger, simulated BMS)."""

from fixtures.gbt27930.pytest_fixtures import bms_suite_rig, can_raw_log

__all__ = ["bms_suite_rig", "can_raw_log"]
