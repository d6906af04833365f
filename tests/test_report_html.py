"""The self-contained HTML report built from summary.json."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markupsafe
import pytest

from vgi_bench.profile import load_profile
from vgi_bench.reports.html import render_report, write_report


def sample_summary() -> dict[str, Any]:
    profile = load_profile(None).to_dict()
    return {
        "bench": {"version": "0.1.0", "git": "cd736c1-dirty"},
        "profile": profile,
        "dut": {
            "vendor": "ACME",
            "model": "DC-60",
            "serial": "SN123",
            "firmware": "1.2.3",
            "simulated": True,
        },
        "started": "2025-01-01T10:00:00+00:00",
        "finished": "2025-01-01T10:02:05+00:00",
        "cases": [
            {
                "id": "CH-BHM-001",
                "suite": "gbt27930.charger",
                "clause": "10.2.1",
                "title": "CHM period 250 ms",
                "verdict": "passed",
                "message": "",
                "duration_s": 3.25,
                "measurements": {
                    "chm_period": {
                        "mean_ms": 250.12345,
                        "min_ms": 248.9,
                        "max_ms": 251.3,
                        "jitter_ms": 2.4,
                        "count": 12,
                    },
                    "frames": 42,
                },
            },
            {
                "id": "CH-CRM-002",
                "suite": "gbt27930.charger",
                "clause": "9.1",
                "title": "CRM after BHM",
                "verdict": "failed",
                "message": "CRM latency 812 ms > 500 ms\nline two <script>alert(1)</script>",
                "duration_s": 0.5,
                "measurements": {"crm_latency": {"value_ms": 812.0, "limit_ms": 500}},
            },
            {
                "id": "OCPP-BOOT-001",
                "suite": "ocpp201.cp",
                "clause": "B01",
                "title": "BootNotification accepted",
                "verdict": "error",
                "message": "ConnectionRefusedError: [Errno 111]",
                "duration_s": 0.01,
                "measurements": {},
            },
            {
                "id": "OCPP-SEC-003",
                "suite": "ocpp201.cp",
                "clause": "A03",
                "title": "Security profile 3",
                "verdict": "skipped",
                "message": "profile has security_profile 0",
                "duration_s": 0.0,
                "measurements": {},
            },
        ],
        "totals": {"passed": 1, "failed": 1, "error": 1, "skipped": 1},
    }


class _Collector(HTMLParser):
    """Collects start tags and checks that the document parses."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collector()
    parser.feed(page)
    parser.close()
    return parser.tags


def test_renders_all_verdicts_cases_and_measurements() -> None:
    page = render_report(sample_summary())
    # The title names the report number, the DUT and the standards applied.
    assert re.search(
        r"<title>VGI-20250101-100000-[0-9A-F]{6} — ACME DC-60: conformance to GB/T 27930-2015",
        page,
    )
    for case_id in ("CH-BHM-001", "CH-CRM-002", "OCPP-BOOT-001", "OCPP-SEC-003"):
        assert case_id in page
    for verdict in ("passed", "failed", "error", "skipped"):
        assert f'class="badge {verdict}"' in page
    # DUT and bench identity, run times, profile source.
    for text in ("ACME", "DC-60", "SN123", "1.2.3", "0.1.0", "cd736c1-dirty", "&lt;default&gt;"):
        assert text in page
    assert "2025-01-01T10:00:00+00:00" in page and "2 min 5 s" in page
    # Suites are grouped, measurements readable.
    assert page.index("gbt27930.charger") < page.index("ocpp201.cp")
    for text in ("chm_period", "mean (ms)", "250.123", "jitter (ms)", "count", "frames", "42"):
        assert text in page
    # {"value_ms", "limit_ms"} is one figure row: value, unit, limit.
    row = page[page.index('<td class="name">crm_latency</td>') :]
    row = row[: row.index("</tr>")]
    assert re.sub(r"<[^>]+>", "|", row).split("|").count("812") == 1
    assert ">ms<" in row and ">500<" in row
    # Overall verdict: failures present.
    assert 'class="banner FAIL"' in page
    assert "3.25 s" in page


def test_failure_message_in_full_and_escaped() -> None:
    page = render_report(sample_summary())
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "CRM latency 812 ms &gt; 500 ms\nline two" in page
    assert not [t for t, _ in tags(page) if t == "script"]


def test_everything_from_the_summary_is_escaped() -> None:
    summary = sample_summary()
    evil = '<img src=x onerror="alert(1)">'
    summary["dut"]["vendor"] = evil
    summary["bench"]["git"] = evil
    case = summary["cases"][0]
    case.update(id=evil, clause=evil, title=evil, suite=evil)
    case["measurements"] = {evil: {evil: [evil]}}
    page = render_report(summary)
    assert evil not in page
    assert not [t for t, _ in tags(page) if t == "img"]
    assert str(markupsafe.escape(evil)) in page


