"""Deferred imports for heavy optional-at-startup libraries (scikit-learn, pandas, pyarrow)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """A stand-in for a module that is imported on first attribute access.

    Unlike `importlib.util.LazyLoader`, it goes through the normal (thread-safe) import machinery
    every time, so a module first touched by two threads at once is still imported exactly once.
    """

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """Return `name` as a module imported on first use (typed as Any for the call sites)."""
    return LazyModule(name)
