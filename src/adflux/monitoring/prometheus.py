"""Prometheus metrics: what AdFlux counts as it works, and the `/metrics` endpoint.

Names follow the Prometheus conventions: an `adflux_` prefix, base units in the name
(`_seconds`, `_bytes`, `_pesos`), `_total` on counters (added by the client library).

Two kinds of metric live here:

* **Counted in process** — HTTP requests, Celery tasks, database queries and pool use, process
  CPU and memory, platform API calls (``adflux.platforms.instrumentation``). With several gunicorn
  workers set ``PROMETHEUS_MULTIPROC_DIR`` (see ``gunicorn.conf.py``): every process writes its
  values to files there and `/metrics` adds them up.
* **Read at scrape time** — queue lengths, model quality, campaign spend, token expiry, database
  connections, free disk (``adflux.monitoring.collectors``). These are facts about shared state,
  so whichever worker answers the scrape reads them fresh; nothing is cached per process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

# The platform layer's counters live in the default registry: importing them makes them exist
# (and exported) before the first platform call.
import adflux.platforms.instrumentation  # noqa: F401
from adflux.monitoring import instances, ops_access, request_stats
from adflux.monitoring.collectors import scrape_collectors
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# In multiprocess mode every metric writes to a file in this folder from the moment it is
# defined (below); a worker, beat or CLI process started without the folder would fail on import.
if os.environ.get(MULTIPROC_ENV):
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)
# Load-balancer probes and scrapes: counted in Prometheus, left out of the alert window.
PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
# Route label for requests that matched no route: one series, not one per scanned URL.
UNMATCHED_ROUTE = "<unmatched>"
# Seconds; spans a cached read (ms) to a slow report (10 s), with 2 s (the alert line) a bound.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
TASK_BUCKETS = (0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)
# Process CPU and memory are re-read at most this often (it costs a /proc read).
RESOURCE_SAMPLE_SECONDS = 5.0

# ---- HTTP ------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "adflux_http_requests", "HTTP requests answered, by route template.", ["method", "route", "status"]
)
HTTP_ERRORS = Counter(
    "adflux_http_request_errors",
    "HTTP requests answered with a server error (5xx), by route template.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "adflux_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)

RESPONSE_CACHE_LOOKUPS = Counter(
    "adflux_response_cache_lookups",
    "Cached read endpoints: answers served again (hit), built (miss) or built without a version (bypass).",
    ["endpoint", "outcome"],
)

# ---- Celery ----------------------------------------------------------------------------------
TASKS_STARTED = Counter("adflux_celery_tasks_started", "Celery tasks started.", ["task"])
TASKS_SUCCEEDED = Counter("adflux_celery_tasks_succeeded", "Celery tasks that succeeded.", ["task"])
TASKS_FAILED = Counter("adflux_celery_tasks_failed", "Celery tasks that raised.", ["task"])
TASKS_RETRIED = Counter("adflux_celery_tasks_retried", "Celery tasks that asked to be retried.", ["task"])
TASK_DURATION = Histogram(
    "adflux_celery_task_duration_seconds", "Celery task run time.", ["task"], buckets=TASK_BUCKETS
)

# ---- database --------------------------------------------------------------------------------
DB_QUERY_DURATION = Histogram(
    "adflux_db_query_duration_seconds",
    "SQL statement execution time, by statement kind.",
    ["operation"],
    buckets=QUERY_BUCKETS,
)
DB_POOL_IN_USE = Gauge(
    "adflux_db_pool_connections_in_use",
    "Database connections checked out of the pool (summed over live processes).",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "adflux_db_pool_size",
    "Configured database pool size (summed over live processes).",
    multiprocess_mode="livesum",
)

# ---- process resources (work in multiprocess mode, unlike the client's process_* metrics) ----
PROCESS_CPU = Counter("adflux_process_cpu_seconds", "User and system CPU time spent by AdFlux processes.")
PROCESS_MEMORY = Gauge(
    "adflux_process_resident_memory_bytes",
    "Resident memory of AdFlux processes (summed over live processes).",
    multiprocess_mode="livesum",
)

_OPERATIONS = ("select", "insert", "update", "delete", "begin", "commit", "rollback")


def multiprocess_dir() -> str | None:
    """The multiprocess directory when several processes share metrics, else None."""
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower()) or None


# ---- process resources -----------------------------------------------------------------------


class _ResourceSampler:
    """Feeds the process CPU counter and memory gauge, at most every RESOURCE_SAMPLE_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_sample = 0.0
        self._last_cpu: float | None = None
        self._pid = os.getpid()

    def maybe_sample(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_sample < RESOURCE_SAMPLE_SECONDS:
            return
        with self._lock:
            if os.getpid() != self._pid:  # forked (gunicorn, Celery prefork): start over
                self._pid, self._last_cpu = os.getpid(), None
            self._last_sample = now
            times = os.times()
            cpu = times.user + times.system
            if self._last_cpu is not None and cpu > self._last_cpu:
                PROCESS_CPU.inc(cpu - self._last_cpu)
            elif self._last_cpu is None:
                PROCESS_CPU.inc(cpu)
            self._last_cpu = cpu
            rss = resident_memory_bytes()
            if rss is not None:
                PROCESS_MEMORY.set(rss)


def resident_memory_bytes() -> int | None:
    """This process's resident set size (Linux /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


resources = _ResourceSampler()


# ---- HTTP middleware -------------------------------------------------------------------------


def _route_label() -> str:
    return request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE


# Labelled children by label values: `.labels()` validates and locks on every call, and the set
# of routes × methods × statuses a process sees is small, so each child is looked up once.
_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def _record_request(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    count_answer(
        app, response, request.method, _route_label(), response.status_code, time.perf_counter() - started
    )
    return response


def count_answer(
    app: Flask, response: request_stats.ClosingAnswer, method: str, route: str, status: int, elapsed: float
) -> None:
    """Count one answered request: Prometheus, the alert window's sums, the process's resources
    and heartbeat. Also called by the API's fast paths (api/fast_path), without Flask."""
    _child(HTTP_REQUESTS, method, route, str(status)).inc()
    _child(HTTP_LATENCY, method, route).observe(elapsed)
    if status >= 500:
        _child(HTTP_ERRORS, method, route, str(status)).inc()
    if route not in PROBE_ROUTES:  # probes would dilute the alert window's error rate and latency
        request_stats.record(response, method=method, route=route, status=status, seconds=elapsed, app=app)
    resources.maybe_sample()
    instances.web_heartbeat(response, current_settings(app))


# ---- Celery signals --------------------------------------------------------------------------

_task_started: dict[str, float] = {}


def _task_name(sender: Any = None, task: Any = None) -> str:
    return str(getattr(task or sender, "name", None) or "unknown")


def _on_task_prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    TASKS_STARTED.labels(_task_name(task=task)).inc()
    if task_id:
        _task_started[task_id] = time.perf_counter()


def _on_task_postrun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    started = _task_started.pop(task_id, None) if task_id else None
    if started is not None:
        TASK_DURATION.labels(_task_name(task=task)).observe(time.perf_counter() - started)
    resources.maybe_sample()


def _on_task_success(sender: Any = None, **_: Any) -> None:
    TASKS_SUCCEEDED.labels(_task_name(sender)).inc()


def _on_task_failure(sender: Any = None, **_: Any) -> None:
    TASKS_FAILED.labels(_task_name(sender)).inc()


def _on_task_retry(sender: Any = None, **_: Any) -> None:
    TASKS_RETRIED.labels(_task_name(sender)).inc()


def _on_worker_ready(**_: Any) -> None:
    """Serve a worker's metrics on its own port when configured (workers have no HTTP server)."""
    settings = _process_settings
    if settings is None or not settings.worker_metrics_port:
        return
    from prometheus_client import start_http_server

    registry = CollectorRegistry() if multiprocess_dir() else REGISTRY
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_addr, registry=registry)
    logger.info("worker metrics on %s:%s/metrics", settings.worker_metrics_addr, settings.worker_metrics_port)