def test_self_contained() -> None:
    page = render_report(sample_summary())
    for tag, attrs in tags(page):
        assert tag not in ("link", "script", "iframe", "object", "embed")
        for name in ("src", "href"):
            target = attrs.get(name)
            assert target is None or target.startswith("#"), (tag, attrs)
    assert not re.search(r"<link|<script\s+src|url\(", page, re.IGNORECASE)
    assert not re.search(r"(src|href)=\"https?://", page)
    assert "<style>" in page


def test_pass_banner_and_clause_traceability() -> None:
    summary = sample_summary()
    summary["cases"] = [c for c in summary["cases"] if c["verdict"] in ("passed", "skipped")]
    summary["totals"] = {"passed": 1, "failed": 0, "error": 0, "skipped": 1}
    page = render_report(summary)
    # Never a bare PASS with a case not run: the count and the reason are on the cover.
    assert 'class="banner PASS partial"' in page
    banner = page[page.index('id="verdict"') :]
    assert "PASS (1 not run)" in banner[:300]
    assert "profile has security_profile 0" in banner[: banner.index("</div>")]
    trace = page[page.index("Clause traceability") :]
    assert "10.2.1" in trace and "CH-BHM-001" in trace
    assert "A03" in trace and "OCPP-SEC-003" in trace


def test_clauses_sorted_naturally() -> None:
    page = render_report(sample_summary())
    trace = page[page.index("Clause traceability") :]
    assert trace.index("9.1") < trace.index("10.2.1")
    assert trace.index("A03") < trace.index("B01")


@pytest.mark.parametrize(
    "measurements",
    [
        None,
        [],
        [1, 2, 3],
        "just text",
        42,
        {"none": None, "flag": True, "nan": float("nan"), "inf": float("-inf")},
        {"list": [1.5, "a", None], "nested": {"a": {"b": {"c": {"d": {"e": 1}}}}}},
        {"list_of_dicts": [{"t_ms": 1}, {"t_ms": 2}], "empty": {}, "empty_list": []},
        {"long": list(range(500)), "tuple": (1, 2), "set": {3}},
        {1: "int key", "obj": object()},
    ],
)
def test_tolerates_odd_measurement_shapes(measurements: Any) -> None:
    summary = sample_summary()
    summary["cases"][0]["measurements"] = measurements
    page = render_report(summary)
    assert "CH-BHM-001" in page
    tags(page)


def test_tolerates_incomplete_summary() -> None:
    assert "NO CASES" in render_report({})
    page = render_report(
        {
            "bench": None,
            "dut": "not a dict",
            "cases": [None, {"verdict": "weird"}, {"id": "X", "duration_s": "n/a"}],
            "totals": {"passed": "x"},
        }
    )
    assert "case-2" in page and "weird" in page
    assert 'class="banner INCOMPLETE"' in page  # an unknown verdict is not a pass


def test_totals_computed_when_missing() -> None:
    summary = sample_summary()
    del summary["totals"]
    page = render_report(summary)
    assert "4 cases: 1 passed, 1 failed, 1 error, 1 skipped" in page


def test_profile_shown_with_secrets_masked() -> None:
    page = render_report(sample_summary())
    assert "Profile (secrets masked)" in page
    assert "OPERATORSECRET01" not in page
    assert "***" in page


def test_write_report(tmp_path: Path) -> None:
    out = tmp_path / "run" / "nested"
    path = write_report(sample_summary(), out)
    assert path == out / "report.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "CH-CRM-002" in text
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]


def test_plots_embedded_and_instruments_listed(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (tmp_path / "plots").mkdir()
    fig = plt.figure(figsize=(2, 1))
    fig.savefig(tmp_path / "plots" / "PS.4102.png")
    plt.close(fig)
    summary = sample_summary()
    summary["cases"][0]["measurements"] = {
        "evidence": {"plot": "plots/PS.4102.png"},
        "instruments": [{"instrument": "analyzer", "driver": "yokogawa-wt", "serial": "91M1",
                         "calibrated": "2026-01-01", "due": "2027-01-01", "status": "valid"}],
    }  # fmt: skip
    summary["cases"][1]["measurements"] = {"evidence": {"plot": "../../etc/passwd"}}
    page = write_report(summary, tmp_path).read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 1  # outside the run: left out
    assert "Instruments and calibration" in page and "91M1" in page
    assert 'src="http' not in page
