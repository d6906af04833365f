"""PNG plots of a power case for the report: measured current against the BMS's demand
and the charger's own CCS report, and voltage/power, over the case's time.

matplotlib comes with the ``report`` extra: without it :func:`plot_session` raises
:class:`vgi_bench.extras.MissingExtra` and the rig keeps the samples (CSV) without a plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vgi_bench.extras import require
from vgi_bench.power.sampler import Sample


def _pyplot() -> Any:
    matplotlib = require("matplotlib", extra="report", what="a power-stage plot")
    matplotlib.use("Agg")  # no display on a bench PC or in CI
    return require("matplotlib.pyplot", extra="report", what="a power-stage plot")


def plot_session(
    path: Path,
    title: str,
    samples: Sequence[Sample],
    demand: Sequence[tuple[float, float]] = (),
    reported: Sequence[tuple[float, float]] = (),
    t0: float | None = None,
    marks: Sequence[tuple[float, str]] = (),
) -> Path:
    """Current (measured, demanded, reported) above voltage and power, against time."""
    plt = _pyplot()
    if t0 is None:
        t0 = samples[0].time if samples else 0.0
    t = [s.time - t0 for s in samples]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, dpi=110)
    top.plot(t, [s.get("current@1") for s in samples], label="measured I (analyzer)", lw=1.2)
    if demand:
        xs, ys = zip(*[(x - t0, y) for x, y in demand], strict=True)
        top.step(xs, ys, where="post", label="demand (BCL)", lw=1.0, ls="--")
    if reported:
        xs, ys = zip(*[(x - t0, y) for x, y in reported], strict=True)
        top.plot(xs, ys, label="reported (CCS)", lw=0.8, alpha=0.7)
    top.set_ylabel("current (A, + into battery)")
    top.grid(alpha=0.3)
    top.legend(loc="best", fontsize=8)
    bottom.plot(t, [s.get("voltage@1") for s in samples], label="U DC (V)", lw=1.0)
    power = bottom.twinx()
    power.plot(t, [(s.get("power@1") or 0) / 1000 for s in samples], color="tab:red", lw=0.8,
               label="P DC (kW)")  # fmt: skip
    bottom.set_ylabel("voltage (V)")
    power.set_ylabel("power (kW)")
    bottom.set_xlabel("time (s)")
    bottom.grid(alpha=0.3)
    for x, label in marks:
        for ax in (top, bottom):
            ax.axvline(x - t0, color="grey", lw=0.8, ls=":")
        top.annotate(label, (x - t0, top.get_ylim()[1]), fontsize=7, va="top", rotation=90)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
