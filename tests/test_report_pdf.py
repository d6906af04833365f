"""report.pdf: the same report as report.html, printed, readable, in English or Chinese."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.report_samples import lab_summary
from vgi_bench.profile import load_profile
from vgi_bench.reports.build import build_reports
from vgi_bench.reports.cover import report_number
from vgi_bench.reports.signing import verify_run

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils not installed (make sysdeps)",
)


@pytest.fixture(autouse=True)
def _own_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def gbt_summary(language: str = "en") -> dict[str, Any]:
    profile = load_profile(None).to_dict()
    profile["report"] = {
        "lab": "新能源汽车检测实验室",
        "operator": "Wang Fang",
        "signing_key": None,
        "language": language,
    }
    return {
        "bench": {"version": "0.1.0", "git": "abc1234"},
        "profile": profile,
        "dut": {"vendor": "ACME", "model": "DC-120", "serial": "SN-PDF-4711", "firmware": "2.3"},
        "started": "2026-01-01T10:00:00+00:00",
        "finished": "2026-01-01T10:20:00+00:00",
        "cases": [
            {
                "id": "DP.1001",
                "suite": "gbt27930.charger",
                "clause": "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CHM (PGN 0x2600)",
                "title": "CHM transmission",
                "verdict": "passed",
                "message": "",
                "duration_s": 3.2,
                "measurements": {"CHM.period": {"count": 12, "mean_ms": 250.1}},
            },
            {
                "id": "DN.1001",
                "suite": "gbt27930.charger",
                "clause": "GB/T 34658-2017 §7.5.1; GB/T 27930-2015 CEM SPN3921",
                "title": "BRM timeout, nothing received",
                "verdict": "failed",
                "message": "expected CEM with brm_timeout 5 s after CRM(0x00); saw no CEM",
                "duration_s": 7.5,
                "measurements": {"brm_timeout": {"value_ms": None, "limit_ms": 5000}},
            },
        ],
    }


def pdf_text(path: Path) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout


@needs_poppler
def test_pdf_readable_with_cover_matrix_and_cases(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "can.asc").write_text("date Thu Jan 1 2026\n")
    built = build_reports(gbt_summary(), run)
    assert not built.problems
    assert built.pdf == run / "report.pdf" and built.html and built.sig
    text = pdf_text(built.pdf)
    for word in ("SN-PDF-4711", "DC-120", "新能源汽车检测实验室", "Wang Fang", "abc1234"):
        assert word in text, word
    assert "self-signed by bench key" in text
    assert "Clause traceability" in text and "7.5.1" in text and "SPN3921" in text
    assert "not covered" in text  # e.g. Annex A, DN.2010
    assert "no CEM" in text and "brm_timeout" in text
    assert verify_run(built.sig).ok  # the PDF is in the signed manifest
    # Page 1 renders as an image (look at it by hand: tests/README has no eyes).
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(built.pdf), str(tmp_path / "p")],
        check=True,
    )
    assert (tmp_path / "p-01.png").stat().st_size > 1000


@needs_poppler
def test_pdf_in_chinese(tmp_path: Path) -> None:
    built = build_reports(gbt_summary("zh-CN"), tmp_path)
    text = pdf_text(built.pdf)
    for word in ("一致性测试报告", "条款追溯矩阵", "不通过", "未覆盖", "SN-PDF-4711", "7.5.1"):
        assert word in text, word
    html = built.html.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "被测设备" in html


def test_no_pdf_keeps_html_and_signs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr("vgi_bench.reports.pdf.render_pdf", broken)
    built = build_reports(gbt_summary(), tmp_path)
    assert built.pdf is None and not (tmp_path / "report.pdf").exists()
    assert (tmp_path / "report.html").exists()
    assert built.problems == [
        "report.pdf not written (OSError: cannot load library 'libpango-1.0-0')"
    ]
    assert built.sig and verify_run(built.sig).ok


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF (pdftotext, one call per page)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)[1])
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(path), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for n in range(1, count + 1)
    ]  # fmt: skip


@needs_poppler
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_report_number_on_every_page(tmp_path: Path, language: str) -> None:
    summary = lab_summary(language)
    number = report_number(summary)
    built = build_reports(summary, tmp_path)
    pages = pdf_pages(built.pdf)
    assert len(pages) >= 5
    label = "Report No.:" if language == "en" else "报告编号:"
    for index, text in enumerate(pages, 1):
        assert f"{label} {number}" in text, f"page {index} has no report number"
        assert f"{index} / {len(pages)}" in text  # page x of y
    end = "End of report" if language == "en" else "报告"
    assert f"{end} {number}" in pages[-1] or number in pages[-1]
    # The cover (page 1) states the verdict and who the parties are.
    cover = pages[0]
    for word in ("ACME DC-120", "CNAS L1234", "Charger Co. Ltd", "SN-17025"):
        assert word in cover, word


@needs_poppler
def test_long_frames_and_measurement_tables_fit_the_page(tmp_path: Path) -> None:
    built = build_reports(lab_summary(), tmp_path)
    text = pdf_text(built.pdf)
    # The 49-byte BRM wraps inside its cell: every byte is printed, none is cut at the margin.
    assert text.count("FF") >= 41
    assert "inside guard band" in text and "not proven" in text
    assert "(k = 2)" in text and "guarded acceptance" in text
