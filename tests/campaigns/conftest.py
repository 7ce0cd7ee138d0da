"""A fresh platform sandbox per test, used by the in-process publishing path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adflux import embedded
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(server)
    yield server
    embedded.set_in_process_sandbox(None)
    server.stop()
