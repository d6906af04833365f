"""Fixtures of the OCPP 1.6J central-system suite: the bench as charge point and the rig."""

from vgi_bench.fixtures.ocpp import ocpp16_csms_rig, ocpp_capture

__all__ = ["ocpp16_csms_rig", "ocpp_capture"]
