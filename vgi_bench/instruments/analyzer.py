"""A power analyzer: one driver for every model, through the model's command map.

Two read styles cover the families in ``vgi_bench/instruments/models``: ``items`` (Yokogawa WT:
program numeric items, read them all as CSV) and ``query_list`` (Hioki: name the values
in the query). A reading is keyed ``quantity@element`` (``power@1``), quantities being
the map's ``[functions]`` keys, so a case never sees a vendor's function names.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from vgi_bench.instruments.command_map import CommandMap, parse_numbers
from vgi_bench.instruments.link import InstrumentError, Link


@dataclass(frozen=True)
class Item:
    quantity: str  # a key of the model's [functions]
    element: int

    @property
    def key(self) -> str:
        return f"{self.quantity}@{self.element}"


@dataclass(frozen=True)
class AnalyzerReading:
    values: dict[str, float | None]
    time: float

    def __getitem__(self, key: str) -> float | None:
        return self.values.get(key)


class PowerAnalyzer:
    def __init__(self, link: Link, name: str = "analyzer") -> None:
        self.link = link
        self.cmap: CommandMap = link.cmap
        self.name = name
        self.items: tuple[Item, ...] = ()

    def configure(self, items: Sequence[Item]) -> str:
        """Select what :meth:`read` returns; returns the *IDN? reply."""
        unknown = [i.quantity for i in items if i.quantity not in self.cmap.functions]
        if unknown:
            raise InstrumentError(f"{self.name}: {self.cmap.name} cannot measure {unknown}")
        self.items = tuple(items)
        with self.link.exclusive():
            idn = self.link.query(self.cmap.command("identify"))
            for name in ("remote", "header_off", "ascii"):
                if self.cmap.has(name):
                    self.link.write(self.cmap.command(name))
            if self.cmap.read_style == "items":
                self.link.write(self.cmap.command("item_count", v=len(items)))
                for index, item in enumerate(items, start=1):
                    fn = self.cmap.functions[item.quantity]
                    self.link.write(
                        self.cmap.command("item", index=index, function=fn, element=item.element)
                    )
            self.link.check_errors("configuration")
        return idn

    def read(self) -> AnalyzerReading:
        if self.cmap.read_style == "items":
            reply = self.link.query(self.cmap.command("values"))
        else:
            names = ",".join(f"{self.cmap.functions[i.quantity]}{i.element}" for i in self.items)
            reply = self.link.query(self.cmap.command("measure", items=names))
        numbers = parse_numbers(reply)
        if len(numbers) != len(self.items):
            raise InstrumentError(
                f"{self.name}: {len(numbers)} values for {len(self.items)} items ({reply[:80]!r})"
            )
        return AnalyzerReading(
            {item.key: value for item, value in zip(self.items, numbers, strict=True)},
            time.time(),
        )

    def integration(self, action: str) -> None:
        """``reset``, ``start`` or ``stop`` energy integration (WHP/WHM per direction)."""
        self.link.write(self.cmap.command(f"integ_{action}"))
