"""The platform sandbox: a local HTTP emulation of Meta, Google Ads, X, TikTok and Snapchat.

It imports nothing from AdFlux except :mod:`adflux.constants`, so it can be lifted out whole.
Start it with :func:`start_sandbox_in_thread` (tests, demo) or :func:`serve_sandbox` (CLI). By
default it keeps everything in memory; with ``store_path`` it keeps its platform state in a SQLite
file of its own (:mod:`adflux.sandbox.store`) that every sandbox process on that file shares.
"""

from __future__ import annotations

from adflux.sandbox.server import SandboxServer, serve_sandbox, start_sandbox_in_thread
from adflux.sandbox.state import Faults, SandboxState

__all__ = ["Faults", "SandboxServer", "SandboxState", "serve_sandbox", "start_sandbox_in_thread"]
