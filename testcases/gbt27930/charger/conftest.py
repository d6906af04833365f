"""Fixtures of the charger suite: the rig (bus, capture, bench BMS, simulated charger)."""

from fixtures.gbt27930.pytest_fixtures import can_raw_log, charger_suite_rig

__all__ = ["can_raw_log", "charger_suite_rig"]
