"""Measurements as tables (judged figures with their uncertainty and decision, period
statistics, samples), the decision-rule section, and the last frames decoded beside
their bytes -- from vgi_bench.evidence's structured entries and from old display strings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.report_samples import FRAMES, lab_summary, text_of
from vgi_bench.can.j1939 import Frame
from vgi_bench.evidence import can_entries, entries_of, ocpp_entries
from vgi_bench.gbt27930.messages import Decoded, DecodeError
from vgi_bench.ocpp.frames import parse_frame
from vgi_bench.ocpp.log import MessageLog
from vgi_bench.reports.html import render_report
from vgi_bench.reports.measurements import MAX_ROWS, measurement_tables


def article(page: str, case_id: str) -> str:
    """The HTML of one case's page."""
    start = page.index(f'<span class="mono">{case_id}</span>')
    return page[start : page.index("</article>", start)]


def rows(html: str, table_class: str) -> list[str]:
    """The text of each body row of the first table with ``table_class``."""
    start = html.index(f'class="meas {table_class}')
    body = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [text_of(r) for r in re.findall(r"<tr.*?</tr>", body, re.DOTALL)]


# ---------------------------------------------------------------- measurements


def test_judged_figures_are_rows_with_uncertainty_rule_and_decision() -> None:
    page = render_report(lab_summary())
    ps4102 = rows(article(page, "PS.4102"), "figures")
    assert ps4102 == [
        "cc_20A 0.28 A 0.3 ± 0.06 (k = 2) guarded acceptance (guard band w = U) not proven "
        "inside guard band",
        "cc_60A 0.9 A 0.6 ± 0.1 (k = 2) guarded acceptance (guard band w = U) fail",
    ]
    (cv,) = rows(article(page, "PS.4101"), "figures")
    assert cv == "cv_382V 0.4 V 1.91 ± 0.25 (k = 2) guarded acceptance (guard band w = U) pass"
    head = article(page, "PS.4102")
    assert "<th>decision rule</th>" in head and '<span class="gb">' in head


def test_period_statistics_are_one_row_per_figure() -> None:
    dp1001 = article(render_report(lab_summary()), "DP.1001")
    start = dp1001.index("<thead>", dp1001.index('class="meas stats'))
    header = text_of(dp1001[start : dp1001.index("</thead>", start)])
    assert header == "figure count nominal (ms) mean (ms) min (ms) max (ms) jitter (ms)"
    assert rows(dp1001, "stats") == ["CHM.period 12 250 250.1 249.9 250.3 0.2"]
    assert "{" not in text_of(dp1001)  # no nested dump


def test_samples_and_lists_are_readable_tables() -> None:
    ps4101 = article(render_report(lab_summary()), "PS.4101")
    samples = rows(ps4101, "records")
    assert samples[0] == "0 382" and samples[1] == "0.05 382.01"
    assert len(samples) == MAX_ROWS + 1 and samples[-1] == "… 10 more rows in results.jsonl"
    values = rows(ps4101, "values")
    assert "voltage_limit_source.note UNVERIFIED: industry figure" in values
    (current,) = [v for v in values if v.startswith("current_a")]
    assert current.startswith("current_a n = 30, 20 … 20.029, mean 20.0145: [20, 20.001,")


def test_older_figure_shapes_are_figure_rows() -> None:
    tables = measurement_tables({
        "crm_latency": {"value_ms": 812.0, "limit_ms": 500},
        "cc_20A": {"error": -0.01, "limit": 0.3, "uncertainty_k2": 0.06, "decision": "pass"},
        "response_ms": {"BootNotification": 12.5},
    })  # fmt: skip
    latency, cc = tables["figures"]
    assert (latency["value"], latency["unit"], latency["limit"]) == ("812", "ms", "500")
    assert (cc["quantity"], cc["value"], cc["uncertainty"]) == ("error", "-0.01", "0.06")
    assert cc["k"] == "2" and cc["decision"] == "pass" and not cc["rule"]
    assert tables["values"] == [{"name": "response_ms.BootNotification", "text": "12.5"}]


