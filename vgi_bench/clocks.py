"""Which clock stamped the frames and messages of a run, and how well (``data/clocks.toml``).

Every timing verdict is a difference of two stamps, so its uncertainty is the clock's:
each bus the run used names its clock (adapter hardware, SocketCAN kernel, the host's
software echo, python-can's udp_multicast host stamp, the host's monotonic clock for
OCPP and platform sockets) with its resolution and the expanded uncertainty (k = 2) of
one stamp. The figures are data, each with its source; ``summary.json`` lists the clocks
of the run under ``clocks`` and the report prints them on its cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import tomllib

from vgi_bench.can.bus import EchoMode
from vgi_bench.decision import combine

#: The table for a python-can interface the data file does not name.
DEFAULT_CAN = "default"
SOFTWARE_ECHO = "software_echo"


@dataclass(frozen=True)
class Clock:
    """The clock behind the stamps of one bus (``bus`` "can", "ocpp" or "platform")."""

    bus: str
    stamped_by: str
    resolution_s: float
    uncertainty_s: float  # expanded (k = 2), one stamp
    rate_ppm: float = 0.0  # expanded (k = 2) rate uncertainty
    host_offset_s: float = 0.0  # expanded, between this clock and the host's time.time()
    source: str = ""
    kind: str = "host"  # "hardware" (the adapter's clock), "kernel" or "host"
    interface: str | None = None
    channel: str | None = None

    def difference_uncertainty(self, duration_s: float, *, from_host: bool = False) -> float:
        """Expanded uncertainty (k = 2) of ``t2 - t1`` for two stamps of this clock,
        ``duration_s`` apart: both stamps' uncertainty and the rate term, combined.

        ``from_host``: ``t1`` is the host's ``time.time()`` read by the bench rather than a
        stamp of this clock, so the offset between the two clocks counts instead.
        """
        first = self.host_offset_s if from_host else self.uncertainty_s
        return combine(first, self.uncertainty_s, self.rate_ppm * 1e-6 * abs(duration_s))

    def to_dict(self) -> dict[str, Any]:
        """The entry of ``summary["clocks"]``."""
        entry: dict[str, Any] = {"bus": self.bus}
        if self.bus == "can":
            entry.update(interface=self.interface, channel=self.channel)
        entry.update(
            kind=self.kind,
            stamped_by=self.stamped_by,
            resolution_s=self.resolution_s,
            uncertainty_s=self.uncertainty_s,
            rate_ppm=self.rate_ppm,
        )
        return entry


@cache
def _table() -> dict[str, Any]:
    text = resources.files("vgi_bench").joinpath("data/clocks.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _clock(bus: str, row: dict[str, Any], **where: Any) -> Clock:
    return Clock(
        bus=bus,
        stamped_by=str(row["stamped_by"]),
        resolution_s=float(row["resolution_s"]),
        uncertainty_s=float(row["uncertainty_s"]),
        rate_ppm=float(row.get("rate_ppm", 0.0)),
        host_offset_s=float(row.get("host_offset_s", 0.0)),
        source=str(row.get("source", "")),
        kind=str(row.get("kind", "host")),
        **where,
    )


def can_clock(interface: str, channel: str, echo: EchoMode) -> Clock:
    """The clock of a CAN bus on ``interface``, its own frames coming back by ``echo``.

    When the bench had to echo its own frames in software on an interface that stamps
    with another clock (a driver that refused its echo), the bus carries two clocks: one
    stamp's uncertainty then covers both and the offset between them.
    """
    rows = _table()["can"]
    known = interface in rows and interface not in (DEFAULT_CAN, SOFTWARE_ECHO)
    row = rows[interface] if known else rows[DEFAULT_CAN]
    clock = _clock("can", row, interface=interface, channel=str(channel))
    if echo is not EchoMode.SOFTWARE or not known:
        return clock
    soft = rows[SOFTWARE_ECHO]
    return _clock(
        "can",
        {
            **row,
            "stamped_by": f"{row['stamped_by'].split(';')[0]}; the bench's own frames by the "
            f"{soft['stamped_by']}",
            "uncertainty_s": combine(
                float(row["uncertainty_s"]),
                float(soft["uncertainty_s"]),
                float(row.get("host_offset_s", 0.0)),
            ),
        },
        interface=interface,
        channel=str(channel),
    )


def socket_clock(bus: str) -> Clock:
    """The clock of the OCPP (``"ocpp"``) or platform (``"platform"``) sockets."""
    return _clock(bus, _table()[bus])
