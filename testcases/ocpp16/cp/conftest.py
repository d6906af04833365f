"""Fixtures of the OCPP 1.6J charge-point suite: the bench's central system and the rig."""

from fixtures.ocpp.pytest_fixtures import ocpp16_cp_rig, ocpp_capture

__all__ = ["ocpp16_cp_rig", "ocpp_capture"]