def test_decision_rule_section_states_the_rule_and_the_budget() -> None:
    page = render_report(lab_summary())
    text = text_of(page[page.index('id="decision-rule"') : page.index('id="summary"')])
    assert "Guarded acceptance (ILAC-G8, guard band w = U)" in text
    assert "coverage factor k = 2" in text and "rectangular distribution" in text
    assert "judged figures 3 — 1 pass, 1 fail, 1 not proven; 1 inside guard band" in text
    assert "analyzer yokogawa-wt SIM-WT-0001 voltage 0.0005 0.1" in text
    simple = lab_summary()
    simple["profile"]["report"]["decision_rule"] = "simple"
    page = render_report(simple)
    text = text_of(page[page.index('id="decision-rule"') : page.index('id="summary"')])
    assert "Simple acceptance (ILAC-G8, shared risk, no guard band)" in text
    assert "decision rule simple acceptance simple" in text


def test_decision_rule_defaults_to_guarded() -> None:
    summary = lab_summary()
    del summary["profile"]["report"]["decision_rule"]
    page = render_report(summary)
    assert "Guarded acceptance (ILAC-G8" in text_of(page)


# ---------------------------------------------------------------- frames


def test_frames_are_a_table_decoded_beside_the_bytes() -> None:
    dp1001 = article(render_report(lab_summary()), "DP.1001")
    brm, chm = rows(dp1001, "frames")
    assert brm.startswith("-0.250 s BMS 0xF4 → charger 0x56 BRM 0x0200 (transport)")
    assert "protocol_version = 1.1, battery_type = 3, rated_capacity = 150" in brm
    assert brm.endswith("[49] 01 01 00 03 DC 05 AC 0D FF " + " ".join(["FF"] * 40))
    assert chm == "+0.000 s charger 0x56 → BMS 0xF4 CHM 0x2600 protocol_version = 1.1 [3] 01 01 00"
    assert "word-break: break-all" in render_report(lab_summary())  # long frames wrap


def test_old_string_frames_still_shown() -> None:
    summary = lab_summary()
    summary["cases"][0]["frames"] = ["   -0.001 s  CEM from 0x56 [4] FD F0 C0 FC", 7, None]
    dp1001 = article(render_report(summary), "DP.1001")
    assert "   -0.001 s  CEM from 0x56 [4] FD F0 C0 FC" in dp1001
    assert 'class="meas frames' not in dp1001
    summary["cases"][0]["frames"] = [{"t": "x", "fields": "not a dict"}, {}]
    assert "DP.1001" in render_report(summary)  # odd entries never break the report


@dataclass(frozen=True)
class FakeRecord:
    """What vgi_bench.evidence reads of a capture record (vgi_bench.can.capture.Record)."""

    name: str | None
    frame: Frame
    decoded: Any
    via_tp: bool = False


def test_can_entries_from_capture_records() -> None:
    brm = Frame(6, 0x0200, 0xF4, 0x56, bytes(range(49)), timestamp=10.75)
    bad = Frame(6, 0x1000, 0xF4, 0x56, b"\x01", timestamp=10.9)
    chm = Frame(6, 0x2600, 0x56, 0xFF, b"\x01\x01\x00", timestamp=11.0)
    records = [
        FakeRecord("BRM", brm, Decoded("BRM", 0x0200, {"vin": b"\x41\x42", "x": 1.5}, b""), True),
        FakeRecord("BCL", bad, DecodeError(0x1000, b"\x01", "too short", "BCL")),
        FakeRecord("CHM", chm, Decoded("CHM", 0x2600, {"protocol_version": "1.1"}, b"")),
    ]
    first, second, last = can_entries(records)
    assert first["t"] == -0.25 and first["tp"] is True and first["len"] == 49
    assert (first["from"], first["to"], first["src"]) == ("bms", "charger", "0xF4")
    assert first["pgn"] == "0x0200" and first["name"] == "BRM"
    assert first["fields"] == {"vin": "41 42", "x": 1.5}
    assert first["hex"].startswith("00 01 02 03")
    assert second["error"] == "too short" and "fields" not in second
    assert last == {
        "t": 0.0, "from": "charger", "to": "all", "src": "0x56", "dst": "0xFF",
        "name": "CHM", "pgn": "0x2600", "len": 3, "hex": "01 01 00",
        "fields": {"protocol_version": "1.1"},
    }  # fmt: skip


