"""Migrations 0022 (platform accounts' identifiers) and 0023 (media uploads) up and down with rows
in place, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models.base import utcnow
from adflux.services.database import upgrade_database
from adflux.settings import Settings
from test_migrations import empty_postgres_database as _empty_postgres_database

pg_database = pytest.fixture(_empty_postgres_database.__wrapped__, name="pg_database")


def _account_identifiers_up_and_down(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0021")
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO platform_accounts (platform, name, external_account_id, is_sandbox, "
                    "active, priority, created_at, updated_at) "
                    "VALUES ('meta', 'Meta', 'act_1', true, true, 0, :t, :t)"
                ),
                {"t": now},
            )
        upgrade_database()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT identifiers FROM platform_accounts")).scalar() is None
            conn.execute(text("""UPDATE platform_accounts SET identifiers = '{"page_id": "123456"}'"""))
            conn.execute(
                text(
                    "INSERT INTO media_uploads (platform, account_ref, content_hash, media, created_at) "
                    """VALUES ('tiktok', '7001', 'ab', '{"image_ids": ["i-1"]}', :t)"""
                ),
                {"t": now},
            )
        downgrade(revision="0022")
        with db.engine.begin() as conn:
            assert "media_uploads" not in inspect(conn).get_table_names()
        downgrade(revision="0021")
        with db.engine.begin() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("platform_accounts")}
            assert "identifiers" not in columns
            assert conn.execute(text("SELECT external_account_id FROM platform_accounts")).scalar() == "act_1"
        db.engine.dispose()


def test_account_identifiers_migrate_up_and_down_on_sqlite(tmp_path):
    _account_identifiers_up_and_down(f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path))


@pytest.mark.postgres
def test_account_identifiers_migrate_up_and_down_on_postgres(pg_database, tmp_path):
    _account_identifiers_up_and_down(pg_database, str(tmp_path))
