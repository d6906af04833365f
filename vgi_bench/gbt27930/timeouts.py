"""The timeouts of GB/T 27930-2015 (both sides) and the bench's tolerance on them, as data."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class Timeout:
    """One timer: who watches it, for what, from when, how long, and how it is reported."""

    name: str
    waits_for: str
    after: str
    limit_s: float
    watcher: str  # "charger" | "bms"
    report: str  # "CEM" | "BEM"
    signal: str  # the report's field set to 01
    spn: int


@dataclass(frozen=True)
class Tolerance:
    early_s: float
    late_s: float
    period_rel: float


@dataclass(frozen=True)
class TimingTable:
    timeouts: dict[str, Timeout]
    tolerance: Tolerance

    def __getitem__(self, name: str) -> Timeout:
        return self.timeouts[name]


@functools.cache
def timing_2015() -> TimingTable:
    """The packaged table (``data/timeouts_2015.toml``)."""
    text = resources.files("vgi_bench.gbt27930").joinpath("data/timeouts_2015.toml").read_text()
    doc = tomllib.loads(text)
    timeouts = {t["name"]: Timeout(**t) for t in doc["timeout"]}
    return TimingTable(timeouts, Tolerance(**doc["tolerance"]))
