"""Information objects as JSON Schema files (one per object), checked with ``jsonschema``.

A suite keeps its schemas as data in a ``schemas/`` folder of its package; ``$ref`` to a
sibling file by name works (``"$ref": "connector_status_info.json"``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


@dataclass(frozen=True)
class SchemaSet:
    """The schemas of one package folder, by file stem."""

    package: str
    folder: str = "schemas"
    _cache: dict[str, Draft202012Validator] = field(default_factory=dict, repr=False)

    @cached_property
    def _documents(self) -> dict[str, Any]:
        root = resources.files(self.package).joinpath(self.folder)
        return {
            entry.name: json.loads(entry.read_text(encoding="utf-8"))
            for entry in root.iterdir()
            if entry.name.endswith(".json")
        }

    def _validator(self, name: str) -> Draft202012Validator:
        if name not in self._cache:
            registry = Registry().with_resources(
                (file, Resource.from_contents(doc)) for file, doc in self._documents.items()
            )
            schema = self._documents[f"{name}.json"]
            self._cache[name] = Draft202012Validator(schema, registry=registry)
        return self._cache[name]

    def errors(self, name: str, data: Any) -> list[str]:
        """Every violation of schema ``name`` by ``data``, as ``path: reason`` lines."""
        found = sorted(self._validator(name).iter_errors(data), key=lambda e: list(e.path))
        return [f"{'/'.join(str(p) for p in e.path) or '(top)'}: {e.message}" for e in found]