def test_ocpp_entries_from_the_message_log() -> None:
    log = MessageLog()
    boot_call = '[2,"1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M"}}]'
    log.add("rx", "CP_1#1", parse_frame(boot_call))
    log.add("tx", "CP_1#1", parse_frame('[3,"1",{"status":"Accepted","interval":300}]'),
            action="BootNotification")  # fmt: skip
    log.note("bench: connection closed")
    boot, answer, note = ocpp_entries(log.entries)
    assert (boot["from"], boot["to"], boot["kind"]) == ("dut", "bench", "call")
    assert boot["name"] == "BootNotification"
    assert boot["fields"]["chargingStation"] == '{"model":"M"}'
    assert boot["raw"].startswith('[2,"1","BootNotification"')
    assert (answer["from"], answer["kind"]) == ("bench", "result")
    assert answer["name"] == "BootNotification"
    assert answer["fields"] == {"status": "Accepted", "interval": 300} and note["t"] == 0.0
    assert "from" not in note and note["raw"] == "bench: connection closed"


@dataclass
class FakeCapture:
    records: list[Any] = field(default_factory=list)


@dataclass
class FakeRig:
    capture: FakeCapture | None = None
    log: MessageLog | None = None


@dataclass
class FakePowerRig:
    can: FakeRig


def test_entries_of_the_case_rig_last_count() -> None:
    frames = [Frame(6, 0x2600, 0x56, 0xF4, b"\x01", timestamp=float(i)) for i in range(20)]
    records = [FakeRecord("CHM", f, None) for f in frames]
    found = entries_of([object(), FakePowerRig(FakeRig(FakeCapture(records)))], 12)
    assert len(found) == 12 and found[0]["t"] == -11.0 and found[-1]["t"] == 0.0
    log = MessageLog()
    log.add("rx", "c", parse_frame('[2,"9","Heartbeat",{}]'))
    assert entries_of([FakeRig(FakeCapture([]), log)], 12)[0]["name"] == "Heartbeat"
    assert entries_of([FakeRig()], 12) == []


def test_frames_of_the_sample_are_what_evidence_writes() -> None:
    keys = {"t", "from", "to", "src", "dst", "name", "pgn", "len", "hex", "fields", "tp"}
    assert all(set(f) <= keys for f in FRAMES)


def test_ocpp_messages_and_bench_notes_in_the_frame_table() -> None:
    summary = lab_summary()
    summary["cases"][0]["frames"] = [
        {"t": -0.5, "kind": "event", "raw": "connected: /CP_1"},
        {"t": -0.2, "kind": "call", "from": "dut", "to": "bench", "name": "BootNotification",
         "fields": {"reason": "PowerUp"}, "raw": '[2,"1","BootNotification",{"reason":"PowerUp"}]'},
        {"t": 0.0, "kind": "result", "from": "bench", "to": "dut", "name": "BootNotification",
         "fields": {"status": "Accepted"}, "raw": "[3,\"1\",{\"status\":\"Accepted\"" + "x" * 300},
    ]  # fmt: skip
    note, call, answer = rows(article(render_report(summary), "DP.1001"), "frames")
    assert note == "-0.500 s — (bench note) connected: /CP_1"
    assert call.startswith("-0.200 s DUT → bench BootNotification reason = PowerUp [2,")
    assert answer.startswith("+0.000 s bench → DUT BootNotification (answer) status = Accepted")
    assert answer.endswith("x…") and len(answer) < 300  # the full text is in ocpp.jsonl
