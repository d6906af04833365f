"""What the report says: cover, traceability matrix, case pages, both languages."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import tomllib

from reports.html import LANGUAGES, labels, render_report
from reports.traceability import load_standards, matrix, references
from tests.test_report_pdf import gbt_summary


def plain(page: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def report_case(case_id: str, clause: str, verdict: str = "passed") -> dict[str, Any]:
    return {"id": case_id, "suite": "gbt27930.charger", "clause": clause, "verdict": verdict}


def test_labels_complete_in_every_language() -> None:
    raw = tomllib.loads(
        resources.files("reports").joinpath("data/labels.toml").read_text(encoding="utf-8")
    )

    def keys(table: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for key, value in table.items():
            found.add(prefix + key)
            if isinstance(value, dict):
                found |= keys(value, f"{prefix}{key}.")
        return found

    assert set(raw) == set(LANGUAGES)
    for language in LANGUAGES:
        assert keys(raw[language]) == keys(raw["en"]), language
    assert labels("fr") == labels("en")


def test_every_standard_file_loads_with_unique_rows() -> None:
    standards = load_standards()
    assert {s.name for s in standards} >= {"GB/T 34658-2017", "GB/T 27930-2015", "SAE J1939-21"}
    for standard in standards:
        ids = [row.id for row in standard.clauses + standard.cases]
        assert len(ids) == len(set(ids)), standard.name
        assert all(row.match for row in standard.clauses)


def test_references_split_by_standard() -> None:
    text = (
        "GB/T 34658-2017 §7.5.2; GB/T 34658-2017 Amd. 1; GB/T 27930-2015 CEM SPN3921, J1939-21 TP"
    )
    found = references(text, load_standards())
    assert found == {
        "GB/T 34658-2017": [" §7.5.2", " Amd. 1"],
        "GB/T 27930-2015": [" CEM SPN3921, "],
        "SAE J1939-21": [" TP"],
    }


def test_matrix_rows_covered_failed_and_not_covered() -> None:
    cases = [
        report_case("DP.1001", "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CHM (PGN 0x2600)"),
        report_case("DN.1001", "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CEM SPN3921", "failed"),
        report_case("X.1", "ISO 15118-2:2014 [V2G2-123]"),
    ]
    tables, others = matrix(cases)
    by_name = {t.standard.name: t for t in tables}
    gbt34658 = {
        row.id: [c["id"] for c in found] for row, found in by_name["GB/T 34658-2017"].clauses
    }
    assert gbt34658["7.5.1"] == ["DP.1001", "DN.1001"]
    assert gbt34658["7.5.2"] == [] and gbt34658["Annex A"] == []
    own = {row.id: [c["id"] for c in found] for row, found in by_name["GB/T 34658-2017"].cases}
    assert own["DP.1001"] == ["DP.1001"] and own["DN.2010"] == []
    gbt27930 = {
        row.id: [c["id"] for c in found] for row, found in by_name["GB/T 27930-2015"].clauses
    }
    assert gbt27930["CHM"] == ["DP.1001"] and gbt27930["SPN3921"] == ["DN.1001"]
    assert gbt27930["SPN3922"] == [] and gbt27930["CEM"] == ["DN.1001"]
    assert list(others) == ["ISO 15118-2:2014 [V2G2-123]"]


def test_section_numbers_match_whole_numbers_only() -> None:
    tables, _ = matrix([report_case("A.1", "GB/T 34658-2017 §7.5.10")])
    gbt34658 = next(t for t in tables if t.standard.name == "GB/T 34658-2017")
    assert gbt34658.covered == 0  # §7.5.10 is not §7.5.1


def test_cover_and_case_page() -> None:
    page = plain(render_report(gbt_summary(), signature={"algorithm": "ed25519",
                                                         "fingerprint": "SHA256:ab12",
                                                         "self_signed": True}))  # fmt: skip
    for text in (
        "Laboratory 新能源汽车检测实验室",
        "Tested by Wang Fang",
        "serial SN-PDF-4711",
        "bench git abc1234",
        "profile SHA-256",
        "self-signed by bench key — ed25519 SHA256:ab12",
        "Summary by suite",
        "gbt27930.charger 2 1 1 0 0 failed",
        "Clause traceability",
        "GB/T 34658-2017 — ",
        "expected CEM with brm_timeout 5 s after CRM(0x00) seen no CEM",
        "7.5.1 Charger under test: handshake DP.1001 passed DN.1001 failed failed",
        "Annex A Static documents (PICS), normative not covered",
    ):
        assert text in page, text
    assert re.search(r"profile SHA-256 [0-9a-f]{64}", page)


def test_chinese_labels() -> None:
    page = plain(render_report(gbt_summary("zh-CN")))
    for text in ("被测设备", "条款追溯矩阵", "不通过", "未覆盖", "预期", "实测", "检测机构"):
        assert text in page, text
    assert "Device under test" not in page


def test_case_description_shown() -> None:
    summary = gbt_summary()
    summary["cases"][0]["description"] = "Purpose: CHM is sent.\n\nExpected:\n1. every 250 ms"
    page = render_report(summary)
    assert "Purpose, steps and expected results" in page
    assert "Purpose: CHM is sent.\n\nExpected:\n1. every 250 ms" in page


def test_last_frames_shown() -> None:
    summary = gbt_summary()
    summary["cases"][1]["frames"] = ["   -0.001 s  CEM from 0x56 [4] FD F0 C0 FC"]
    summary["cases"][0]["frames"] = "not a list"
    page = render_report(summary)
    assert page.count("Last messages before the verdict") == 1
    assert "   -0.001 s  CEM from 0x56 [4] FD F0 C0 FC" in page
