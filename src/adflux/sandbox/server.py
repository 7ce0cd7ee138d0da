"""The sandbox HTTP server: a ThreadingHTTPServer dispatching to the five platform emulations."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adflux.constants import PLATFORMS
from adflux.sandbox.api import PlatformApi
from adflux.sandbox.control import Control
from adflux.sandbox.google import GoogleApi
from adflux.sandbox.http import ApiError, Request, Response, json_response
from adflux.sandbox.meta import MetaApi
from adflux.sandbox.oauth_server import OAuthServer
from adflux.sandbox.snapchat_updates import SnapchatUpdates
from adflux.sandbox.state import SandboxState
from adflux.sandbox.store import StoreBusy
from adflux.sandbox.tiktok import TikTokApi
from adflux.sandbox.x import XApi

logger = logging.getLogger(__name__)


class SandboxApp:
    """Routes a request to the control endpoints, a report file, or a platform emulation."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.control = Control(state)
        self.oauth = OAuthServer()
        # Order matters: TikTok and Snap paths are checked before Meta's and Google's patterns.
        self.apis: list[PlatformApi] = [
            TikTokApi(state),
            SnapchatUpdates(state),
            GoogleApi(state),
            XApi(state),
            MetaApi(state),
        ]

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except StoreBusy:  # platform calls answer in their own shape; this is control or a file
            return json_response({"error": "the sandbox store is busy, retry"}, 503)

    def _route(self, request: Request) -> Response:
        if request.path.startswith("/__sandbox/"):
            return self.control.handle(request)
        if request.path.startswith("/__files/"):
            data = self.state.file(request.path.removeprefix("/__files/"))
            if data is None:
                return json_response({"error": "no such file"}, 404)
            kind = "application/gzip" if request.path.endswith(".gz") else "text/csv"
            return Response(200, data, {"Content-Type": kind})
        if self.oauth.matches(request.path):
            return self.oauth.handle(request)
        for api in self.apis:
            if api.matches(request.path):
                return self._platform(api, request)
        return json_response({"error": f"no emulated API at {request.path}"}, 404)

    def _platform(self, api: PlatformApi, request: Request) -> Response:
        state = self.state
        platform = api.platform
        faults = state.faults[platform]
        with state.lock:
            state.requests[platform] += 1
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        try:
            self._inject(api, request)
            api.authenticate(request)
            wait = state.throttle_wait(platform, api.rate_key(request))
            if wait > 0:
                raise api.throttle_error(wait, request)
            with state.transaction():
                response = api.decorate(api.dispatch(request), request)
                if self._should_drop(platform, request, response):
                    response.drop = True
            return response
        except StoreBusy:
            # Another process kept the store past the busy timeout: a platform's transient 5xx.
            logger.warning(
                "sandbox store busy; answering %s %s with a transient error", request.method, request.path
            )
            return api.render_error(api.transient_error(), request)
        except ApiError as error:
            if error.kind == "throttle":
                with state.lock:
                    state.throttled[platform] += 1
            return api.render_error(error, request)

    def _inject(self, api: PlatformApi, request: Request) -> None:
        faults = self.state.faults[api.platform]
        with self.state.lock:
            if faults.throttle_next > 0:
                faults.throttle_next -= 1
                raise api.throttle_error(faults.throttle_retry_after, request)
            if faults.error_next > 0:
                faults.error_next -= 1
                self.state.injected_errors[api.platform] += 1
                raise api.transient_error()
            if faults.error_rate and self.state.rng.random() < faults.error_rate:
                self.state.injected_errors[api.platform] += 1
                raise api.transient_error()

    def _should_drop(self, platform: str, request: Request, response: Response) -> bool:
        faults = self.state.faults[platform]
        if request.method == "GET" or response.status >= 400:
            return False
        if faults.drop_after_commit <= 0 and not faults.drop_rate:
            return False
        if faults.drop_match and faults.drop_match not in request.path + "?" + str(request.body[:2000]):
            return False
        if faults.drop_after_commit > 0:
            faults.drop_after_commit -= 1
        elif self.state.rng.random() >= faults.drop_rate:
            return False
        self.state.dropped[platform] += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections like with real APIs
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle + delayed ACK add ~40 ms to every keep-alive exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or self.server.host_port
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            host_url=f"http://{host}",
            raw_query=split.query,
        )
        try:
            response = self.server.app.handle(request)
        except Exception:  # a bug in an emulation must not kill the server thread
            logger.exception("sandbox handler failed for %s %s", self.command, self.path)
            response = json_response({"error": "sandbox internal error"}, 500)
        if response.drop:
            # The platform did the work; the client never hears about it.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()  # headers and body leave in one write below
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("sandbox %s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    @property
    def host_port(self) -> str:
        """``host:port`` as bound (bind() stores getsockname(), whose host is text for IP sockets)."""
        host, port = self.server_address[:2]
        if isinstance(host, bytes | bytearray):
            host = host.decode()
        return f"{host}:{port}"


class SandboxServer:
    """A running sandbox: ``base_url`` for adapters, ``state`` and helpers for tests and demos.

    ``store_path`` is the sandbox's own SQLite file, shared with every other sandbox process on it:
    objects, simulator units, clock, ids and reports survive restarts. None keeps all in memory.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0,
        start_date: date | None = None,
        seed: int = 0,
        rate_limits: dict[str, tuple[float, float]] | None = None,
        store_path: str | None = None,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            logger.warning("sandbox bound to %s: it has no real authentication, keep it on loopback", host)
        self.state = SandboxState(start_date=start_date, seed=seed, store_path=store_path)
        for platform in PLATFORMS:
            self.state.faults[platform].latency_ms = latency_ms
        for platform, limit in (rate_limits or {}).items():
            self.state.rate_limits[platform] = limit
        self.app = SandboxApp(self.state)
        self._server = _Server((host, port), self.app)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._server.host_port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="adflux-sandbox", daemon=True)
        self._thread.start()
        logger.info("platform sandbox listening on %s", self.base_url)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted."""
        logger.info("platform sandbox listening on %s", self.base_url)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self.state.close()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.state.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- in-process conveniences (the same knobs as /__sandbox/) -----------------------------

    def advance_days(self, days: int) -> date:
        """Move the simulated clock forward."""
        return self.state.advance(days)

    def set_faults(self, platform: str, **knobs: Any) -> None:
        """Set fault knobs (see :class:`adflux.sandbox.state.Faults`) for one platform."""
        with self.state.lock:
            for key, value in knobs.items():
                if not hasattr(self.state.faults[platform], key):
                    raise ValueError(f"unknown fault knob {key!r}")
                setattr(self.state.faults[platform], key, value)

    def set_rate_limit(self, platform: str, per_second: float | None, burst: float | None = None) -> None:
        """Throttle a platform above ``per_second`` calls (per account or token)."""
        with self.state.lock:
            self.state.rate_limits[platform] = (per_second, burst or per_second) if per_second else None

    def expire_tokens(self, platform: str, token: str | None = None) -> None:
        """Make one token (or every token) of a platform expired."""
        with self.state.lock:
            if token:
                self.state.expired_tokens[platform].add(token)
            else:
                self.state.expire_all[platform] = True

    def object_counts(self, platform: str) -> dict[str, int]:
        """How many objects of each kind exist on a platform."""
        return self.state.counts(platform)

    def spend_ledger(self, platform: str | None = None) -> dict[str, dict[str, dict[str, Any]]]:
        """Platform -> campaign id -> what the simulator delivered up to today (``GET /__sandbox/ledger``).

        ``spend_micros`` is exact; ``spend`` is pesos. Platforms that report spend rounded per day
        (Meta, TikTok: 2 decimals) can differ from it by half a centavo per day and ad group.
        """
        return self.app.control.ledger(list(PLATFORMS) if platform is None else [platform])


def start_sandbox_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency_ms: float = 0,
    start_date: date | None = None,
    seed: int = 0,
    rate_limits: dict[str, tuple[float, float]] | None = None,
    store_path: str | None = None,
) -> SandboxServer:
    """Start a sandbox in a background thread (port 0 = any free port); call ``.stop()`` after.

    ``store_path``: share state through that SQLite file (see :class:`SandboxServer`); None = memory.
    """
    return SandboxServer(
        host,
        port,
        latency_ms=latency_ms,
        start_date=start_date,
        seed=seed,
        rate_limits=rate_limits,
        store_path=store_path,
    ).start()


def serve_sandbox(
    host: str,
    port: int,
    *,
    latency_ms: float = 0,
    start_date: date | None = None,
    seed: int = 0,
    rate_limits: dict[str, tuple[float, float]] | None = None,
    store_path: str | None = None,
) -> None:
    """Run the sandbox in the foreground until interrupted (``adflux sandbox [--store PATH]``)."""
    server = SandboxServer(
        host,
        port,
        latency_ms=latency_ms,
        start_date=start_date,
        seed=seed,
        rate_limits=rate_limits,
        store_path=store_path,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logger.info("sandbox stopped")
