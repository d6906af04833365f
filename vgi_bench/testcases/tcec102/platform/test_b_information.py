"""Public information: stations, equipment, connectors and their status (T/CEC 102.2)."""

from __future__ import annotations

import time

from vgi_bench.cases import case, check
from vgi_bench.testcases.tcec102.platform.steps import (
    BUSINESS_REFUSAL,
    ENERGY_TOLERANCE_KWH,
    conforms,
    ok,
    refused,
    stations,
)

CLAUSE = "T/CEC 102.2-2016"


@case("TCEC.I.01", f"{CLAUSE} query_stations_info", "Station information is complete and valid")
def test_tcec_i01_stations_info(rig) -> None:
    """Purpose: StationInfo, EquipmentInfo and ConnectorInfo carry every required field.

    Steps: query_stations_info PageNo 1, PageSize 10.
    Expected: 1. Ret 0; 2. Data valid against stations_info.json (required fields, types
    and enums of StationInfo, EquipmentInfo, ConnectorInfo); 3. ItemSize >= the stations
    on the page.
    """
    data = ok(rig.call("query_stations_info", {"PageNo": 1, "PageSize": 10}), "query_stations_info")
    conforms("stations_info", data, "query_stations_info Data")
    check(data["ItemSize"] >= len(data["StationInfos"]), "ItemSize >= stations on the page",
          f"ItemSize {data['ItemSize']}, {len(data['StationInfos'])} on the page")  # fmt: skip


@case("TCEC.I.02", f"{CLAUSE} query_stations_info", "Paging follows PageNo and PageSize")
def test_tcec_i02_paging(rig) -> None:
    """Purpose: a partner can page through all stations.

    Steps: query_stations_info PageSize 1 for PageNo 1 .. PageCount.
    Expected: 1. every page has at most one station; 2. PageCount = ItemSize;
    3. the pages together hold ItemSize distinct StationIDs.
    """
    first = ok(rig.call("query_stations_info", {"PageNo": 1, "PageSize": 1}, name="page_1"),
               "query_stations_info page 1")  # fmt: skip
    count, items = first.get("PageCount"), first.get("ItemSize")
    rig.measurements.record("PageCount", count)
    rig.measurements.record("ItemSize", items)
    check(count == items, "PageCount = ItemSize with PageSize 1",
          f"PageCount {count}, ItemSize {items}")  # fmt: skip
    seen: list[str] = []
    for page in range(1, min(int(count or 0), 50) + 1):
        data = ok(rig.call("query_stations_info", {"PageNo": page, "PageSize": 1},
                           name=f"page_{page}"), f"page {page}")  # fmt: skip
        infos = data.get("StationInfos") or []
        check(len(infos) <= 1, f"at most 1 station on page {page}", f"{len(infos)} stations")
        seen += [str(s.get("StationID")) for s in infos]
    check(len(set(seen)) == items, f"{items} distinct stations over the pages", str(seen))


@case("TCEC.I.03", f"{CLAUSE} query_station_status", "Connector status is valid and complete")
def test_tcec_i03_station_status(rig) -> None:
    """Purpose: the status of every connector of a station, in the standard's enum.

    Steps: query_stations_info; query_station_status with all StationIDs.
    Expected: 1. Ret 0; 2. Data valid against station_status.json (Status in 0, 1, 2, 3,
    4, 255); 3. a status for every connector listed in the station information.
    """
    infos = stations(rig)
    ids = [s.get("StationID") for s in infos]
    data = ok(rig.call("query_station_status", {"StationIDs": ids}), "query_station_status")
    conforms("station_status", data, "query_station_status Data")
    listed = {c.get("ConnectorID") for s in infos for e in s.get("EquipmentInfos") or []
              for c in e.get("ConnectorInfos") or []}  # fmt: skip
    reported = {c["ConnectorID"] for s in data["StationStatusInfos"]
                for c in s["ConnectorStatusInfos"]}  # fmt: skip
    check(listed <= reported, "a status for every connector",
          f"missing {sorted(map(str, listed - reported))}")  # fmt: skip


@case("TCEC.I.04", f"{CLAUSE} query_station_status", "More than 50 StationIDs are refused")
def test_tcec_i04_too_many_station_ids(rig) -> None:
    """Purpose: query_station_status takes at most 50 StationIDs.

    Steps: query_station_status with 51 StationIDs.
    Expected: 1. Ret 4004 (4003 also taken: bench interpretation).
    """
    ids = [f"VGI-ST-{n:04d}" for n in range(51)]
    exchange = rig.client.call("query_station_status", {"StationIDs": ids})
    refused(rig, exchange, BUSINESS_REFUSAL, "query_station_status with 51 StationIDs")


@case("TCEC.I.05", f"{CLAUSE} query_station_stats", "Station statistics add up")
def test_tcec_i05_station_stats(rig) -> None:
    """Purpose: a station's energy statistics, per equipment and connector, are consistent.

    Steps: query_stations_info; query_station_stats for the first station, StartTime and
    EndTime today (``yyyy-MM-dd``).
    Expected: 1. Ret 0; 2. Data valid against station_stats.json; 3. StationID as asked;
    4. StationElectricity = the sum of EquipmentElectricity, and each EquipmentElectricity
    = the sum of its ConnectorElectricity (±0.01 kWh: values carry 2 decimals); 5. every
    equipment of the station information listed.
    """
    station = stations(rig)[0]
    today = time.strftime("%Y-%m-%d")
    asked = {"StationID": station.get("StationID"), "StartTime": today, "EndTime": today}
    data = ok(rig.call("query_station_stats", asked), "query_station_stats")
    conforms("station_stats", data, "query_station_stats Data")
    stats = data["StationStats"]
    rig.measurements.record("StationStats", stats)
    check(stats["StationID"] == asked["StationID"], f"StationID {asked['StationID']}",
          f"StationID {stats['StationID']}")  # fmt: skip
    equipments = stats["EquipmentStatsInfos"]
    for equipment in equipments:
        total = sum(c["ConnectorElectricity"] for c in equipment["ConnectorStatsInfos"])
        check(abs(equipment["EquipmentElectricity"] - total) <= ENERGY_TOLERANCE_KWH,
              f"EquipmentElectricity of {equipment['EquipmentID']} = the sum of its "
              f"ConnectorElectricity = {total:.2f}",
              f"EquipmentElectricity {equipment['EquipmentElectricity']}")  # fmt: skip
    total = sum(e["EquipmentElectricity"] for e in equipments)
    check(abs(stats["StationElectricity"] - total) <= ENERGY_TOLERANCE_KWH,
          f"StationElectricity = the sum of EquipmentElectricity = {total:.2f}",
          f"StationElectricity {stats['StationElectricity']}")  # fmt: skip
    listed = {str(e.get("EquipmentID")) for e in station.get("EquipmentInfos") or []}
    reported = {e["EquipmentID"] for e in equipments}
    check(listed <= reported, "statistics for every equipment of the station",
          f"missing {sorted(listed - reported)}")  # fmt: skip
