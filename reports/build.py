"""The end of every run: report.html, report.pdf and, last, report.sig over the whole run.

One function for the pytest plugin (end of a run) and ``vgi-bench report DIR`` (rebuild
and re-sign), so both produce the same files in the same order. A step that fails is
logged and the next goes on: results already on disk are never lost to a report problem.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.html import write_report
from reports.signing import SignatureError, Signer, load_signer, sign_run

log = logging.getLogger(__name__)

__all__ = ["BuiltReport", "build_reports", "report_settings", "signer_for"]


@dataclass
class BuiltReport:
    """Which files the build wrote, and why any is missing."""

    html: Path | None = None
    pdf: Path | None = None
    sig: Path | None = None
    problems: list[str] = field(default_factory=list)


def report_settings(summary: dict[str, Any]) -> dict[str, Any]:
    """The profile's ``[report]`` section as recorded in ``summary.json`` (may be empty)."""
    profile = summary.get("profile")
    section = profile.get("report") if isinstance(profile, dict) else None
    return section if isinstance(section, dict) else {}


def signer_for(summary: dict[str, Any]) -> Signer:
    """The lab's key named in the run's profile, or the bench key (SignatureError if bad)."""
    settings = report_settings(summary)
    return load_signer(
        settings.get("signing_key"),
        algorithm=str(settings.get("signature") or "ed25519"),
        lab=str(settings.get("lab") or ""),
        operator=str(settings.get("operator") or ""),
    )


def build_reports(summary: dict[str, Any], out_dir: Path, *, pdf: bool = True) -> BuiltReport:
    """Write report.html and report.pdf into ``out_dir``, then sign every file there."""
    out_dir = Path(out_dir)
    built = BuiltReport()
    signer: Signer | None = None
    try:
        signer = signer_for(summary)
    except SignatureError as exc:
        built.problems.append(f"report.sig not written: {exc}")
    signature = signer.describe() if signer else None
    try:
        built.html = write_report(summary, out_dir, signature=signature)
    except Exception as exc:  # the report must not hide results already on disk
        log.exception("report.html could not be written")
        built.problems.append(f"report.html not written: {exc}")
    if pdf:
        try:
            from reports.pdf import write_pdf

            built.pdf = write_pdf(summary, out_dir, signature=signature)
        except Exception as exc:  # missing pango/fonts, ... : keep the HTML report
            built.problems.append(f"report.pdf not written ({type(exc).__name__}: {exc})")
    if signer is not None:
        built.sig = sign_run(out_dir, signer)
    for problem in built.problems:
        log.error("%s", problem)
    return built
