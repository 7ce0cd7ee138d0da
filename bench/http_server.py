"""gunicorn for bench_http: AdFlux (or the bare baseline app) with the repository's gunicorn.conf.py and
production settings on a free loopback port, its CPU and its log's counts; stopped on exit.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from http_data import DATABASE_URL
from http_machine import _children_of, _proc_cpu

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
# Serve AdFlux from another source tree (e.g. an export of an older commit): --served-source.
SERVED_SOURCE: str | None = None


def server_environment(instance: Path, port: int, *, workers: int, threads: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADFLUX_", "PROMETHEUS_", "GUNICORN_"))
        and k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")
    }
    env.update(
        {
            "ADFLUX_ENV": "production",
            "SECRET_KEY": "bench-http-secret-key-5f0c9e7d2b8a4163a9e1",
            "ADFLUX_ENCRYPTION_KEY": "bench-http-encryption-passphrase-8d2f61c4e9",
            "ADFLUX_INSTANCE_PATH": str(instance),
            "DATABASE_URL": DATABASE_URL,
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            # One token drives thousands of requests a second: the per-token limit (on by default,
            # 1,200 a minute) would answer 429 and measure the limiter, not the endpoints.
            "ADFLUX_API_RATE_LIMIT_PER_MINUTE": "0",
            # Our own metrics directory: gunicorn.conf.py empties it on start.
            "PROMETHEUS_MULTIPROC_DIR": str(instance / f"prometheus-{port}"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
    )
    if SERVED_SOURCE:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [SERVED_SOURCE, env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py on a free loopback port; stops on exit."""

    def __init__(
        self,
        instance: Path,
        *,
        name: str,
        worker_class: str,
        workers: int,
        threads: int,
        app: str = "adflux.app:create_app()",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.log_path = instance / f"gunicorn-{name}.log"
        env = server_environment(instance, self.port, workers=workers, threads=threads) | (extra_env or {})
        command = [
            str(VENV_BIN / "gunicorn"),
            "-c",
            str(REPO / "gunicorn.conf.py"),
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
        ]
        if not app.startswith("adflux."):
            command += ["--pythonpath", str(BENCH_DIR)]
        command.append(app)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=self._log, stderr=self._log, start_new_session=True
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 180  # five workers importing the app on a loaded machine
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(
            f"gunicorn {self.name} did not answer /healthz: {self.log_path.read_text()[-2000:]}"
        )

    def cpu_seconds(self) -> float:
        """CPU of the master, its live workers and every worker it has reaped (recycled ones)."""
        pid = self.proc.pid
        return _proc_cpu(pid, children=True) + sum(_proc_cpu(child) for child in _children_of(pid))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def log_counts(self) -> dict[str, int]:
        """Access lines by status class, plus worker timeouts/boots seen in gunicorn's own log."""
        counts = {"access_lines": 0, "status_5xx": 0, "status_4xx": 0, "worker_timeouts": 0, "tracebacks": 0}
        with self.log_path.open(errors="replace") as handle:
            for line in handle:
                if line.startswith("{") and '"adflux.access"' in line:
                    counts["access_lines"] += 1
                    match = re.search(r'"status": (\d+)', line)
                    if match:
                        status = int(match.group(1))
                        counts["status_5xx"] += status >= 500
                        counts["status_4xx"] += 400 <= status < 500
                elif "WORKER TIMEOUT" in line:
                    counts["worker_timeouts"] += 1
                elif "Traceback" in line or '"exc_info"' in line:
                    counts["tracebacks"] += 1
        return counts


@contextlib.contextmanager
def serving(instance: Path, **kwargs: Any) -> Iterator[Gunicorn]:
    server = Gunicorn(instance, **kwargs)
    try:
        yield server
    finally:
        server.stop()
