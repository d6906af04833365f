"""Run summaries built by hand for the report tests: every shape the report renders.

``lab_summary()`` is the run of an accredited lab: the profile's [report] and [dut] keys,
the clocks that stamped the bus, structured frames, judged figures (pass, fail, not
proven inside the guard band), period statistics, a list of samples, a skipped case.
"""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

from vgi_bench.profile import load_profile

LAB_REPORT = {
    "lab": "ACME EV Test Lab",
    "operator": "Li Wei",
    "signing_key": None,
    "language": "en",
    "signature": "ed25519",
    "number": "",
    "number_prefix": "ACME",
    "lab_address": "1 Test Road, Suzhou",
    "accreditation": "L1234",
    "accreditation_body": "CNAS",
    "customer": "Charger Co. Ltd",
    "customer_address": "2 Grid Street, Nanjing",
    "location": "Hall 2, bench 3",
    "ambient_temperature_c": 23.5,
    "relative_humidity_pct": 45.0,
    "tested_by": "Li Wei",
    "reviewed_by": "Wang Fang",
    "approved_by": "Zhang San",
    "deviations": ["Insulation check at 500 V instead of 1000 V"],
    "decision_rule": "guarded",
}

LAB_DUT = {
    "vendor": "ACME",
    "model": "DC-120",
    "serial": "SN-17025",
    "firmware": "2.3.1",
    "simulated": False,
    "faults": [],
    "description": "DC charger, two guns",
    "rating": "DC 200-750 V, 0-250 A, 120 kW",
    "connector": "GB/T 20234.3 DC",
    "hardware": "rev C",
}

CLOCKS = [
    {
        "bus": "can",
        "interface": "pcan",
        "channel": "PCAN_USBBUS1",
        "stamped_by": "hardware",
        "resolution_s": 1e-6,
        "uncertainty_s": 5e-6,
    }
]

#: A BRM through the transport protocol and a CHM, as vgi_bench.evidence stores them.
FRAMES = [
    {
        "t": -0.25,
        "from": "bms",
        "to": "charger",
        "src": "0xF4",
        "dst": "0x56",
        "name": "BRM",
        "pgn": "0x0200",
        "len": 49,
        "tp": True,
        "fields": {"protocol_version": "1.1", "battery_type": 3, "rated_capacity": 150.0},
        "hex": " ".join(["01 01 00 03 DC 05 AC 0D"] + ["FF"] * 41),
    },
    {
        "t": 0.0,
        "from": "charger",
        "to": "bms",
        "src": "0x56",
        "dst": "0xF4",
        "name": "CHM",
        "pgn": "0x2600",
        "len": 3,
        "fields": {"protocol_version": "1.1"},
        "hex": "01 01 00",
    },
]


def figure(
    value: float, limit: float, u: float, decision: str, guard: bool, unit: str = "V"
) -> dict[str, Any]:
    """One judged figure in the shape the power and timing suites record."""
    return {
        "value": value,
        "unit": unit,
        "limit": limit,
        "uncertainty": u,
        "coverage_factor": 2,
        "decision_rule": "guarded",
        "decision": decision,
        "guard_band": guard,
    }


def lab_summary(language: str = "en") -> dict[str, Any]:
    profile = load_profile(None).to_dict()
    profile["report"] = dict(LAB_REPORT, language=language)
    profile["dut"] = dict(LAB_DUT)
    return copy.deepcopy({
        "bench": {"version": "0.1.0", "git": "abc1234"},
        "profile": profile,
        "dut": dict(LAB_DUT),
        "started": "2026-03-01T08:00:00+00:00",
        "finished": "2026-03-01T09:30:00+00:00",
        "clocks": CLOCKS,
        "cases": [
            {
                "id": "DP.1001",
                "suite": "gbt27930.charger",
                "clause": "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CHM (PGN 0x2600)",
                "title": "CHM transmission",
                "verdict": "passed",
                "message": "",
                "duration_s": 3.2,
                "measurements": {
                    "CHM.period": {"count": 12, "nominal_ms": 250.0, "mean_ms": 250.1,
                                   "min_ms": 249.9, "max_ms": 250.3, "jitter_ms": 0.2},
                },
                "frames": FRAMES,
            },
            {
                "id": "DN.1001",
                "suite": "gbt27930.charger",
                "clause": "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CEM SPN3921",
                "title": "BRM timeout, nothing received",
                "verdict": "skipped",
                "message": "Skipped: needs a gun re-plug between cases",
                "duration_s": 0.0,
                "measurements": {},
            },
            {
                "id": "PS.4101",
                "suite": "power.charger",
                "clause": "GB/T 34657.1-2017 D0.4101; NB/T 33001-2018",
                "title": "Output voltage accuracy (CV)",
                "verdict": "passed",
                "message": "",
                "duration_s": 9.0,
                "measurements": {
                    "voltage_limit_source": {"clause": "GB/T 34657.1-2017 D0.4101",
                                             "verified": False,
                                             "note": "UNVERIFIED: industry figure"},
                    "cv_382V": figure(0.4, 1.91, 0.25, "pass", False),
                    "samples": [{"t_s": 0.05 * i, "voltage_v": 382.0 + i / 100}
                                for i in range(60)],
                    "current_a": [20.0 + i / 1000 for i in range(30)],
                },
            },
            {
                "id": "PS.4102",
                "suite": "power.charger",
                "clause": "GB/T 34657.1-2017 D0.4102; NB/T 33001-2018",
                "title": "Output current accuracy (CC)",
                "verdict": "failed",
                "message": "expected DC current within ±0.3 A; saw error +0.28 A ± U 0.06 A",
                "duration_s": 8.0,
                "measurements": {
                    "cc_20A": figure(0.28, 0.3, 0.06, "not proven", True, "A"),
                    "cc_60A": figure(0.9, 0.6, 0.1, "fail", False, "A"),
                },
            },
        ],
    })  # fmt: skip


_BLOCKS = set("p div li tr td th br h1 h2 h3 h4 table section article ul ol pre caption".split())


class _Text(HTMLParser):
    """Visible text: entities decoded, blocks apart, inline tags joined; <style>, <code>
    (TOML keys, data) and <title> left out when asked."""

    def __init__(self, skip: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = skip
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.skip:
            self.depth += 1
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.skip:
            self.depth -= 1
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def text_of(page: str, skip: tuple[str, ...] = ("style",)) -> str:
    """The page as a reader sees it, whitespace collapsed."""
    parser = _Text(frozenset(skip))
    parser.feed(page)
    parser.close()
    return " ".join("".join(parser.parts).split())
