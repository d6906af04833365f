"""Fixtures of the OCPP 2.0.1 charging-station suite: the bench's CSMS and the rig."""

from vgi_bench.fixtures.gbt27930 import can_raw_log
from vgi_bench.fixtures.ocpp import ocpp201_cp_rig, ocpp_capture

__all__ = ["can_raw_log", "ocpp201_cp_rig", "ocpp_capture"]
