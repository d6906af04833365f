"""What the report says: cover, traceability matrix, case pages, both languages."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources
from typing import Any

import tomllib

from tests.report_samples import text_of
from tests.test_report_pdf import gbt_summary
from vgi_bench.reports.html import LANGUAGES, labels, render_report
from vgi_bench.reports.traceability import load_standards, matrix, references


def plain(page: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def report_case(case_id: str, clause: str, verdict: str = "passed") -> dict[str, Any]:
    return {"id": case_id, "suite": "gbt27930.charger", "clause": clause, "verdict": verdict}


def test_labels_complete_in_every_language() -> None:
    raw = tomllib.loads(
        resources.files("vgi_bench.reports")
        .joinpath("data/labels.toml")
        .read_text(encoding="utf-8")
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


# ---------------------------------------------------------------- not applicable, real matrices


def test_the_other_roles_clauses_are_not_applicable() -> None:
    cases = [
        {"id": "BP.1001", "suite": "gbt27930.bms", "verdict": "passed",
         "clause": "GB/T 34658-2017 §7.4.1; GB/T 27930-2015 BHM (PGN 0x2700)"},
        {"id": "BN.1001", "suite": "gbt27930.bms", "verdict": "passed",
         "clause": "GB/T 34658-2017 §7.4.1; GB/T 27930-2015 BEM SPN3902"},
    ]  # fmt: skip
    tables = {t.standard.name: t for t in matrix(cases)[0]}
    gbt34658 = tables["GB/T 34658-2017"]
    status = {row.id: gbt34658.status(row, found) for row, found in gbt34658.clauses}
    assert status["7.4.1"] == "passed" and status["7.4 (charging)"] == "not-covered"
    assert status["7.5.1"] == status["7.5.4"] == "not-applicable"
    assert status["Annex A"] == "not-covered"  # belongs to both roles
    own = {row.id: gbt34658.status(row, found) for row, found in gbt34658.cases}
    assert own["BN.1001"] == "passed" and own["BP.4003"] == "not-covered"
    assert own["DP.1001"] == own["DN.4004"] == "not-applicable"
    assert (gbt34658.covered, gbt34658.applicable) == (1, 6)
    gbt27930 = tables["GB/T 27930-2015"]
    status = {row.id: gbt27930.status(row, found) for row, found in gbt27930.clauses}
    assert status["SPN3902"] == "passed" and status["SPN3901"] == "not-covered"
    assert status["SPN3921"] == "not-applicable" and status["CHM"] == "not-covered"
    page = render_report({"cases": cases, "finished": "x"})
    trace = page[page.index('id="traceability"') :]
    assert "not applicable to this run: 7.5.1, 7.5.2, 7.5.3, 7.5.4" in text_of(trace)
    assert "43 test cases of another role, not applicable to this run" in text_of(trace)


def test_a_part_without_a_designation_continues_the_standard_before() -> None:
    text = "OCPP 2.0.1 Part 2 A02 Update; A00 certificate properties; OCA OCTT 2.0.1 TC_A_11_CS"
    found = references(text, load_standards())
    assert found == {"OCPP 2.0.1": [" Part 2 A02 Update", " A00 certificate properties",
                                    " TC_A_11_CS"]}  # fmt: skip
    assert references("no standard here; A00", load_standards()) == {}


def test_references_no_row_matches_are_listed_under_their_standard() -> None:
    cases = [
        report_case("X.1", "GB/T 34658-2017 §9.9"),
        {"id": "PS.4101", "suite": "power.charger", "verdict": "passed",
         "clause": "GB/T 34657.1-2017 D0.4101; NB/T 33001-2018"},
    ]  # fmt: skip
    tables = {t.standard.name: t for t in matrix(cases)[0]}
    assert [c["id"] for c in tables["GB/T 34658-2017"].unmatched["§9.9"]] == ["X.1"]
    assert [c["id"] for c in tables["NB/T 33001-2018"].unmatched[""]] == ["PS.4101"]
    trace = text_of(render_report({"cases": cases, "finished": "x"}))
    assert "Cited by cases without a matching row: §9.9 — X.1" in trace
    assert "(the standard as a whole, no clause named) — PS.4101" in trace


def test_a_standard_only_cited_as_a_model_is_not_applied() -> None:
    cases = [{"id": "VGI_SEC_03_CSMS", "suite": "ocpp16.csms", "verdict": "passed",
              "clause": "OCPP 1.6 security whitepaper (Improved security for OCPP 1.6-J), "
                        "security profile 3 (TLS client certificate); as OCA OCTT 2.0.1 "
                        "TC_A_08_CSMS"}]  # fmt: skip
    tables = {t.standard.name: t for t in matrix(cases)[0]}
    ocpp201 = tables["OCPP 2.0.1"]
    assert ocpp201.covered == 0 and ocpp201.applicable == 0 and not ocpp201.unmatched
    ocpp16 = tables["OCPP 1.6"]
    checked = [row.id for row, found in ocpp16.clauses if found]
    assert checked == ["WP TLS client certificate"] and not ocpp16.unmatched
    page = text_of(render_report({"cases": cases, "finished": "x"}))
    assert "OCPP 2.0.1 — Open Charge Point Protocol 2.0.1" in page
    assert "Not applied in this run: only cited by a case as a model for its method." in page


def listed_cases() -> list[dict[str, Any]]:
    """Every built-in case (``vgi-bench list``) as a passed report case."""
    proc = subprocess.run(
        [sys.executable, "-m", "vgi_bench.cli", "list"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = [line.split("\t") for line in proc.stdout.splitlines() if line.count("\t") == 3]
    keys = ("suite", "id", "clause", "title")
    return [dict(zip(keys, row, strict=True), verdict="passed") for row in rows]


def test_every_builtin_case_reference_finds_its_rows() -> None:
    cases = listed_cases()
    suites = {c["suite"] for c in cases}
    assert {"ocpp201.cp", "ocpp16.csms", "power.charger", "gridplat.platform"} <= suites
    tables, others = matrix(cases)
    unmatched = {
        (t.standard.name, text): sorted(c["id"] for c in found)
        for t in tables
        for text, found in t.unmatched.items()
    }
    # Only NB/T 33001, cited for its accuracy limits without a clause.
    assert unmatched == {("NB/T 33001-2018", ""): ["PS.4101", "PS.4102"]}
    drafts = {c["clause"] for c in cases if "V2G draft (not a standard)" in c["clause"]}
    assert set(others) <= drafts
    by_name = {t.standard.name: t for t in tables}
    for name in ("OCPP 2.0.1", "OCPP 1.6"):
        rows = {row.id for row, _ in by_name[name].cases}
        used = {c["id"] for c in cases if c["id"].startswith("TC_") and c["suite"].startswith(
            "ocpp201" if name == "OCPP 2.0.1" else "ocpp16")}  # fmt: skip
        assert used and used <= rows, used - rows  # every OCTT id a case uses has its row
    for name in ("OCPP 2.0.1", "OCPP 1.6", "GB/T 34657.1-2017", "T/CEC 102-2016",
                 "Grid interaction interface (bench interpretation)"):  # fmt: skip
        table = by_name[name]
        assert table.covered >= len(table.clauses) - 6, name  # their matrices are real
