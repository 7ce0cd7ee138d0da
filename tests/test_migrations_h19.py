"""ad_groups.status (an ad group paused alone) migrates up and down on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.services.database import upgrade_database
from adflux.settings import Settings
from test_migrations import empty_postgres_database  # noqa: F401  (the fixture)


def _up_and_down(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0019")
        with db.engine.begin() as conn:
            assert "status" not in {c["name"] for c in inspect(conn).get_columns("ad_groups")}
        upgrade_database(revision="h19a")
        with db.engine.begin() as conn:
            columns = {c["name"]: c for c in inspect(conn).get_columns("ad_groups")}
            assert columns["status"]["nullable"] is False
            assert "active" in str(columns["status"]["default"])
        downgrade(revision="0019")
        with db.engine.begin() as conn:
            assert "status" not in {c["name"] for c in inspect(conn).get_columns("ad_groups")}
            assert conn.execute(text("SELECT count(*) FROM ad_groups")).scalar_one() == 0
        db.engine.dispose()


def test_ad_group_status_migrates_up_and_down_on_sqlite(tmp_path):
    _up_and_down(f"sqlite:///{tmp_path / 'g.db'}", str(tmp_path))


@pytest.mark.postgres
def test_ad_group_status_migrates_up_and_down_on_postgres(empty_postgres_database, tmp_path):  # noqa: F811
    _up_and_down(empty_postgres_database, str(tmp_path))
