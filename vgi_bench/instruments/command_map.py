"""Instrument models as data: one TOML command map per model family
(``vgi_bench/instruments/models``).

A driver class per *kind* (supply, analyzer, relay) reads the map of whichever model the
profile names, so adding a model is a data file, not code — the way cantools reads a
database. The same templates drive the guard that checks every outgoing command
(:mod:`instruments.guard`) and the simulators (:mod:`vgi_bench.instruments.sim`).

Third-party models register through the ``vgi_bench.instruments`` entry-point group
(value: a path to their TOML file), like python-can's interface plugins.
"""

from __future__ import annotations

import functools
import math
import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KINDS = ("supply", "analyzer", "relay")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_INVALID = re.compile(r"^\s*[-+]?(NAN|INF)", re.IGNORECASE)


class ModelError(ValueError):
    """A command map that cannot be used (unknown model, missing command, bad template)."""


@dataclass(frozen=True)
class Setpoint:
    """A settable quantity: how to write and read it back, and which limit bounds it."""

    name: str
    set: str
    get: str | None
    limit: str
    protection: bool = False
    readback: str = "same"  # "negated": the unit reports the value with the other sign


@dataclass(frozen=True)
class CommandMap:
    """One model family's SCPI (or ASCII) dialect."""

    name: str
    kind: str
    title: str
    models: tuple[str, ...]
    idn: str
    source: str
    link: Mapping[str, Any]
    commands: Mapping[str, str]
    setpoints: Mapping[str, Setpoint] = field(default_factory=dict)
    measure: Mapping[str, str] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)
    read_style: str = ""
    notes: tuple[str, ...] = ()

    def command(self, name: str, **fields: Any) -> str:
        """The command ``name`` with its fields filled in; ModelError if the map lacks it."""
        template = self.commands.get(name)
        if template is None:
            raise ModelError(f"{self.name}: no command {name!r}")
        return render(template, fields)

    def has(self, name: str) -> bool:
        return name in self.commands

    def all_templates(self) -> list[str]:
        """Every template the bench may send with this model (for the guard's allow-list)."""
        out = list(self.commands.values()) + list(self.measure.values())
        for sp in self.setpoints.values():
            out.append(sp.set)
            if sp.get:
                out.append(sp.get)
        return out


def render(template: str, fields: Mapping[str, Any]) -> str:
    try:
        return template.format(**fields)
    except (KeyError, ValueError, IndexError) as exc:
        raise ModelError(f"template {template!r}: {exc}") from exc


def template_regex(template: str) -> re.Pattern[str]:
    """A regex matching what ``template`` renders to; the value field is the group ``v``."""
    parts: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if name == "v":
            parts.append(r"(?P<v>[-+]?(?:\d+\.?\d*|\.\d+|nan|inf)(?:[eE][-+]?\d+)?)")
        else:
            parts.append(rf"(?P<{name}>[^\s]+?)")
    return re.compile("".join(parts) + r"\Z", re.IGNORECASE)


def parse_number(reply: str) -> float | None:
    """The first number in an instrument reply (units stripped: ``12.5V``); None for
    NAN/INF, no number, or a non-finite value."""
    if _INVALID.match(reply):
        return None
    found = _NUMBER.search(reply)
    if not found:
        return None
    value = float(found.group())
    return value if math.isfinite(value) else None


def parse_numbers(reply: str) -> list[float | None]:
    """A CSV (or ``;``-separated) reply as numbers; NAN/INF entries as None."""
    return [parse_number(part) for part in re.split(r"[,;]", reply) if part.strip()]


def parse_error(reply: str) -> tuple[int, str]:
    """An error-queue reply (``-222,"Data out of range"``) as (code, text)."""
    code_text, _, text = reply.partition(",")
    try:
        code = int(code_text.strip())
    except ValueError:
        return -1, reply.strip()
    return code, text.strip().strip('"')


# ---------------------------------------------------------------------- registry


def _from_toml(doc: Mapping[str, Any], origin: str) -> CommandMap:
    try:
        model = doc["model"]
        kind = model["kind"]
        if kind not in KINDS:
            raise ModelError(f"{origin}: kind {kind!r} is not one of {KINDS}")
        setpoints = {
            name: Setpoint(name=name, **spec) for name, spec in doc.get("setpoints", {}).items()
        }
        cmap = CommandMap(
            name=model["name"],
            kind=kind,
            title=model["title"],
            models=tuple(model.get("models", ())),
            idn=model.get("idn", ""),
            source=model.get("source", ""),
            link=dict(doc.get("link", {})),
            commands=dict(doc.get("commands", {})),
            setpoints=setpoints,
            measure=dict(doc.get("measure", {})),
            functions=dict(doc.get("functions", {})),
            read_style=model.get("read_style", ""),
            notes=tuple(model.get("notes", ())),
        )
    except (KeyError, TypeError) as exc:
        raise ModelError(f"{origin}: {exc}") from exc
    for template in cmap.all_templates():
        template_regex(template)  # a bad template fails at load, not mid-run
    return cmap


def load_file(path: Path) -> CommandMap:
    return _from_toml(tomllib.loads(path.read_text(encoding="utf-8")), str(path))


@functools.cache
def builtin_models() -> dict[str, CommandMap]:
    folder = resources.files("vgi_bench.instruments").joinpath("models")
    found: dict[str, CommandMap] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            doc = tomllib.loads(entry.read_text(encoding="utf-8"))
            cmap = _from_toml(doc, f"<packaged>/{entry.name}")
            found[cmap.name] = cmap
    return found


def all_models() -> dict[str, CommandMap]:
    """Built-in models plus those registered by entry point (name -> TOML path)."""
    models = dict(builtin_models())
    for ep in metadata.entry_points(group="vgi_bench.instruments"):
        models.setdefault(ep.name, load_file(Path(ep.value)))
    return models


def get_model(name: str, kind: str | None = None) -> CommandMap:
    models = all_models()
    if name not in models:
        raise ModelError(f"unknown instrument model {name!r} (known: {', '.join(sorted(models))})")
    cmap = models[name]
    if kind is not None and cmap.kind != kind:
        raise ModelError(f"model {name!r} is a {cmap.kind}, not a {kind}")
    return cmap
