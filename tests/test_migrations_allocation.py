"""Migration 0025 (allocation settings and log, forecast versions) goes up and down on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.services.database import current_revision, upgrade_database
from adflux.settings import Settings
from test_migrations import empty_postgres_database  # noqa: F401  (the fixture: a fresh PostgreSQL database)

TABLES = {"campaign_allocation", "allocation_entries", "forecast_models"}


def _up_and_down(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0025")
        assert current_revision() == "0025"
        with db.engine.begin() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            conn.execute(
                text(
                    "INSERT INTO forecast_models (version, status, metrics, training_size, library_versions, "
                    "artifact_uri, artifact_sha256, created_at) "
                    "VALUES (1, 'active', '{}', 10, '{}', 'f.skops', 'ab', CURRENT_TIMESTAMP)"
                )
            )
            assert conn.execute(text("SELECT count(*) FROM forecast_models")).scalar() == 1
        downgrade(revision="0024")
        with db.engine.connect() as conn:
            assert not TABLES & set(inspect(conn).get_table_names())
        upgrade_database(revision="0025")
        assert current_revision() == "0025"
        db.engine.dispose()


def test_h20_upgrade_and_downgrade_on_sqlite(tmp_path):
    _up_and_down(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path))


@pytest.mark.postgres
def test_h20_upgrade_and_downgrade_on_postgresql(empty_postgres_database, tmp_path):  # noqa: F811
    _up_and_down(empty_postgres_database, str(tmp_path))
