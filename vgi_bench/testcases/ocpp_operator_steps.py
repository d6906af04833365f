"""Steps shared by the OCPP CSMS cases that judge what the CSMS sends when its operator
acts (``vgi_bench/testcases/ocpp16/csms/test_operator.py``, ``ocpp201/csms/test_operator.py``):
the two versions differ in payload names, not in these checks."""

from __future__ import annotations

from vgi_bench.cases import Measurements, check
from vgi_bench.rigs.ocpp_csms import CsmsRig


def same(got: object, wanted: object, what: str) -> None:
    check(got == wanted, f"{what} {wanted!r} (what the operator asked for)", f"{got!r}")


def profile_request(
    rig: CsmsRig, profile_id: int, limit: float, transaction_id: object = ""
) -> dict:
    """Operator action ``set_charging_profile`` on EVSE/connector 1, stack level 0: a
    TxProfile for ``transaction_id`` when given, else a TxDefaultProfile."""
    mark = len(rig.log)
    purpose = "TxProfile" if transaction_id else "TxDefaultProfile"
    rig.operate("set_charging_profile", evse_id=1, profile_id=profile_id, purpose=purpose,
                stack_level=0, limit_a=limit, transaction_id=transaction_id)  # fmt: skip
    return rig.expect_from_operator("set_charging_profile", mark).payload


def limited(schedules: list[dict], limit: float, measurements: Measurements) -> None:
    """Every charging schedule in A, ``limit`` from startPeriod 0, nothing above (1.6 has
    one schedule per profile, 2.0.1 a list)."""
    for schedule in schedules:
        same(schedule["chargingRateUnit"], "A", "chargingRateUnit")
        periods = schedule["chargingSchedulePeriod"]
        limits = [p["limit"] for p in periods]
        measurements.record("limit_a", limits)
        check(max(limits) <= limit, f"no period above {limit:g} A", f"limits {limits}")
        first = [p["limit"] for p in periods if p["startPeriod"] == 0]
        same(first[:1], [limit], "the limit from startPeriod 0")
