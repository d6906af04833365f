"""A background sampler of the power analyzer (and the supply, which keeps its comm
watchdog fed), so a case can run the CAN session and read the power stage afterwards.

Samples carry host ``time.time()`` stamps: on the virtual and socketcan buses the CAN
timestamps are on the same clock, so a BCL and the current it caused line up. Every
sample is kept (and written as CSV raw data with the run), nothing is thrown away.
"""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vgi_bench.instruments.analyzer import PowerAnalyzer
from vgi_bench.instruments.supply import DcSupply

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    time: float
    values: dict[str, float | None]

    def get(self, key: str) -> float | None:
        return self.values.get(key)


class PowerSampler:
    """Reads the analyzer every ``period_s`` in its own thread until stopped."""

    def __init__(
        self, analyzer: PowerAnalyzer, supply: DcSupply | None = None, period_s: float = 0.05,
        supply_every: int = 10,
    ) -> None:  # fmt: skip
        self.analyzer = analyzer
        self.supply = supply
        self.period_s = period_s
        self.supply_every = supply_every
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="power-sampler", daemon=True)

    def start(self) -> PowerSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        count = 0
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                reading = self.analyzer.read()
                values = dict(reading.values)
                if self.supply is not None and count % self.supply_every == 0:
                    supply = self.supply.measure()
                    values["supply_voltage"] = supply.voltage
                    values["supply_current"] = supply.current
                with self._lock:
                    self.samples.append(Sample(reading.time, values))
            except Exception as exc:  # a lost reading is logged, the run goes on
                self.errors.append(str(exc))
                log.warning("power sampler: %s", exc)
            count += 1
            next_t += self.period_s
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def window(self, since: float, until: float | None = None) -> list[Sample]:
        with self._lock:
            return [
                s for s in self.samples if s.time >= since and (until is None or s.time <= until)
            ]

    def wait_until(
        self, predicate: Callable[[Sample], bool], since: float, timeout: float
    ) -> Sample | None:
        """The first sample after ``since`` for which ``predicate`` holds (waits)."""
        deadline = time.monotonic() + timeout
        while True:
            for sample in self.window(since):
                if predicate(sample):
                    return sample
            if time.monotonic() >= deadline:
                return None
            time.sleep(self.period_s)

    def write_csv(self, path: Path, keys: Sequence[str] | None = None) -> Path:
        with self._lock:
            samples = list(self.samples)
        keys = list(keys or sorted({k for s in samples for k in s.values}))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["time", *keys])
            for s in samples:
                writer.writerow(
                    [f"{s.time:.6f}", *("" if s.get(k) is None else s.get(k) for k in keys)]
                )
        return path
