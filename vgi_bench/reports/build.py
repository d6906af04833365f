"""The end of every run: report.html, report.pdf (signed inside, PAdES), SHA256SUMS and,
last, report.sig over the whole run.

One function for the pytest plugin (end of a run) and ``vgi-bench report DIR`` (rebuild
and re-sign), so both produce the same files in the same order: html, pdf, the PDF's
signature, ``SHA256SUMS`` (with ``SHA256SUMS.sig`` and ``SHA256SUMS.pub.pem``), then
``report.sig``, whose manifest covers all of them. A step that fails is logged and the
next goes on: results already on disk are never lost to a report problem, and a PDF
that cannot be signed stays there unsigned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vgi_bench.reports.html import write_report
from vgi_bench.reports.pades import (
    PdfSigner,
    PdfSigningError,
    load_pdf_signer,
    pyhanko_available,
    sign_pdf,
)
from vgi_bench.reports.signing import SignatureError, Signer, load_signer, sign_run, write_checksums

log = logging.getLogger(__name__)

__all__ = ["BuiltReport", "build_reports", "pdf_signer_for", "report_settings", "signer_for"]


@dataclass
class BuiltReport:
    """Which files the build wrote, and why any is missing."""

    html: Path | None = None
    pdf: Path | None = None
    pdf_signed: bool = False
    sums: list[Path] = field(default_factory=list)  # SHA256SUMS (+ .sig, .pub.pem)
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


def pdf_signer_for(summary: dict[str, Any]) -> PdfSigner:
    """The lab's PDF key and certificate, or the bench's self-signed one (PdfSigningError)."""
    if not pyhanko_available():
        raise PdfSigningError("pyhanko is not installed (pip install 'vgi-bench[report]')")
    settings = report_settings(summary)
    return load_pdf_signer(
        settings.get("pdf_signing_key"),
        settings.get("pdf_certificate"),
        settings.get("pdf_chain"),
        lab=str(settings.get("lab") or ""),
    )


def build_reports(summary: dict[str, Any], out_dir: Path, *, pdf: bool = True) -> BuiltReport:
    """Write report.html and report.pdf into ``out_dir``, sign the PDF, then write
    SHA256SUMS and sign every file there."""
    out_dir = Path(out_dir)
    built = BuiltReport()
    signer: Signer | None = None
    try:
        signer = signer_for(summary)
    except SignatureError as exc:
        built.problems.append(f"report.sig not written: {exc}")
    pdf_signer: PdfSigner | None = None
    unsigned_why = ""  # told only if there is a PDF to sign
    if pdf:
        try:
            pdf_signer = pdf_signer_for(summary)
        except PdfSigningError as exc:
            unsigned_why = str(exc)
    signature = signer.describe() if signer else None
    if signature is not None and pdf_signer is not None:
        signature["pdf"] = pdf_signer.describe()
    try:
        built.html = write_report(summary, out_dir, signature=signature)
    except Exception as exc:  # the report must not hide results already on disk
        log.exception("report.html could not be written")
        built.problems.append(f"report.html not written: {exc}")
    if pdf:
        try:
            from vgi_bench.reports.pdf import write_pdf

            built.pdf = write_pdf(summary, out_dir, signature=signature)
        except Exception as exc:  # missing pango/fonts, ... : keep the HTML report
            built.problems.append(f"report.pdf not written ({type(exc).__name__}: {exc})")
    if built.pdf is not None and pdf_signer is not None:
        try:
            sign_pdf(built.pdf, pdf_signer)
            built.pdf_signed = True
        except (PdfSigningError, OSError) as exc:  # the unsigned PDF stays
            unsigned_why = str(exc)
    if built.pdf is not None and not built.pdf_signed:
        built.problems.append(f"report.pdf not signed: {unsigned_why}")
    try:
        built.sums = write_checksums(out_dir, signer)
    except OSError as exc:
        built.problems.append(f"SHA256SUMS not written: {exc.strerror or exc}")
    if signer is not None:
        built.sig = sign_run(out_dir, signer)
    for problem in built.problems:
        log.error("%s", problem)
    return built
