"""Archive push and real-time data upload (bench interpretation, see the package doc)."""

from __future__ import annotations

from vgi_bench.cases import case, check
from vgi_bench.decision import require_pass
from vgi_bench.testcases.gridplat.platform.steps import (
    PERIOD_TOLERANCE,
    archive,
    conforms,
    names,
    uploads,
)
from vgi_bench.timing import period_stats

UPLOADS = 11  # 10 gaps: their median ignores one late arrival (it skews two gaps)
CLAUSE = "grid-level interaction access interface (bench interpretation)"


@case("GP.A.01", f"{CLAUSE}: archive", "The archive of customers, stations and load devices")
def test_gp_a01_archive(rig) -> None:
    """Purpose: the operator platform gives the grid platform its archive.

    Steps: archive_sync; wait for the archive push.
    Expected: 1. archive_sync Ret 0; 2. the archive pushed within ``ack_limit_s``;
    3. valid against archive.json (customer, station, load device objects); 4. every
    station's CustomerID and every device's StationID refers to an object in the archive.
    """
    data = archive(rig)
    conforms("archive", data, "the archive")
    customers = {c["CustomerID"] for c in data["Customers"]}
    stations = {s["StationID"] for s in data["Stations"]}
    orphans = [s["StationID"] for s in data["Stations"] if s["CustomerID"] not in customers]
    orphans += [d["DeviceID"] for d in data["LoadDevices"] if d["StationID"] not in stations]
    check(not orphans, "every station and device tied to an archived parent", f"orphans {orphans}")


@case("GP.R.01", f"{CLAUSE}: real-time data", "Real-time data at the required period")
def test_gp_r01_realtime_period(rig) -> None:
    """Purpose: real-time power of every load device, every ``realtime_period_s``.

    Steps: take the archive; collect 11 real-time uploads.
    Expected: 1. 11 uploads within 13 periods; 2. median gap within ±10 % of the period
    (bench interpretation); 3. each valid against realtime.json; 4. every archived load
    device in every upload.
    """
    devices = {d["DeviceID"] for d in archive(rig)["LoadDevices"]}
    period = rig.config.realtime_period_s
    mark = rig.inbox.mark()
    got = uploads(rig, mark, UPLOADS, (UPLOADS + 2) * period + rig.config.ack_limit_s)
    stats = period_stats([n.t for n in got], period)
    if stats is not None:
        rig.measurements.record("upload_period", stats)
    check(len(got) == UPLOADS,
          f"{UPLOADS} uploads of {names(rig)['realtime']} within {(UPLOADS + 2) * period:g} s",
          f"{len(got)}")  # fmt: skip
    median = stats.p50_ms if stats else 0.0
    judged = rig.timing.duration(median / 1000.0, low_s=period * (1 - PERIOD_TOLERANCE),
                                 high_s=period * (1 + PERIOD_TOLERANCE))  # fmt: skip
    rig.measurements.record("upload_period_median", judged)
    require_pass(judged, f"median gap {period * 1000:g} ms ±{PERIOD_TOLERANCE:.0%}",
            f"median {median:.1f} ms (mean {stats.mean_ms if stats else 0:.1f} ms)")  # fmt: skip
    for n in got:
        conforms("realtime", n.data, "a real-time upload")
        missing = devices - {i["DeviceID"] for i in n.data["RealtimeDatas"]}
        check(not missing, "every archived device in every upload", f"missing {sorted(missing)}")
