"""Fixtures of the OCPP 1.6J central-system suite: the bench as charge point and the rig."""

from fixtures.ocpp.pytest_fixtures import ocpp16_csms_rig, ocpp_capture

__all__ = ["ocpp16_csms_rig", "ocpp_capture"]
