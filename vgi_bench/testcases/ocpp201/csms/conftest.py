"""Fixtures of the OCPP 2.0.1 CSMS suite: the bench as charging station and the rig."""

from vgi_bench.fixtures.ocpp import ocpp201_csms_rig, ocpp_capture

__all__ = ["ocpp201_csms_rig", "ocpp_capture"]
