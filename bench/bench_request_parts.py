"""Where one API request's CPU goes, part by part (issue 25 item 4): µs per request, in process.

The Flask test client in production settings (response cache off, JSON access line written to
/dev/null, Prometheus multiprocess files), over bench_http.py's seeded database (kept with
--keep-db). Each part is timed with `time.process_time` around the function that does it
(outermost call only); "rest" is the app's CPU per request minus the parts: Flask, Werkzeug and
flask-smorest plumbing (request and app contexts, URL matching, hooks, the response object).
A bare Flask hello-world in the same process is the yardstick, and `GET /api/v1/me` (an
authenticated answer with no database read) is the fixed cost every API request pays.

    BENCH_HTTP_DATABASE=adflux_bench_http PYTHONPATH=src .venv/bin/python bench/bench_request_parts.py \\
        [--requests 500] [--cache]

`--cache`: the response cache on (the product's default), so the lists that have one answer from
it after the warm-up; the token lookup is then a part of its own.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

DATABASE = os.environ.get("BENCH_HTTP_DATABASE", "adflux_bench_http")
PATHS = {
    "hello-world (bare Flask)": None,
    "/api/v1/me (fixed cost)": "/api/v1/me",
    "jobs": "/api/v1/jobs",
    "campaigns": "/api/v1/campaigns",
    "candidates": "/api/v1/candidates",
    "report": "/api/v1/reports/performance",
}
_spent: dict[str, float] = defaultdict(float)
_depth: dict[str, int] = defaultdict(int)


def _timed(part: str, func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _depth[part]:
            return func(*args, **kwargs)
        _depth[part] += 1
        started = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            _spent[part] += time.process_time() - started
            _depth[part] -= 1

    return wrapper


def _patch(owner: Any, name: str, part: str) -> None:
    setattr(owner, name, _timed(part, getattr(owner, name)))


def _instrument() -> None:
    """Wrap each part's function before the app registers its hooks."""
    import webargs.core
    from flask.json.provider import DefaultJSONProvider

    from adflux.api import auth, reads
    from adflux.monitoring import logs, prometheus
    from adflux.schemas.common import FastDumpSchema
    from adflux.services import campaigns, candidates, data_versions, jobs, reports

    _patch(auth, "_authenticate_api_request", "auth hook (token cache, role)")
    _patch(logs, "_access_log", "JSON access line")
    _patch(prometheus, "_record_request", "Prometheus + alert-window sums")
    _patch(reads, "begin_reads_only", "DB connection checkout (autocommit)")
    _patch(webargs.core.Parser, "parse", "query arguments (webargs)")
    _patch(FastDumpSchema, "dump", "schema dump")
    _patch(data_versions, "read_tokens", "version tokens (response cache)")
    _patch(DefaultJSONProvider, "response", "JSON encoding")
    try:  # the tree's own provider, where it has one (its fallback is counted once: outermost only)
        from adflux.json_answers import OrjsonProvider

        _patch(OrjsonProvider, "response", "JSON encoding")
    except ImportError:
        pass
    for module, name in (
        (jobs, "list_jobs"),
        (candidates, "list_candidates"),
        (campaigns, "list_campaigns"),
        (reports, "performance_report"),
    ):
        _patch(module, name, "service: SQL + rows (client side)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--cache", action="store_true", help="the response cache on (default: off)")
    args = parser.parse_args()
    os.environ.update(
        {
            "ADFLUX_ENV": "production",
            "SECRET_KEY": "bench-request-parts-secret-key-4e1a9c",
            "ADFLUX_ENCRYPTION_KEY": "bench-http-encryption-passphrase-8d2f61c4e9",
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}",
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "ADFLUX_API_RATE_LIMIT_PER_MINUTE": "0",
            "ADFLUX_RESPONSE_CACHE_ENTRIES": "256" if args.cache else "0",
        }
    )
    metrics = Path(f"/tmp/bench-request-parts-{os.getpid()}")
    metrics.mkdir(exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    _instrument()
    from flask import Flask
    from sqlalchemy import select

    from adflux import extensions
    from adflux.app import create_app
    from adflux.models import User
    from adflux.services import auth as auth_service

    app = create_app()
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_adflux", False):
            handler.setStream(sink)  # type: ignore[attr-defined]
    extensions.db.session.remove = _timed("DB session end (teardown)", extensions.db.session.remove)
    with app.app_context():
        admin = extensions.db.session.scalars(select(User).where(User.role == "admin")).first()
        token = auth_service.issue_token(user_id=admin.id, name="bench_parts", expires_in_days=1).secret
        extensions.db.session.commit()
    hello = Flask("hello")
    hello.add_url_rule("/", "hello", lambda: "Hello, World!")
    headers = {"Authorization": f"Bearer {token}"}
    print(f"load average {os.getloadavg()}, {args.requests} requests per row", file=sys.stderr)
    for label, path in PATHS.items():
        client = (hello if path is None else app).test_client()
        for _ in range(50):
            client.get(path or "/", headers=headers)
        _spent.clear()
        started = time.process_time()
        for _ in range(args.requests):
            response = client.get(path or "/", headers=headers)
        total = (time.process_time() - started) / args.requests * 1e6
        assert response.status_code == 200, (path, response.status_code)
        parts = {part: seconds / args.requests * 1e6 for part, seconds in sorted(_spent.items())}
        rest = total - sum(parts.values())
        shown = ", ".join(f"{part} {us:,.0f}" for part, us in parts.items())
        print(f"| {label} | {total:,.0f} | {shown or '—'} | {rest:,.0f} |")
    print(f"load average {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
