"""Embedded-mode wiring: the platform sandbox running inside this process.

The one module of AdFlux that imports the sandbox (`adflux.sandbox`). The app factory loads it
only when no platform base URL is configured (the embedded default); the `adflux sandbox` and
`adflux demo` commands load it to serve the sandbox or to give the demo a fresh one. Production,
with ADFLUX_PLATFORM_BASE_URL pointing at the real platforms or a sandbox server, never does.
"""

from __future__ import annotations

import logging
import threading
from datetime import date

from flask import Flask

from adflux.sandbox.server import SandboxServer, serve_sandbox, start_sandbox_in_thread
from adflux.services.platform_access import EMBEDDED_SANDBOX_KEY
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_sandbox: SandboxServer | None = None


def init_app(app: Flask) -> None:
    """Let the platform layer find the in-process sandbox (started on first use)."""
    app.extensions[EMBEDDED_SANDBOX_KEY] = in_process_base_url


def in_process_sandbox(store_path: str | None = None) -> SandboxServer:
    """The sandbox server running in this process, starting it on first use.

    `store_path` is the sandbox's own SQLite file when this call starts it (ignored once it runs):
    every process on that file shares one set of platform objects, clock and ids. None (the
    default, and what the app uses today) keeps them in this process's memory.
    """
    global _sandbox
    with _lock:
        if _sandbox is None:
            _sandbox = start_sandbox_in_thread(store_path=store_path)
            logger.info("started the in-process platform sandbox at %s", _sandbox.base_url)
        return _sandbox


def in_process_base_url() -> str:
    """Where adapters send their calls on the embedded default."""
    return in_process_sandbox().base_url


def set_in_process_sandbox(server: SandboxServer | None) -> SandboxServer | None:
    """Use `server` as this process's sandbox (tests and the demo pick its options); returns the old one."""
    global _sandbox
    with _lock:
        previous, _sandbox = _sandbox, server
    return previous


def fresh_sandbox(start_date: date, store_path: str | None = None) -> SandboxServer | None:
    """A new in-process sandbox whose clock starts at `start_date`, for the demo.

    None when AdFlux talks to an external sandbox or real platforms: their clock is not ours to move.
    With `store_path`, the sandbox keeps its state in that file (`start_date` only seeds a new one).
    """
    if current_settings().platform_base_url:
        return None
    server = start_sandbox_in_thread(start_date=start_date, store_path=store_path)
    previous = set_in_process_sandbox(server)
    if previous is not None:
        previous.stop()
    return server


def serve(
    host: str, port: int, *, latency_ms: float = 0, seed: int = 0, store_path: str | None = None
) -> None:
    """Serve the sandbox on `host:port` until interrupted (`adflux sandbox [--store PATH]`)."""
    serve_sandbox(host, port, latency_ms=latency_ms, seed=seed, store_path=store_path)
