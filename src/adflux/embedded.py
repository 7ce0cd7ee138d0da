"""Embedded-mode wiring: the platform sandbox running inside this process.

The one module of AdFlux that imports the sandbox (`adflux.sandbox`). The app factory loads it
only when no platform base URL is configured (the embedded default); the `adflux sandbox` and
`adflux demo` commands load it to serve the sandbox or to give the demo a fresh one. Production,
with ADFLUX_PLATFORM_BASE_URL pointing at the real platforms or a sandbox server, never does.
"""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import date
from pathlib import Path

from flask import Flask

from adflux.sandbox.scenario import DEFAULT, load_scenario
from adflux.sandbox.server import SandboxServer, serve_sandbox, start_sandbox_in_thread
from adflux.services.platform_access import EMBEDDED_SANDBOX_KEY
from adflux.settings import current_settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_sandbox: SandboxServer | None = None


STORE_FILE = "sandbox.db"


def init_app(app: Flask) -> None:
    """Let the platform layer find the in-process sandbox (started on first use)."""
    app.extensions[EMBEDDED_SANDBOX_KEY] = in_process_base_url


def store_path() -> Path:
    """The sandbox's own store beside the app's database: every process of this installation (the
    demo, `adflux serve`, each CLI command, inline workers) sees the same platform objects."""
    return Path(current_settings().instance_path) / STORE_FILE


def in_process_sandbox() -> SandboxServer:
    """The sandbox server running in this process, starting it on first use.

    It keeps its state in `store_path()`, shared with every other process of this installation;
    an explicit server set by `set_in_process_sandbox` (tests) wins.
    """
    global _sandbox
    with _lock:
        if _sandbox is None:
            _sandbox = start_sandbox_in_thread(store_path=str(store_path()))
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


def fresh_sandbox(start_date: date) -> SandboxServer | None:
    """The demo's sandbox: this installation's store emptied, its clock set to `start_date`.

    Only for a database the demo has just emptied (the objects in the store belonged to its
    campaigns). None when AdFlux talks to an external sandbox or real platforms: their objects
    and clock are not ours to touch.
    """
    if current_settings().platform_base_url:
        return None
    server = start_sandbox_in_thread(start_date=start_date, store_path=str(store_path()))
    with server.state.transaction():
        server.state.reset()
        server.state.today = start_date
    previous = set_in_process_sandbox(server)
    if previous is not None:
        previous.stop()
    return server


def use_scenario(path: str | None, seed: int = 0) -> str:
    """Simulate the market of the scenario file at ``path`` (None: the default); its name.

    Raises ValueError with a one-line message when the file is unreadable or malformed.
    """
    from adflux.sandbox.simulator import use_market

    scenario = DEFAULT if path is None else load_scenario(path)
    use_market(scenario, seed)
    return scenario.name


def serve(host: str, port: int, *, latency_ms: float = 0, seed: int = 0, store: str | None = None) -> None:
    """Serve the sandbox on `host:port` until interrupted (`adflux sandbox [--store PATH]`)."""
    serve_sandbox(host, port, latency_ms=latency_ms, seed=seed, store_path=store)


def save_store_copy(target: Path) -> Path | None:
    """Copy this installation's sandbox store to `target` (before the demo empties it)."""
    source = store_path()
    if not source.exists():
        return None
    with start_sandbox_in_thread(store_path=str(source)) as server, server.state.transaction():
        shutil.copyfile(source, target)  # inside a transaction: no writer in the middle of it
    return target
