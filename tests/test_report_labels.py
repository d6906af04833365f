"""Every word of the report in both languages: the labels the template and vgi_bench/reports/html.py
use exist in each, profile and DUT keys included, and a zh-CN report shows no English
label -- what English remains is data (case titles, clause titles, TOML keys, values)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import tomllib

from tests.report_samples import lab_summary, text_of
from vgi_bench import profile as profile_module
from vgi_bench.reports.html import LANGUAGES, render_report
from vgi_bench.reports.traceability import load_standards
from vgi_bench.suites import BUILTIN_SUITES

TEMPLATE = Path(str(resources.files("vgi_bench.reports").joinpath("templates/report.html.j2")))
HTML_PY = Path(str(resources.files("vgi_bench.reports").joinpath("html.py")))
#: Labels that read the same in both languages (names and symbols, not words).
NEUTRAL = {
    "uncertainty": "U",
    "nodes.bms": "BMS",
    "sections.ocpp": "OCPP",
    "sections.gbt27930": "GB/T 27930",
}


def raw_labels() -> dict[str, Any]:
    text = (
        resources.files("vgi_bench.reports")
        .joinpath("data/labels.toml")
        .read_text(encoding="utf-8")
    )
    return tomllib.loads(text)


def flat(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in table.items():
        if isinstance(value, dict):
            yield from flat(value, f"{prefix}{key}.")
        else:
            yield prefix + key, str(value)


def used_labels() -> set[str]:
    """Top-level label names the template (``t.name``) and html.py (``words["name"]``) use."""
    template = TEMPLATE.read_text(encoding="utf-8")
    found = set(re.findall(r"\bt\.([a-z_]+)", template))
    found |= set(re.findall(r'words\["([a-z_]+)"\]', HTML_PY.read_text(encoding="utf-8")))
    return found


def test_every_label_used_exists_in_every_language() -> None:
    raw = raw_labels()
    used = used_labels()
    assert {"report_number", "deviations", "dut_keys", "profile_keys", "rules"} <= used
    for language in LANGUAGES:
        assert not used - set(raw[language]), language


def test_every_label_is_translated() -> None:
    raw = raw_labels()
    english = dict(flat(raw["en"]))
    for language in LANGUAGES:
        if language == "en":
            continue
        words = dict(flat(raw[language]))
        assert set(words) == set(english), language
        same = {k: v for k, v in words.items() if v == english[k]}
        assert same == NEUTRAL, language


def profile_keys() -> Iterator[tuple[str, str]]:
    for name, section in profile_module._SECTIONS.items():
        for key in section.fields:
            yield name, key
        if section.extras:
            yield name, "options"
    for key in profile_module._INSTRUMENT.fields:
        yield "instruments", key
    yield "instruments", "options"
    for key in profile_module._RACK.fields:
        yield "rack", key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_profile_and_dut_key_has_a_label(language: str) -> None:
    words = raw_labels()[language]
    missing = [
        f"{section}.{key}"
        for section, key in profile_keys()
        if f"{section}.{key}" not in words["profile_keys"] and key not in words["profile_keys"]
    ]
    assert not missing, f"add labels for these profile keys to labels.toml: {missing}"
    assert set(profile_module._DUT.fields) <= set(words["dut_keys"])
    assert set(profile_module._SECTIONS) <= set(words["sections"]) | {"instruments"}


def data_strings(summary: dict[str, Any]) -> list[str]:
    """Every string the report may print as data: the summary's, the clause files', the
    suites' titles."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif value is not None:
            found.append(str(value))

    walk(summary)
    for standard in load_standards():
        found += [standard.name, standard.title, *standard.designations]
        found += [f"{row.id} {row.title}" for row in standard.clauses + standard.cases]
    found += [suite.title for suite in BUILTIN_SUITES]
    return found


def english_fragments() -> set[str]:
    """The English labels' words, cut at their {placeholders}."""
    out = set()
    for key, value in flat(raw_labels()["en"]):
        if key in NEUTRAL:
            continue
        for piece in re.split(r"\{[a-z_]+\}", value):
            part = piece.strip(" :;,.()—-")
            if len(re.findall(r"[A-Za-z]", part)) >= 3:
                out.add(part)
    return out


def zh_summaries() -> Iterator[dict[str, Any]]:
    yield lab_summary("zh-CN")  # FAIL, a skip, judged figures, frames, clocks, deviations
    incomplete = lab_summary("zh-CN")
    incomplete["finished"] = ""
    incomplete["dut"].update(simulated=True, faults=["no_crm_aa"])
    incomplete["cases"] = [c for c in incomplete["cases"] if c["verdict"] != "failed"]
    incomplete["cases"].append({
        "id": "TC_B_01_CS", "suite": "ocpp201.cp", "verdict": "error", "title": "",
        "clause": "OCPP 2.0.1 Part 2 B01; ISO 15118-2 [V2G2-1]", "message": "OSError",
        "frames": [{"t": 0.0, "kind": "result", "from": "bench", "to": "dut",
                    "name": "BootNotification", "raw": "[3,\"1\",{}]"}],
        "measurements": {"instruments": [{"instrument": "analyzer", "status": "expired"}]},
    })  # fmt: skip
    yield incomplete
    passing = lab_summary("zh-CN")
    passing["cases"] = [passing["cases"][0], passing["cases"][1]]
    yield passing


@pytest.mark.parametrize("summary", list(zh_summaries()), ids=["fail", "incomplete", "pass"])
def test_no_english_label_in_a_chinese_report(summary: dict[str, Any]) -> None:
    page = render_report(summary, signature={"algorithm": "ed25519", "fingerprint": "SHA256:x",
                                             "self_signed": True})  # fmt: skip
    visible = text_of(page, skip=("style", "code", "title"))
    data = "\n".join(data_strings(summary))
    checkable = {f for f in english_fragments() if f not in data}
    assert len(checkable) > 100  # the check has teeth
    left = sorted(
        f for f in checkable if re.search(rf"(?<![A-Za-z]){re.escape(f)}(?![A-Za-z])", visible)
    )
    assert not left, f"English labels in the zh-CN report: {left}"
    assert "报告编号" in visible and "偏离测试方法的情况" in visible