def _on_worker_process_shutdown(pid: int | None = None, **_: Any) -> None:
    # A prefork child's live gauges (pool use, memory) must stop counting once it is gone.
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid or os.getpid())


# ---- SQLAlchemy events -----------------------------------------------------------------------


def _before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    conn.info.setdefault("adflux_query_started", []).append(time.perf_counter())


def _after_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    stack = conn.info.get("adflux_query_started")
    if not stack:
        return
    elapsed = time.perf_counter() - stack.pop()
    _child(DB_QUERY_DURATION, statement_operation(statement)).observe(elapsed)


def observe_query(operation: str, seconds: float) -> None:
    """Time one statement run outside SQLAlchemy (the job list's fast path) as its events would."""
    _child(DB_QUERY_DURATION, operation).observe(seconds)


def _on_handle_error(context: Any) -> None:
    conn = context.connection
    stack = conn.info.get("adflux_query_started") if conn is not None else None
    if stack:
        stack.pop()


def statement_operation(statement: str) -> str:
    """The kind of an SQL statement (its first keyword), as a low-cardinality label."""
    head = statement.lstrip()[:12].split(None, 1)
    word = head[0].lower() if head else ""
    if word == "with":  # CTE: the kind comes later; reads are by far the common case
        return "select"
    return word if word in _OPERATIONS else "other"


