"""The GB/T 27930 message-set editions the bench ships, by the name a profile uses.

Kept apart from :mod:`vgi_bench.gbt27930.messages` (which pulls in python-can and cantools)
so that :mod:`vgi_bench.profile` can validate ``[gbt27930] edition`` without importing them.
Each value is a data file in ``vgi_bench/gbt27930/data``; see ``MessageTable.edition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Edition name -> packaged message-table file.
EDITIONS: Mapping[str, str] = MappingProxyType(
    {
        "2015": "gbt27930_2015.toml",
        "2023a": "gbt27930_2023a.toml",
        "v2g-draft": "gbt27930_v2g_draft.toml",
    }
)

#: The edition used when a profile names none.
DEFAULT_EDITION = "2015"
