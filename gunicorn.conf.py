"""Gunicorn settings for AdFlux: `gunicorn -c gunicorn.conf.py "adflux.app:create_app()"`.

Metrics with several workers: each worker is its own process with its own counters, so they are
kept in files under PROMETHEUS_MULTIPROC_DIR and `/metrics` (answered by any one worker) adds
them up. That directory must be set *before* Python imports prometheus_client (this file runs
first), is one per server (so two servers on a host never mix or wipe each other's files), holds
no earlier run's files when the server starts (`on_starting`), and forgets a worker's live gauges
when the worker exits (`child_exit`). See docs/TECHNICAL_DOCS.md, "Metrics".
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

# Every knob below can be overridden with the usual GUNICORN_* / command-line options.
# GUNICORN_PROFILE=tracker is the tracking server (deploy/tracker.env, adflux-tracker.service,
# compose's `tracker`): the reverse proxy sends it /r/<code> and the postbacks, the web server the rest.
PROFILE = os.environ.get("GUNICORN_PROFILE", "web")
_TRACKER = PROFILE == "tracker"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
_CPUS = multiprocessing.cpu_count()
workers = int(os.environ.get("GUNICORN_WORKERS", str(_CPUS if _TRACKER else min(2 * _CPUS + 1, 9))))
# Web: sync workers. Every AdFlux request is short (platform calls run in Celery workers, platform
# health answers are cached), and the reverse proxy in front (docs: Deployment) buffers slow
# clients. Measured on 2 vCPUs they beat gthread workers (2 threads) on every endpoint, in
# throughput and in tail latency: job list 1,204 against 960 req/s at c50, campaign list p99 392
# against 1,460 ms (bench/README.md, "HTTP under load"). GUNICORN_THREADS > 1 selects gthread.
# Tracker: gthread, one worker per CPU with 16 threads and keep-alive connections. A known link is
# answered in plain WSGI (api/tracking_fast_path.py) whose only wait is the Redis push of the click;
# threads overlap those waits and share one push (services/tracking/click_push.py), and keep-alive
# spares a TCP handshake per click (bench/README.md, issue 23: the redirect).
threads = int(os.environ.get("GUNICORN_THREADS", "16" if _TRACKER else "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread" if threads > 1 else "sync")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75" if _TRACKER else "5"))
# Recycle workers now and then so a slow leak cannot grow without bound. Not too often: a worker
# boots in ~1.5 s of CPU (imports, create_app), taken from the requests being served. At 5,000
# requests a busy 2-core machine (5 workers, ~1,000 requests/s) rebooted a worker every ~5 s,
# which cost ~0.3 ms of CPU per request and the p99 outliers; at 100,000 it is every few minutes.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
# AdFlux writes its own access line (JSON with request id, route, status, duration, user).
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers on a machine would fight over it, and AdFlux does not use gunicornc.
control_socket_disable = True

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# One folder per server: <ADFLUX_METRICS_DIR or the temp folder>/adflux-prometheus-<master pid>,
# so two servers on one host never add up (or wipe) each other's files. An explicit
# PROMETHEUS_MULTIPROC_DIR is used as is, and refused at start if another live server writes there.
METRICS_BASE = os.environ.get("ADFLUX_METRICS_DIR") or tempfile.gettempdir()
OWN_DIR = str(Path(METRICS_BASE) / f"adflux-prometheus-{os.getpid()}")
os.environ.setdefault(MULTIPROC_ENV, OWN_DIR)
_PID_FILE = re.compile(r"_(\d+)\.db$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def on_starting(server: Any) -> None:
    """Start from a metrics folder holding no earlier run's files (they would be added in).

    Only files of processes that are gone are deleted: a folder another running server writes to
    is refused, never wiped.
    """
    path = Path(os.environ[MULTIPROC_ENV])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    live = set()
    for file in path.glob("*.db"):
        match = _PID_FILE.search(file.name)
        pid = int(match.group(1)) if match else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            live.add(pid)
        else:
            file.unlink(missing_ok=True)
    if live:
        raise RuntimeError(
            f"{MULTIPROC_ENV}={path} is in use by running processes {sorted(live)}: "
            "give each server its own folder (or unset it for one per server)"
        )


def on_exit(server: Any) -> None:
    """Remove this server's own metrics folder (not one the operator chose)."""
    if os.environ.get(MULTIPROC_ENV) == OWN_DIR:
        shutil.rmtree(OWN_DIR, ignore_errors=True)


def child_exit(server: Any, worker: Any) -> None:
    """Drop the exited worker's live gauges (pool use, memory); its counters are kept."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    # The app is loaded: its modules, mappers, schemas and caches live as long as the worker.
    # Freezing them takes ~200,000 objects out of the garbage collector's full collections,
    # each of which paused the request that triggered it for ~100 ms on 2 vCPUs (measured:
    # longest collection 105 ms -> 0.8 ms; the campaign list's p99 in process 42 -> 35 ms).
    import gc

    if os.environ.get("GUNICORN_GC_FREEZE", "1") != "0":  # 0: for comparison runs
        gc.freeze()
