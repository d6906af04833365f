"""Which bench this is: the installed package's version, and the git commit when the
code runs from a checkout of the repository (``make install``'s editable install).

The commit is asked of git only when the directory above the package is itself a
checkout root (it holds ``.git``): an installed wheel has none, and a virtual
environment inside some other repository must not report that repository's commit.
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

DIST_NAME = "vgi-bench"
UNKNOWN = "unknown"


def package_version() -> str:
    """The version in the installed package's metadata (pyproject.toml's ``version``)."""
    try:
        return metadata.version(DIST_NAME)
    except metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
        return "0+unknown"


def checkout_commit(root: Path | None = None) -> str | None:
    """``git describe --always --dirty --tags`` of the checkout the package runs from,
    or None when it does not run from one (or git is missing)."""
    root = root or Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():  # a directory in a checkout, a file in a worktree
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def describe() -> str:
    """``vgi-bench 0.1.0`` and, from a checkout, `` (git cf94923-dirty)``."""
    commit = checkout_commit()
    return f"{DIST_NAME} {package_version()}" + (f" (git {commit})" if commit else "")
