"""Fixtures of the OCPP 1.6J charge-point suite: the bench's central system and the rig."""

from vgi_bench.fixtures.ocpp import ocpp16_cp_rig, ocpp_capture

__all__ = ["ocpp16_cp_rig", "ocpp_capture"]
