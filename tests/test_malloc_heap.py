"""`malloc_heap.keep_freed_memory`: after it, glibc serves a large allocation from its heap (no
mapping of its own) and keeps it when freed, ready for the next one. Run in a fresh interpreter:
the setting is the whole process's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import ctypes, json
from adflux.malloc_heap import keep_freed_memory, usual_allocator

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
SIZE = 64 << 20

def allocate():
    block = bytearray(SIZE)  # zero-filled: touched, like an array
    return libc.mallinfo2()

seen = {}
during = allocate()
seen["mapped_by_default"] = during.hblkhd
seen["free_kept_by_default"] = libc.mallinfo2().fordblks
seen["taken"] = keep_freed_memory()
during = allocate()
seen["mapped_after"] = during.hblkhd
seen["heap_in_use_after"] = during.uordblks
seen["free_kept_after"] = libc.mallinfo2().fordblks
seen["usual"] = usual_allocator()
libc.malloc_trim(0)  # what the kept heap held goes back; from here glibc maps large blocks again
during = allocate()
seen["mapped_usual"] = during.hblkhd
print(json.dumps(seen))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_freed_large_block_stays_in_the_heap_for_the_next_one() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(done.stdout)
    size = 64 << 20
    # By default a 64 MiB block is a mapping of its own, handed back when freed.
    assert seen["mapped_by_default"] >= size
    assert seen["free_kept_by_default"] < size
    # After: served from the heap, and kept (free, in the heap) once freed.
    assert seen["taken"] is True
    assert seen["mapped_after"] < size
    assert seen["heap_in_use_after"] >= size
    assert seen["free_kept_after"] >= size
    # And back: a large block is a mapping of its own again.
    assert seen["usual"] is True
    assert seen["mapped_usual"] >= size
