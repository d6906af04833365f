"""``report.pdf``: the HTML report printed by WeasyPrint, with its print styles.

Why a separate module: WeasyPrint comes with the ``report`` extra (``pip install
'vgi-bench[report]'``) and needs system libraries (pango) and a font that has Chinese
(``make sysdeps`` installs both on Debian). Importing it lazily here keeps the rest of
the bench working where any is missing; ``vgi_bench.reports.build`` then logs the one-line reason
(:class:`vgi_bench.extras.MissingExtra` names the extra) and keeps report.html.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vgi_bench.extras import require
from vgi_bench.reports.html import render_report

__all__ = ["PDF_NAME", "render_pdf", "write_pdf"]

PDF_NAME = "report.pdf"


def render_pdf(
    summary: dict[str, Any],
    *,
    signature: Mapping[str, Any] | None = None,
    base_dir: Path | None = None,
) -> bytes:
    """The PDF bytes of the report of one run's summary."""
    weasyprint = require("weasyprint", extra="report", what="report.pdf")

    for name in ("weasyprint", "fontTools"):  # font subsetting chatter, not our news
        logging.getLogger(name).setLevel(logging.ERROR)
    page = render_report(summary, signature=signature, base_dir=base_dir)
    # base_url: the report loads nothing, and must not resolve anything from the cwd.
    return weasyprint.HTML(string=page, base_url="about:blank").write_pdf()


def write_pdf(
    summary: dict[str, Any], out_dir: Path, *, signature: Mapping[str, Any] | None = None
) -> Path:
    """Write ``out_dir/report.pdf`` atomically and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / PDF_NAME
    partial = path.with_name(f".{PDF_NAME}.tmp")
    partial.write_bytes(render_pdf(summary, signature=signature, base_dir=out_dir))
    os.replace(partial, path)
    return path
