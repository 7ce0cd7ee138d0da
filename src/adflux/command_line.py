"""The `adflux` console script: the CLI, with Python's cyclic garbage collector kept out of its way.

Starting the CLI imports the whole app (~400,000 long-lived objects: modules, classes, schemas,
the SQLAlchemy mappers) and every full collection walks all of them again: on CPython 3.11 that is
~1,000 collections and ~0.9 s of CPU before a command does anything, and the collections of the
interpreter's own shutdown cost another ~1.2 s (issue 26: `adflux train-segments` at a million
candidates, bench/README.md). So, only in this entry point (never in a process that imports
`adflux.cli` as a library, such as the tests):

- while the CLI starts, the collector runs rarely (a high first threshold, not off: a command that
  never builds the app, such as `adflux sandbox`, still collects);
- once the app is built (`CliContext.app` calls `adflux.cli.after_start`) what exists is frozen —
  moved where no collection looks — and the usual thresholds come back (`settle_after_start`);
- when the command ends, everything is frozen again, so the shutdown does not walk it.
"""

from __future__ import annotations

import gc
from typing import Any

# Collections only every 100,000 new container objects while the CLI starts (CPython's default is
# 700); generations 1 and 2 keep their defaults.
_STARTING_THRESHOLDS = (100_000, 10, 10)
_state: dict[str, Any] = {"defaults": None}


def run() -> None:
    """Entry point of the `adflux` console script."""
    _state["defaults"] = gc.get_threshold()
    gc.set_threshold(*_STARTING_THRESHOLDS)
    try:
        import adflux.cli

        adflux.cli.after_start = settle_after_start
        adflux.cli.main()
    finally:
        gc.freeze()  # the shutdown's collections would only walk what is about to be freed anyway


def settle_after_start() -> None:
    """Freeze what the start-up made and restore the usual thresholds (once; only under `run`)."""
    defaults = _state["defaults"]
    if defaults is None:
        return
    _state["defaults"] = None
    gc.freeze()
    gc.set_threshold(*defaults)
