"""Read-only views run without a transaction, and leave no autocommit connection behind."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from adflux.api.response_cache import EXTENSION
from adflux.extensions import db
from adflux.models import JobOpening
from conftest import route_client
from factories import job_data, make_job


@pytest.fixture
def isolation_levels():
    seen: list[tuple[str, str | None]] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append((statement.split()[0].upper(), conn.get_execution_options().get("isolation_level")))

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/campaigns", "/api/v1/reports/performance"])
def test_list_views_read_in_autocommit_mode(app, client, app_ctx, isolation_levels, path):
    make_job()
    client.get(path)  # the token is looked up (and cached) on the first request
    # The job list's answer is cached now (tests/api/test_response_cache.py); build it again.
    app.extensions[EXTENSION].clear()
    isolation_levels.clear()
    # The job list's fast path reads on a connection of its own, in autocommit too
    # (tests/api/test_jobs_fast_path.py); this is about the Flask route.
    assert route_client(app, client).get(path).status_code == 200
    assert isolation_levels and all(level == "AUTOCOMMIT" for _, level in isolation_levels)


def test_connections_go_back_to_the_pool_transactional(client, app):
    for _ in range(5):
        assert client.get("/api/v1/jobs").status_code == 200
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(JobOpening))
        db.session.add(JobOpening(**{**job_data(), "status": "open"}))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(JobOpening)) == before
        db.session.remove()
    # Writes after reads are still atomic requests.
    assert client.post("/api/v1/jobs", json=job_data()).status_code == 201
