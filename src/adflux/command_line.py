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

And for `adflux train-segments` (in-process, waiting for the result) the candidates' read starts
before the CLI is even imported (`_start_training_read`): the importing takes seconds, and the
thread reading the candidates builds the model's input and fits its feature steps meanwhile. For a
training whose read it starts, glibc keeps what the process frees for its next arrays instead of
handing it back to the kernel to be zeroed again (`malloc_heap`): the process ends with the training.
"""

from __future__ import annotations

import gc
import os
import sys
from datetime import UTC, datetime
from typing import Any

# Collections only every 100,000 new container objects while the CLI starts (CPython's default is
# 700); generations 1 and 2 keep their defaults.
_STARTING_THRESHOLDS = (100_000, 10, 10)
_state: dict[str, Any] = {"defaults": None, "heap_kept": False}


def run() -> None:
    """Entry point of the `adflux` console script."""
    _state["defaults"] = gc.get_threshold()
    gc.set_threshold(*_STARTING_THRESHOLDS)
    try:
        if is_waiting_training(sys.argv[1:]):
            _start_training_read()
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


# The group's options that take a value (`adflux --lang en train-segments`).
_VALUED_OPTIONS = ("--api-url", "--token", "--lang")


def is_waiting_training(args: list[str]) -> bool:
    """Whether these arguments run `train-segments` here and wait for it (no server, no --no-wait).

    A plain reading of the command line, before click parses it: a wrong guess only costs a read
    nobody takes (or a training that reads for itself); `--help` and `--version` read nothing.
    """
    if os.environ.get("ADFLUX_API_URL"):
        return False
    i = 0
    while i < len(args) and args[i].startswith("-"):
        option = args[i].split("=", 1)[0]
        if option == "--api-url" or option in ("--help", "-h", "--version", "--"):
            return False
        i += 2 if option in _VALUED_OPTIONS and "=" not in args[i] else 1
    if i >= len(args) or args[i] != "train-segments":
        return False
    rest = args[i + 1 :]
    rest = rest[: rest.index("--")] if "--" in rest else rest
    return not {"--no-wait", "--help", "-h"} & set(rest)


def _start_training_read() -> bool:
    """Start the candidates' read; if it started, keep freed memory for reuse (`malloc_heap`)."""
    from adflux.malloc_heap import keep_freed_memory, usual_allocator
    from adflux.services.candidate_read import start_for_training
    from adflux.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        settings.validate()
    except SettingsError:  # the CLI meets the same and says what is wrong
        return False
    # Before the read's thread starts (it and its helpers get their arenas as they start).
    _state["heap_kept"] = keep_freed_memory()
    # The training dates ages by the year it starts in (`cli.segments._start_early_read`).
    if start_for_training(settings, reference_year=datetime.now(UTC).year):
        return True
    # A server or worker trains, or the base is streamed in passes: glibc's usual allocator.
    if _state["heap_kept"]:
        _state["heap_kept"] = not usual_allocator()
    return False
