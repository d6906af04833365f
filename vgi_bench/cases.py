"""How a conformance case declares itself and how it fails.

A case is a pytest test marked with :func:`case` (its id, the clause it checks, a title);
its docstring holds the purpose and the numbered expected results. A case fails through
:func:`fail`, whose message always says what was expected and what was seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

MARKER = "vgi_case"


@dataclass(frozen=True)
class CaseInfo:
    """The declarative part of a case: what it is and which clause it traces to."""

    id: str
    clause: str
    title: str


def case(id: str, clause: str, title: str, *, slow: bool = False) -> Callable[[F], F]:
    """Mark a test function as conformance case ``id`` checking ``clause``."""

    def decorate(func: F) -> F:
        func = pytest.mark.vgi_case(id=id, clause=clause, title=title)(func)
        if slow:
            func = pytest.mark.slow(func)
        return func

    return decorate


def case_info(item: pytest.Item) -> CaseInfo | None:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    return CaseInfo(**marker.kwargs)


class CaseFailure(AssertionError):
    """A conformance failure: the DUT did not do what the clause requires."""

    def __init__(self, expected: str, seen: str) -> None:
        self.expected = expected
        self.seen = seen
        super().__init__(f"expected {expected}; saw {seen}")


def fail(expected: str, seen: str) -> NoReturn:
    raise CaseFailure(expected, seen)


def check(condition: bool, expected: str, seen: str) -> None:
    """``fail(expected, seen)`` unless ``condition``."""
    if not condition:
        fail(expected, seen)


def require(value: T | None, expected: str, seen: str) -> T:
    """``value`` when it is there, else ``fail(expected, seen)``: a check that also tells
    the type checker the value is no longer optional."""
    if value is None:
        fail(expected, seen)
    return value


class Measurements(dict):
    """Named figures a case measured; they go to ``results.jsonl`` even when it fails.

    ``clocks`` names the clock of each bus the case's figures were stamped by (the rigs
    note them; ``summary.json`` lists them for the run).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clocks: list[dict[str, Any]] = []

    def record(self, name: str, value: Any) -> Any:
        self[name] = value.as_dict() if hasattr(value, "as_dict") else value
        return value

    def note_clock(self, clock: Any) -> None:
        """Note the clock (``vgi_bench.clocks.Clock``) that stamps a bus the case uses."""
        entry = clock.to_dict() if hasattr(clock, "to_dict") else dict(clock)
        if entry not in self.clocks:
            self.clocks.append(entry)
