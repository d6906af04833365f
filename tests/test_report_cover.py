"""What an ISO/IEC 17025 report states (§7.8.2.1): number, parties, DUT, methods,
conditions, the only-the-item-tested statement, deviations, who signs; and the verdict
rule that never says PASS for cases that did not run."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.report_samples import lab_summary, text_of
from vgi_bench.reports.cover import report_number
from vgi_bench.reports.html import render_report
from vgi_bench.reports.verdict import overall, skip_reason


def section(page: str, anchor: str) -> str:
    """The text from the element with ``id=anchor`` up to the next chapter."""
    start = page.index(f'id="{anchor}"')
    start = page.index(">", start) + 1
    end = page.find('<section class="chapter', start)
    return text_of(page[start : end if end > 0 else None])


# ---------------------------------------------------------------- report number


def test_report_number_is_deterministic_and_tells_runs_apart() -> None:
    summary = lab_summary()
    number = report_number(summary)
    assert re.fullmatch(r"ACME-20260301-080000-[0-9A-F]{6}", number)
    assert report_number(lab_summary()) == number  # the same run: the same number
    other = lab_summary()
    other["started"] = "2026-03-01T08:00:01+00:00"
    assert report_number(other) != number
    other = lab_summary()
    other["dut"]["serial"] = "SN-OTHER"
    assert report_number(other).rsplit("-", 1)[1] != number.rsplit("-", 1)[1]
    given = lab_summary()
    given["profile"]["report"]["number"] = "ACME/2026/0042"
    assert report_number(given) == "ACME/2026/0042"


def test_report_number_without_a_start_time() -> None:
    summary = lab_summary()
    del summary["started"]
    assert re.fullmatch(r"ACME-UNDATED-[0-9A-F]{6}", report_number(summary))
    assert re.fullmatch(r"VGI-UNDATED-[0-9A-F]{6}", report_number({}))


def test_report_number_on_the_cover_title_and_end() -> None:
    summary = lab_summary()
    number = report_number(summary)
    page = render_report(summary)
    assert f"<title>{number} — " in page
    assert page.count(number) >= 4  # running header, cover, end of report, <title>
    assert f"End of report {number}" in text_of(page)


# ---------------------------------------------------------------- cover


def test_cover_names_parties_dut_methods_and_conditions() -> None:
    page = render_report(lab_summary())
    cover = section(page, "verdict")  # banner to the end of the cover
    text = text_of(page[: page.index('id="deviations"')])
    for expected in (
        "Laboratory ACME EV Test Lab 1 Test Road, Suzhou",
        "Accreditation CNAS L1234",
        "Customer Charger Co. Ltd 2 Grid Street, Nanjing",
        "vendor ACME",
        "rating DC 200-750 V, 0-250 A, 120 kW",
        "connector GB/T 20234.3 DC",
        "hardware revision rev C",
        "description DC charger, two guns",
        "firmware 2.3.1",
        "location Hall 2, bench 3",
        "ambient temperature 23.5 °C",
        "relative humidity 45 %",
        "The results relate only to the item tested.",
        "Tested by Li Wei",
        "Reviewed by Wang Fang",
        "Approved by Zhang San",
    ):
        assert expected in text, expected
    # The standards applied: the methods and what the DUT was tested against.
    for expected in (
        "GB/T 34658-2017 Conformance test for EV charger–BMS communication (GB/T 27930) "
        "test method",
        "GB/T 27930-2015 EV charger–BMS communication protocol specification tested against",
        "GB/T 34657.1-2017",
        "gbt27930.charger GB/T 27930-2015 charger conformance",
        "power.charger Charger power stage",
    ):
        assert expected in text, expected
    # The clocks that stamped the bus, under test conditions.
    assert "can pcan PCAN_USBBUS1 adapter hardware 1 µs 5 µs" in text
    assert "signature, date" in cover


def test_title_names_the_dut_and_the_standards() -> None:
    page = render_report(lab_summary())
    h1 = text_of(re.search(r"<h1>(.*?)</h1>", page, re.DOTALL)[1])
    assert h1.startswith("ACME DC-120: conformance to GB/T 27930-2015")
    assert h1.endswith("per GB/T 34658-2017, GB/T 34657.1-2017")
    zh = text_of(re.search(r"<h1>(.*?)</h1>", render_report(lab_summary("zh-CN")), re.DOTALL)[1])
    assert zh.startswith("ACME DC-120 GB/T 27930-2015") and "一致性测试报告" in zh


def test_missing_lab_details_are_shown_missing_not_invented() -> None:
    summary = lab_summary()
    summary["profile"]["report"] = {"language": "en"}
    text = text_of(render_report(summary))
    assert "Laboratory not stated" in text and "Customer not stated" in text
    assert "Accreditation not stated" in text and "Approved by not stated" in text
    assert "ambient temperature not stated" in text


def test_deviations_from_the_lab_and_from_the_run() -> None:
    summary = lab_summary()
    summary["cases"].append(
        {"id": "DN.2010", "suite": "gbt27930.charger", "verdict": "error", "title": "x",
         "clause": "GB/T 34658-2017 §7.5.2 (content not public: bench interpretation)",
         "message": "OSError: bus down\ntraceback ..."}
    )  # fmt: skip
    text = section(render_report(summary), "deviations")
    for expected in (
        "Stated by the laboratory: Insulation check at 500 V instead of 1000 V",
        "Not run: needs a gun re-plug between cases — DN.1001",
        "Not carried out (bench error): OSError: bus down — DN.2010",
        "Method is the bench's interpretation (the standard's text is not public) — DN.2010",
        "Limit not verified against the standard's text (UNVERIFIED): "
        "UNVERIFIED: industry figure — PS.4101",
    ):
        assert expected in text, expected
    assert "traceback" not in text  # the first line of the message only
    assert "simulated reference DUT" not in text  # a real DUT here


def test_deviations_of_a_simulated_run_without_ambient() -> None:
    summary = lab_summary()
    summary["dut"].update(simulated=True, faults=["no_crm_aa"])
    summary["profile"]["report"]["ambient_temperature_c"] = None
    summary["profile"]["report"]["deviations"] = []
    text = section(render_report(summary), "deviations")
    assert "simulated reference DUT, not a device (faults switched on): no_crm_aa" in text
    assert "The power stage ran, but no ambient conditions are stated" in text
    assert "Stated by the laboratory" not in text


# ---------------------------------------------------------------- verdict rule


def case(verdict: str, message: str = "") -> dict[str, Any]:
    return {"id": f"X.{verdict}", "suite": "s", "clause": "", "title": "", "verdict": verdict,
            "message": message}  # fmt: skip


def totals(cases: list[dict[str, Any]]) -> dict[str, int]:
    out = dict.fromkeys(("passed", "failed", "error", "skipped"), 0)
    for c in cases:
        if c["verdict"] in out:
            out[c["verdict"]] += 1
    return out


@pytest.mark.parametrize(
    ("verdicts", "finished", "code", "why"),
    [
        ([], True, "NO CASES", ()),
        (["passed", "passed"], True, "PASS", ()),
        (["passed", "skipped"], True, "PASS", ()),  # PASS (1 not run)
        (["passed", "failed", "error", "skipped"], True, "FAIL", ()),
        (["passed", "error"], True, "INCOMPLETE", ("error",)),
        (["passed", "weird"], True, "INCOMPLETE", ("unknown",)),
        (["skipped", "skipped"], True, "INCOMPLETE", ("all_skipped",)),
        (["passed"], False, "INCOMPLETE", ("unfinished",)),
    ],
)
def test_verdict_rule(verdicts: list[str], finished: bool, code: str, why: tuple) -> None:
    cases = [case(v, "Skipped: no gun" if v == "skipped" else "") for v in verdicts]
    result = overall(cases, totals(cases), finished=finished)
    assert (result.code, result.why) == (code, why)


def test_skips_without_a_reason_make_it_incomplete() -> None:
    cases = [case("passed"), case("skipped", "")]
    assert overall(cases, totals(cases)).code == "INCOMPLETE"


def test_not_run_grouped_by_reason_on_the_cover() -> None:
    summary = lab_summary()
    summary["cases"] = [c for c in summary["cases"] if c["verdict"] != "failed"]
    extra = dict(summary["cases"][1], id="DN.1002")
    reason = "Skipped: needs [ocpp] security_profile in (1, 2), the profile has 0"
    other = dict(summary["cases"][1], id="TC_A_01_CS", suite="ocpp201.cp", message=reason)
    summary["cases"] += [extra, other]
    page = render_report(summary)
    start = page.index('id="verdict"')
    banner = text_of(page[page.index(">", start) + 1 : page.index("</div>", start)])
    assert 'class="banner PASS partial"' in page
    assert banner.startswith("Overall verdict: PASS (3 not run)")
    assert "2 not run: needs a gun re-plug between cases — DN.1001, DN.1002" in banner
    assert "1 not run: needs [ocpp] security_profile in (1, 2), the profile has 0" in banner
    assert skip_reason("Skipped: needs a gun") == "needs a gun"


def test_unfinished_run_is_incomplete_on_the_cover() -> None:
    summary = lab_summary()
    summary["cases"] = [summary["cases"][0]]
    summary["finished"] = ""
    page = render_report(summary)
    assert 'class="banner INCOMPLETE"' in page
    assert "the run did not finish" in text_of(page)


@pytest.mark.parametrize(
    ("where", "key", "odd"),
    [
        ("summary", "clocks", "not a list"),
        ("summary", "clocks", [1, None, {"bus": None, "resolution_s": "fast"}]),
        ("report", "ambient_temperature_c", "warm"),
        ("report", "deviations", "not a list"),
        ("report", "number", 12345),
        ("report", "decision_rule", "coin toss"),
        ("report", "tested_by", None),
        ("dut", "faults", "not a list"),
        ("dut", "rating", {"nested": [1, 2]}),
        ("summary", "started", 17),
    ],
)
def test_odd_report_values_never_break_the_report(where: str, key: str, odd: Any) -> None:
    summary = lab_summary()
    target = {"summary": summary, "report": summary["profile"]["report"],
              "dut": summary["dut"]}[where]  # fmt: skip
    target[key] = odd
    page = render_report(summary)
    assert "DP.1001" in page and report_number(summary) in page
