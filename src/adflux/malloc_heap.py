"""glibc's allocator told to keep what a one-shot process frees, for the next array to reuse.

By default glibc serves every allocation above a threshold (128 KiB, rising with use up to
32 MiB) with a mapping of its own and hands it back to the kernel when it is freed, so the next
array of that size is faulted in and zeroed by the kernel again (NumPy asks for huge pages on
arrays of 4 MiB and more: 2 MiB zeroed at each fault). `adflux train-segments` at a million
candidates peaks at ~1.2 GB but allocates and frees arrays several times that size over its run:
the kernel's page zeroing was ~14 % of the process's CPU samples (perf: `clear_page_erms` under
`do_huge_pmd_anonymous_page`) and its system time 2.5-3.3 s a run. With every allocation served
from the heap (no mappings of their own), nothing trimmed and two arenas, freed arrays are reused:
~950 -> ~430 huge-page faults a run, system time 1.8-2.5 s, the same peak (bench/README.md,
thirteenth session).

Only for a process that ends when its one job is done (`adflux.command_line`): the memory goes
back to the system at exit, not before. Elsewhere (musl, macOS) nothing changes.
"""

from __future__ import annotations

import ctypes
import sys

# mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
# mallopt takes an int: free memory at the top of the heap is kept up to ~2 GiB.
KEEP_UP_TO = 2**31 - 1
ARENAS = 2
# glibc's documented defaults: 65,536 mappings, trimmed above 128 KiB, 0 = arenas by core count.
USUAL = {M_MMAP_MAX: 65_536, M_TRIM_THRESHOLD: 128 * 1024, M_ARENA_MAX: 0}


def keep_freed_memory() -> bool:
    """Serve every allocation from glibc's heap and keep what is freed; True when glibc took it."""
    return _set({M_MMAP_MAX: 0, M_TRIM_THRESHOLD: KEEP_UP_TO, M_ARENA_MAX: ARENAS})


def usual_allocator() -> bool:
    """Back to glibc's defaults (its threshold for a mapping of its own no longer adapts)."""
    return _set(USUAL)


def _set(values: dict[int, int]) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library with mallopt in this process
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    taken = [mallopt(parameter, value) for parameter, value in values.items()]
    return all(result == 1 for result in taken)
