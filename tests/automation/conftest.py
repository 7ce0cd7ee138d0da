"""A simulated portal feed over loopback, and the platform sandbox the loop publishes to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adflux import embedded
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from adflux.simulation.portal_feed import PortalFeedServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(server)
    yield server
    embedded.set_in_process_sandbox(None)
    server.stop()


@pytest.fixture
def portal() -> Iterator[PortalFeedServer]:
    server = PortalFeedServer()
    yield server
    server.stop()
