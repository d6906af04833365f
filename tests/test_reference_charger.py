"""The reference charger's hooks for other layers: a power limit from outside the CAN
session (OCPP charging profile, grid regulation) shows in its CCS at once."""

from __future__ import annotations

from vgi_bench.cases import Measurements
from vgi_bench.gbt27930.bms_role import BmsScript, Phase
from vgi_bench.profile import load_profile
from vgi_bench.reference.gbt27930.charger import ReferenceCharger
from vgi_bench.rigs.gbt27930 import charger_rig


def _current(record) -> float:
    return abs(float(record.values.get("output_current") or 0.0))


def test_power_limit_lowers_and_lifts_ccs_current() -> None:
    with charger_rig(load_profile(None), Measurements()) as rig:
        assert isinstance(rig.sim, ReferenceCharger)
        bms = rig.start_bms(BmsScript(values={"BCL": {"current_demand": -100.0}}))
        assert bms.wait_phase(Phase.CHARGING, 30)
        first = rig.capture.wait_for("CCS", timeout=5, where=lambda r: _current(r) >= 99)
        assert first is not None, "CCS at the 100 A demand"
        voltage = float(first.values["output_voltage"])

        rig.sim.set_power_limit(20.0)
        limited_a = 20_000.0 / voltage
        limited = rig.capture.wait_for(
            "CCS", timeout=2, since=first.timestamp,
            where=lambda r: abs(_current(r) - limited_a) < 0.2,
        )  # fmt: skip
        assert limited is not None, f"CCS at {limited_a:.1f} A under a 20 kW limit"

        rig.sim.set_power_limit(None)
        lifted = rig.capture.wait_for(
            "CCS", timeout=2, since=limited.timestamp, where=lambda r: _current(r) >= 99
        )
        assert lifted is not None, "CCS back at 100 A once the limit is lifted"
