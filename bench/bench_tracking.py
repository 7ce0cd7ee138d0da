"""First-hand measurement (issue 23): the tracking redirect under gunicorn, 1,000,000 postback events
ingested and attributed, and no click lost across a PostgreSQL outage.

All on 127.0.0.1, on the helper's own database (``adflux_h23``, recreated) and Redis db 5:

1. ``redirect``: gunicorn as deployed for tracking (the repository's gunicorn.conf.py with
   deploy/tracker.env: gthread, keep-alive; production settings) serving AdFlux, and in the same run a
   bare Flask app and a bare WSGI callable under the same gunicorn settings answering a 302;
   ``wrk -t2 -c<c> -d<s>s --latency`` alternates bare and AdFlux for ``--rounds`` rounds. Clicks
   stored are counted in the database and compared with the 302s wrk received.
2. ``ingest``: a generator (the ground truth) makes clicks on 40 ad groups and 1,000,000 application
   events (70 % carry a click id, 15 % UTM values only, 15 % nothing, 2 % an unknown job), up to
   30 days late; they go through the postback parser and ``postbacks.ingest`` in batches of 5,000
   (``--ingest-workers N``: N processes side by side, as the endpoint in N server workers).
   Then SQL compares every stored attribution with the truth.
3. ``outage``: AdFlux reaches PostgreSQL through a TCP proxy on 127.0.0.1 (a child process of this
   script); wrk drives clicks; the proxy is stopped for ``--outage`` seconds and started again (the
   shared PostgreSQL server is never touched). Clicks buffer in Redis db 5 and are flushed; rows in
   ``clicks`` must equal the redirects wrk received.

Run: .venv/bin/python bench/bench_tracking.py [redirect] [ingest] [outage] [--events 1000000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/adflux_h23")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def bare_redirect_app() -> Any:
    """A bare Flask app: a 302 from a dict, no database, no middleware (the baseline)."""
    from flask import Flask, redirect

    app = Flask("bare")
    targets = {"bench": "https://empleos.example.co/ofertas/1"}

    @app.get("/r/<code>")
    def bare(code: str) -> Any:
        return redirect(targets[code] + "?afcid=x", 302)

    @app.get("/healthz")
    def health() -> str:
        return "ok"

    return app


def bare_wsgi_app() -> Any:
    """The floor: a plain WSGI callable answering the same 302 (no framework, nothing recorded)."""
    location = "https://empleos.example.co/ofertas/1?afcid=x"

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        start_response("302 FOUND", [("Location", location), ("Content-Length", "0")])
        return [b""]

    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deployed_env(profile: str) -> dict[str, str]:
    """The gunicorn settings a deployed server gets: ``tracker`` reads deploy/tracker.env (as the
    systemd unit and compose do), ``web`` is gunicorn.conf.py's defaults."""
    if profile != "tracker":
        return {}
    lines = (REPO / "deploy" / "tracker.env").read_text("utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def server_env(
    instance: Path, port: int, database_url: str, workers: int | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ADFLUX_", "PROMETHEUS_", "GUNICORN_"))}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY"):
        env.pop(name, None)
    env.update(
        {
            "ADFLUX_ENV": "production",
            "SECRET_KEY": "bench-tracking-secret-key-2b7e1d9a4c",
            "ADFLUX_ENCRYPTION_KEY": "bench-tracking-encryption-passphrase-71c3",
            "ADFLUX_INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "ADFLUX_TRACKING_BUFFER_REDIS_URL": REDIS_URL,
            # wrk is one address: the per-address click limit would stop counting after 120 a minute.
            "ADFLUX_TRACKING_CLICKS_PER_ADDRESS_PER_MINUTE": "0",
            "LOG_FORMAT": "json",
            "LOG_FILE": str(instance / f"adflux-{port}.log"),
            "PROMETHEUS_MULTIPROC_DIR": str(instance / f"prometheus-{port}"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            **(extra or {}),
        }
    )
    if workers:
        env["GUNICORN_WORKERS"] = str(workers)
    return env


class Gunicorn:
    def __init__(
        self,
        instance: Path,
        app: str,
        database_url: str,
        workers: int | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [str(VENV_BIN / "gunicorn"), "-c", str(REPO / "gunicorn.conf.py")]
        if not app.startswith("adflux."):
            command += ["--pythonpath", str(Path(__file__).parent)]
        self.log = (instance / f"gunicorn-{self.port}.log").open("w")
        self.proc = subprocess.Popen(
            [*command, app],
            env=server_env(instance, self.port, database_url, workers, extra),
            cwd=REPO,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        import httpx

        deadline = time.monotonic() + 240  # a loaded machine boots workers slowly
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log.name}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(timeout=40)


def wrk(url: str, *, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "bad": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def fresh_schema() -> Any:
    """An app on the bench database with an empty schema and Redis db 5's click buffer emptied."""
    import redis

    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.settings import Settings

    settings = Settings.from_env(
        {}, database_url=DATABASE_URL, tracking_buffer_redis_url=REDIS_URL, secret_key="bench-tracking-x"
    )
    app = create_app(settings.replace(instance_path=tempfile.mkdtemp(prefix="bench-tracking-")))
    with app.app_context():
        db.drop_all()
        db.create_all()
    redis.Redis.from_url(REDIS_URL).delete("adflux:tracking:clicks")
    return app


def make_link(app: Any) -> str:
    """A job and one tracking link on it (Meta, ad group 7 of campaign 41)."""
    from adflux.extensions import db
    from adflux.models import JobOpening
    from adflux.services.tracking import links

    with app.app_context():
        job = JobOpening(
            external_ref="BENCH-JOB-0",
            title="Analista de datos",
            company="Bench S.A.S.",
            city="Bogotá",
            department="Bogotá D.C.",
            category="tecnologia",
            modality="hibrido",
            education_required="profesional",
            apply_url="https://empleos.example.co/ofertas/1",
        )
        db.session.add(job)
        db.session.commit()
        link = links.create_link(
            campaign_id=41,
            platform="meta",
            ad_group_id=7,
            segment_id=3,
            destination_url=job.apply_url,
            job_reference=job.external_ref,
        )
        return link.code


def count_clicks(app: Any, platform_click_id: str | None = None) -> int:
    """Clicks in the database (only those carrying `platform_click_id`, when given)."""
    from sqlalchemy import func, select

    from adflux.extensions import db
    from adflux.models import Click

    query = select(func.count()).select_from(Click)
    if platform_click_id is not None:
        query = query.where(Click.platform_click_id == platform_click_id)
    with app.app_context():
        return int(db.session.scalar(query) or 0)


def bench_redirect(args: argparse.Namespace, instance: Path) -> dict[str, Any]:
    """The bare Flask 302 and AdFlux, both under the deployed tracker settings, alternated per round."""
    app = fresh_schema()
    code = make_link(app)
    deployed = deployed_env(args.profile)
    started: list[Gunicorn] = []

    def start(app_path: str, extra: dict[str, str] | None = None) -> Gunicorn:
        env = {**deployed, **(extra or {})}
        started.append(Gunicorn(instance, app_path, DATABASE_URL, args.workers, env))
        return started[-1]

    rounds = []
    try:
        servers = {
            "bare": (start("bench_tracking:bare_redirect_app()"), "/r/bench"),
            "bare_wsgi": (start("bench_tracking:bare_wsgi_app()"), "/r/bench"),
            "adflux": (start("adflux.app:create_app()"), f"/r/{code}?fbclid=IwAR0"),
        }
        if args.batch_ms:
            batch_env = {"ADFLUX_TRACKING_CLICK_BATCH_MS": str(args.batch_ms)}
            batched = start("adflux.app:create_app()", batch_env)
            servers["adflux_batched"] = (batched, f"/r/{code}?fbclid=IwAR1")
        print(json.dumps({"servers": {"profile": args.profile, **deployed}, "load": load()}), flush=True)
        for _ in range(2):  # warm all (link cache, connection pools)
            for server, path in servers.values():
                wrk(server.url + path, connections=4, seconds=1)
        time.sleep(2)  # the warm-up's clicks reach the database before the count
        warm = count_clicks(app)
        for n in range(args.rounds):
            row: dict[str, Any] = {"round": n + 1}
            for name, (server, path) in servers.items():
                row[name] = {**wrk(server.url + path, connections=args.connections, seconds=args.seconds)}
                row[name]["load"] = load()
                row[f"ratio_{name}"] = round(row[name]["rate"] / row["bare"]["rate"], 3)
            row["ratio_adflux_to_bare_wsgi"] = round(row["adflux"]["rate"] / row["bare_wsgi"]["rate"], 3)
            rounds.append(row)
            print(json.dumps(row), flush=True)
        time.sleep(3)  # the write-behind flushers run every second
        written = count_clicks(app) - warm
    finally:
        for server in started:
            server.stop()
    names = [name for name in servers if name.startswith("adflux")]
    received = sum(r[name]["requests"] - r[name]["bad"] for r in rounds for name in names)
    return {
        "clicks_in_database": written,
        "302s_received_by_wrk": received,
        "missing": max(0, received - written),
        "answered_after_wrk_stopped": max(0, written - received),
        "load": load(),
    }


def proxy_main(listen: int, target: int) -> None:
    """A TCP proxy 127.0.0.1:listen -> 127.0.0.1:target (run as a child process; killing it = an outage)."""
    import asyncio

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", listen, reuse_address=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def start_proxy(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, __file__, "--proxy", str(port), "5432"])
    for _ in range(50):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return proc
        time.sleep(0.1)
    raise RuntimeError("proxy did not start")


def latency_probe(url: str, stop: Any, out: list[tuple[float, float]]) -> None:
    """One redirect every ~20 ms beside wrk, each timed with when it was sent."""
    import httpx

    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            sent = time.monotonic()
            if client.get(url).status_code == 302:
                out.append((sent, time.monotonic() - sent))
            time.sleep(0.02)


def probe_phases(probed: list[tuple[float, float]], edges: tuple[float, ...]) -> dict[str, Any]:
    """The probe's redirects per phase (before, database down, first 3 s back, after): count, p99, max."""
    phases: dict[str, Any] = {"redirects": len(probed)}
    for name, low, high in zip(("before", "down", "back_3s", "after"), edges, edges[1:], strict=False):
        times = sorted(seconds * 1000 for sent, seconds in probed if low <= sent < high)
        if times:
            phases[name] = {
                "n": len(times),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
                "max_ms": round(times[-1], 1),
            }
    return phases


def bench_outage(args: argparse.Namespace, instance: Path) -> dict[str, Any]:
    import threading

    app = fresh_schema()
    code = make_link(app)
    port = free_port()
    proxy = start_proxy(port)
    proxied = DATABASE_URL.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    server = Gunicorn(instance, "adflux.app:create_app()", proxied, args.workers, deployed_env(args.profile))
    result: dict[str, Any] = {}
    try:
        wrk(server.url + f"/r/{code}", connections=4, seconds=1)  # warm-up clicks carry no gclid
        before = count_clicks(app, "G")
        runner = threading.Thread(
            target=lambda: result.update(wrk(server.url + f"/r/{code}?gclid=G", connections=16, seconds=20))
        )
        stop, probed = threading.Event(), []  # (sent at, seconds): when the slow redirects happen
        probe = threading.Thread(target=latency_probe, args=(server.url + f"/r/{code}?gclid=P", stop, probed))
        start_at = time.monotonic()
        runner.start()
        probe.start()
        time.sleep(5)
        proxy.terminate()
        proxy.wait()
        down_at = time.monotonic()
        time.sleep(args.outage)
        proxy = start_proxy(port)
        up_at = time.monotonic()
        result["outage_seconds"] = round(up_at - down_at, 1)
        runner.join()
        stop.set()
        probe.join()
        time.sleep(2)
        result["probe"] = probe_phases(probed, (start_at, down_at, up_at, up_at + 3, time.monotonic()))
        with app.app_context():
            from adflux.services.tracking import clicks

            result["flushed_after"] = clicks.flush_buffered_clicks()
        result["clicks_written"] = count_clicks(app, "G") - before  # this run's clicks only
        result["probe"]["clicks_written"] = count_clicks(app, "P")
        result["redirects"] = result["requests"] - result["bad"]
        result["lost"] = max(0, result["redirects"] - result["clicks_written"])
        result["load"] = load()
    finally:
        server.stop()
        proxy.terminate()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("parts", nargs="*", default=["redirect", "ingest", "outage"])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="override the deployed worker count")
    parser.add_argument("--profile", default="tracker", choices=("tracker", "web"), help="gunicorn settings")
    parser.add_argument(
        "--batch-ms", type=int, default=0, help="also run a server with ADFLUX_TRACKING_CLICK_BATCH_MS"
    )
    parser.add_argument("--outage", type=float, default=6.0)
    parser.add_argument(
        "--ingest-workers", type=int, default=1, help="processes ingesting the postbacks side by side"
    )
    parser.add_argument("--proxy", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        return proxy_main(*args.proxy)
    sys.path.insert(0, str(REPO / "src"))
    import tracking_ingest  # bench/: the ingest part (generator, ground truth, workers)

    instance = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    results: dict[str, Any] = {"start": load()}
    for part in args.parts:
        results[part] = {
            "redirect": lambda: bench_redirect(args, instance),
            "ingest": lambda: tracking_ingest.bench_ingest(args),
            "outage": lambda: bench_outage(args, instance),
        }[part]()
        print(json.dumps({part: results[part]}, default=str), flush=True)


if __name__ == "__main__":
    main()
