"""Apps for the seeding tests: in-memory SQLite always, a private PostgreSQL database when asked.

The PostgreSQL tests run when TEST_DATABASE_URL is set. They never touch that database itself:
they create `adflux_seed_test` next to it (same server and credentials), and drop it after.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adflux.app import create_app
from adflux.extensions import db
from adflux.settings import Settings

SEED_TEST_DATABASE = "adflux_seed_test"


def _app(database_url: str, instance: Path) -> Flask:
    settings = Settings.from_env(
        {}, env="testing", database_url=database_url, instance_path=str(instance), secret_key="seed-tests"
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def _sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return _app("sqlite://", tmp_path_factory.mktemp("seed-sqlite"))


@pytest.fixture
def sqlite_app(_sqlite_app: Flask) -> Iterator[Flask]:
    with _sqlite_app.app_context():
        db.create_all()
        yield _sqlite_app
        db.session.remove()
        db.drop_all()


@pytest.fixture(scope="module")
def _pg_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("TEST_DATABASE_URL is required in CI")
        pytest.skip("TEST_DATABASE_URL not set")
    url = make_url(base).set(drivername="postgresql+psycopg")
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SEED_TEST_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {SEED_TEST_DATABASE}")
    database_url = url.set(database=SEED_TEST_DATABASE).render_as_string(hide_password=False)
    app = _app(database_url, tmp_path_factory.mktemp("seed-pg"))
    try:
        with app.app_context():
            db.create_all()
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SEED_TEST_DATABASE} WITH (FORCE)")


@pytest.fixture
def pg_app(_pg_app: Flask) -> Iterator[Flask]:
    with _pg_app.app_context():
        yield _pg_app
        db.session.remove()
        tables = ", ".join(t.name for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