def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    DB_POOL_IN_USE.inc()


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    DB_POOL_IN_USE.dec()


def _on_engine_connect(conn: Any) -> None:
    pool = conn.engine.pool
    if id(pool) in _pool_sizes:
        return
    size = getattr(pool, "size", None)
    _pool_sizes[id(pool)] = int(size()) if callable(size) else 0
    DB_POOL_SIZE.set(sum(_pool_sizes.values()))


_pool_sizes: dict[int, int] = {}
# The settings of the app this process serves (the worker's metrics port is read from them).
_process_settings: Settings | None = None
_hooks_connected = False
_hooks_lock = threading.Lock()


def connect_hooks() -> None:
    """Connect Celery signal and SQLAlchemy event receivers, once per process.

    SQLAlchemy listeners go on the Engine and Pool classes, not one engine: Flask-SQLAlchemy
    builds engines after this runs, and every engine in the process is AdFlux's anyway.
    """
    global _hooks_connected
    with _hooks_lock:
        if _hooks_connected:
            return
        from celery import signals
        from sqlalchemy import event
        from sqlalchemy.engine import Engine
        from sqlalchemy.pool import Pool

        signals.task_prerun.connect(_on_task_prerun, weak=False)
        signals.task_postrun.connect(_on_task_postrun, weak=False)
        signals.task_success.connect(_on_task_success, weak=False)
        signals.task_failure.connect(_on_task_failure, weak=False)
        signals.task_retry.connect(_on_task_retry, weak=False)
        signals.worker_ready.connect(_on_worker_ready, weak=False)
        signals.worker_process_shutdown.connect(_on_worker_process_shutdown, weak=False)
        event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
        event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
        event.listen(Engine, "handle_error", _on_handle_error)
        event.listen(Pool, "checkout", _on_checkout)
        event.listen(Pool, "checkin", _on_checkin)
        event.listen(Engine, "engine_connect", _on_engine_connect)
        _hooks_connected = True


# ---- the /metrics endpoint -------------------------------------------------------------------


class _Union:
    """Several collectors read as one registry (what `generate_latest` needs)."""

    def __init__(self, sources: Iterable[Any]) -> None:
        self._sources = list(sources)

    def collect(self) -> Iterator[Any]:
        for source in self._sources:
            yield from source.collect()


def scrape_registry(app: Flask) -> _Union:
    """Everything `/metrics` exports for `app`: process-counted metrics plus scrape-time facts."""

    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counted: Collector | CollectorRegistry = registry
    else:
        counted = REGISTRY
    return _Union([counted, *scrape_collectors(app)])


def metrics_view() -> Response:
    """Prometheus text exposition of every AdFlux metric."""
    settings = current_settings()
    refused = ops_access.refusal(settings, settings.metrics_token)
    if refused is not None:
        return refused
    resources.maybe_sample(force=True)
    body = generate_latest(scrape_registry(current_app))
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Count requests, tasks and queries, and serve `/metrics` (unless metrics are turned off)."""
    global _process_settings
    settings = current_settings(app)
    if not settings.metrics_enabled:
        return
    _process_settings = settings
    connect_hooks()
    app.after_request(_record_request)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
