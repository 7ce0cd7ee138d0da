"""The campaign-owner migration goes up and down on SQLite and PostgreSQL, keeping the campaigns."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.services.database import upgrade_database
from adflux.settings import Settings
from test_migrations import empty_postgres_database  # noqa: F401 (a fixture)


def _owners_up_and_down(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0023")
        with db.engine.connect() as conn:
            assert "owner_id" not in {c["name"] for c in inspect(conn).get_columns("campaigns")}
        upgrade_database(revision="0024")
        with db.engine.begin() as conn:
            assert "owner_id" in {c["name"] for c in inspect(conn).get_columns("campaigns")}
            assert "owner_notifications" in inspect(conn).get_table_names()
            conn.execute(text("SELECT owner_id FROM campaigns"))
        downgrade(revision="0023")
        with db.engine.connect() as conn:
            assert "owner_notifications" not in inspect(conn).get_table_names()
            assert "owner_id" not in {c["name"] for c in inspect(conn).get_columns("campaigns")}
        db.engine.dispose()


def test_campaign_owners_migrate_up_and_down_on_sqlite(tmp_path):
    _owners_up_and_down(f"sqlite:///{tmp_path / 'o.db'}", str(tmp_path))


@pytest.mark.postgres
def test_campaign_owners_migrate_up_and_down_on_postgres(empty_postgres_database, tmp_path):  # noqa: F811
    _owners_up_and_down(empty_postgres_database, str(tmp_path))
