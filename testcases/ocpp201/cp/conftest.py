"""Fixtures of the OCPP 2.0.1 charging-station suite: the bench's CSMS and the rig."""

from fixtures.gbt27930.pytest_fixtures import can_raw_log
from fixtures.ocpp.pytest_fixtures import ocpp201_cp_rig, ocpp_capture

__all__ = ["can_raw_log", "ocpp201_cp_rig", "ocpp_capture"]
