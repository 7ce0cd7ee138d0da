"""Fixtures for the sandbox tests: one loopback server, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from adflux.sandbox import SandboxServer, start_sandbox_in_thread
from sandbox_oauth import obtain

SANDBOX_START = date(2025, 3, 3)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread(start_date=SANDBOX_START)
    obtain(server.base_url)  # tokens from the sandbox's own token endpoints (it refuses any other)
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.state.reset()
    sandbox_server.state.today = SANDBOX_START
    sandbox_server.state.report_polls = 1
    return sandbox_server


@pytest.fixture
def http(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=5) as client:
        yield client


@pytest.fixture(scope="session", autouse=True)
def issued_tokens(sandbox_server: SandboxServer) -> dict[str, str]:
    """Every sandbox test may use the issued tokens, also those that start sandboxes of their own."""
    return obtain(sandbox_server.base_url)
