"""Shared fixtures: one app per test session, a clean database for every test.

Tests run on a SQLite file by default and on PostgreSQL when TEST_DATABASE_URL is set (CI sets
it). With CI=true a service that is not there fails the run instead of skipping tests.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.test import run_wsgi_app

from adflux.app import create_app
from adflux.cli import CliContext
from adflux.extensions import db
from adflux.monitoring import logs
from adflux.settings import Settings

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ADMIN_DATABASE_URL = os.environ.get(
    "TEST_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def require_service(name: str, reason: str) -> None:
    """Skip when a service is missing locally; in CI a missing service is a failure."""
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    database_url = TEST_DATABASE_URL or f"sqlite:///{instance / 'test.db'}"
    return Settings.from_env(
        {},
        env="testing",
        database_url=database_url,
        instance_path=str(instance),
        secret_key="test-secret-key",
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _session_celery(request: pytest.FixtureRequest) -> None:
    """Tasks run on the session app's (eager) Celery even if an earlier test built another app."""
    if "app" in request.fixturenames:
        # create_app makes its Celery the current and default one; shared tasks follow that.
        celery_app = request.getfixturevalue("app").extensions["celery"]
        celery_app.set_current()
        celery_app.set_default()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Every test starts with empty sign-in and API counters (the in-process store is global)."""
    from adflux.services import rate_limits

    rate_limits.forget_stores()
    yield
    rate_limits.forget_stores()


_VERSION_PARTITIONS = (
    "SELECT c.relname FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid"
    " WHERE i.inhparent = to_regclass('candidate_segments') AND c.relname LIKE 'candidate\\_segments\\_m%'"
)


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" not in request.fixturenames:
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
                # Versions' own partitions outlive TRUNCATE: empty, they would take the rows of
                # the next test's model of the same (restarted) id.
                for name in conn.scalars(text(_VERSION_PARTITIONS)).all():
                    conn.execute(text(f'DROP TABLE "{name}"'))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))


def _recorded_statements(touching: str | None) -> Iterator[list[str]]:
    """Every SQL statement SQLAlchemy runs on the test's thread while the test runs (only those
    naming `touching`). Not other threads': an earlier test's click flusher (`tracking.clicks`)
    keeps asking `SELECT 1` every second for the rest of the session, and a count that caught a
    tick was off by one."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen: list[str] = []
    thread = threading.get_ident()

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if threading.get_ident() == thread and (touching is None or touching in statement):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


@pytest.fixture
def job_statements() -> Iterator[list[str]]:
    """The SQL statements that touch job_openings while the test runs."""
    yield from _recorded_statements("job_openings")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement run through SQLAlchemy while the test runs (a raw libpq read is not)."""
    yield from _recorded_statements(None)


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()


def issue_test_token(app: Flask, role: str = "admin", *, email: str | None = None) -> tuple[int, str]:
    """Create a user with `role` and a real API token for it; returns (user id, token)."""
    from adflux.models import ApiToken, User
    from adflux.services.auth import hash_token

    # Straight to the models, not through the services: fixture users should not add audit
    # events that tests counting the audit trail would see.
    # Random, not a counter: tests may import this module a second time (a second counter).
    prefix = secrets.token_hex(4)
    token = f"adf_{prefix}_{secrets.token_urlsafe(24)}"
    with app.app_context():
        user = User(email=email or f"{role}-{prefix}@tests.adflux.local", name=f"Test {role}", role=role)
        db.session.add(user)
        db.session.flush()
        db.session.add(ApiToken(user_id=user.id, name="tests", prefix=prefix, token_hash=hash_token(token)))
        db.session.commit()
        user_id = user.id
        db.session.remove()
    return user_id, token


class _RouteClient(FlaskClient):
    """A test client of the Flask app alone, past the API's WSGI fast paths."""

    def run_wsgi_app(self, environ: dict[str, Any], buffered: bool = False) -> Any:
        from adflux.api.fast_path import EXTENSION

        return run_wsgi_app(self.application.extensions[EXTENSION].inner, environ, buffered=buffered)


@contextmanager
def captured_access_lines() -> Iterator[list[dict[str, Any]]]:
    """The JSON access lines (`adflux.access`, as the JSON formatter writes them) logged in the block."""
    capture = logging.Handler()
    lines: list[dict[str, Any]] = []
    formatter = logs.JsonFormatter()
    capture.emit = lambda record: lines.append(json.loads(formatter.format(record)))  # type: ignore[method-assign]
    logs.install_filters(capture)
    access = logging.getLogger("adflux.access")
    access.addHandler(capture)
    access.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        access.removeHandler(capture)
        access.setLevel(logging.NOTSET)


def route_client(app: Flask, client: FlaskClient | None = None) -> FlaskClient:
    """A client whose requests skip the API's WSGI fast paths (api/fast_path: the job list, the
    cached lists' hits): what the Flask route answers. It sends what `client` sends with every
    request (its token)."""
    route = _RouteClient(app, app.response_class)
    if client is not None:
        route.environ_base.update(client.environ_base)
    return route


@pytest.fixture
def client_as(app: Flask) -> Callable[..., FlaskClient]:
    """`client_as("viewer")`: a test client calling the API with a token of a new user with that role."""

    def make(role: str = "admin", *, email: str | None = None) -> FlaskClient:
        _, token = issue_test_token(app, role, email=email)
        test_client = app.test_client()
        test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return test_client

    return make


@pytest.fixture
def client(client_as: Callable[..., FlaskClient]) -> FlaskClient:
    """A test client authenticated as an admin (tables are emptied after each test, so per test)."""
    return client_as("admin")


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    """A test client that sends no credentials."""
    return app.test_client()


@pytest.fixture
def cli(app: Flask, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Invoke `adflux ...` in-process against the test app; returns the click Result."""
    from adflux.cli import main, output

    # Wide tables so assertions do not depend on rich's wrapping at 80 columns.
    monkeypatch.setattr(output.console, "width", 200)

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        context = CliContext(api_url=None, token=None, as_json=False, _app=app)
        return runner.invoke(main, list(args), obj=context, input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("ADFLUX_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
