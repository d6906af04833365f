"""Optional parts of the bench, and the pip extra that installs each.

The core install runs every suite and writes every result file but ``report.pdf`` and
the power-stage plots: WeasyPrint (with the system's pango) and matplotlib are heavy, so
they come with ``pip install 'vgi-bench[report]'``. Code that needs one imports it through
:func:`require`, which turns a missing module into :class:`MissingExtra`: one line that
names the extra to install, for the caller to log before it goes on without that part.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["MissingExtra", "require"]


class MissingExtra(ImportError):
    """An optional module is not installed; ``str(err)`` says which extra installs it."""

    def __init__(self, what: str, module: str, extra: str) -> None:
        super().__init__(
            f"{what} needs {module}: pip install 'vgi-bench[{extra}]'",
            name=module,
        )
        self.what = what
        self.module = module
        self.extra = extra


def require(module: str, *, extra: str, what: str) -> ModuleType:
    """``import module``, or :class:`MissingExtra` naming ``extra`` if it (or a module it
    needs) is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(what, module, extra) from exc
