"""Migrations build the schema from an empty database on SQLite and PostgreSQL, and agree
with the models (no pending autogenerate difference)."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.models.base import utcnow
from adflux.models.campaign_search import include_object
from adflux.services.database import current_revision, upgrade_database
from adflux.settings import Settings
from conftest import ADMIN_DATABASE_URL, require_service


def _upgrade_and_diff(database_url: str, instance: str) -> tuple[str | None, list, set[str]]:
    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        revision = upgrade_database()
        with db.engine.connect() as conn:
            opts = {"compare_type": True, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
            tables = set(inspect(conn).get_table_names())
        assert current_revision() == revision
        db.engine.dispose()
    return revision, diff, tables


def test_upgrade_from_empty_sqlite_matches_the_models(tmp_path):
    revision, diff, tables = _upgrade_and_diff(f"sqlite:///{tmp_path / 'm.db'}", str(tmp_path))
    assert revision is not None
    assert diff == []
    assert {t.name for t in db.metadata.sorted_tables} <= tables


@pytest.fixture
def empty_postgres_database():
    name = f"adflux_migr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        ADMIN_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        require_service("PostgreSQL", str(exc).splitlines()[0])
    url = ADMIN_DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_upgrade_from_empty_postgres_matches_the_models(empty_postgres_database, tmp_path):
    revision, diff, tables = _upgrade_and_diff(empty_postgres_database, str(tmp_path))
    assert revision is not None
    assert diff == []
    assert {t.name for t in db.metadata.sorted_tables} <= tables


def _tokens(conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(conn.execute(text("SELECT name, token FROM data_versions")).all())


def _data_versions_upgrade_and_downgrade(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    from factories import job_data

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0005")
        # A database with job openings in it before 0006 (written with 0005's columns, not the model's).
        row = {
            **job_data(),
            "country": "CO",
            "salary_currency": "COP",
            "status": "open",
            "created_at": utcnow(),
            "updated_at": utcnow(),
        }
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO job_openings ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"
                ),
                row,
            )
        db.session.remove()
        upgrade_database()
        with db.engine.begin() as conn:
            first = _tokens(conn)
            # cached answers (and the kept campaign ranking) work before the first write
            assert set(first) == {"job_openings", "daily_metric_totals", "candidates", "campaigns"}
            conn.execute(text("UPDATE job_openings SET title = 'Otro'"))
        with db.engine.begin() as conn:
            assert _tokens(conn)["job_openings"] != first["job_openings"]
        downgrade(revision="0005")
        with db.engine.begin() as conn:
            assert "data_versions" not in inspect(conn).get_table_names()
            conn.execute(text("UPDATE job_openings SET title = 'Sin disparadores'"))  # no trigger left
        db.engine.dispose()


def test_data_versions_migrate_up_and_down_on_sqlite(tmp_path):
    _data_versions_upgrade_and_downgrade(f"sqlite:///{tmp_path / 'v.db'}", str(tmp_path))


@pytest.mark.postgres
def test_data_versions_migrate_up_and_down_on_postgres(empty_postgres_database, tmp_path):
    _data_versions_upgrade_and_downgrade(empty_postgres_database, str(tmp_path))


@pytest.mark.postgres
def test_metrics_daily_becomes_monthly_partitions_and_back_with_its_rows(empty_postgres_database, tmp_path):
    from flask_migrate import downgrade

    app = create_app(
        Settings.from_env(
            {}, env="testing", database_url=empty_postgres_database, instance_path=str(tmp_path)
        )
    )
    with app.app_context():
        upgrade_database(revision="0018")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO metrics_daily SELECT 1, d, 1, 1, 'meta', NULL, 10, 8, 1, NULL, 1000, 0, "
                    "now() "
                    "FROM generate_series(DATE '2026-10-20', DATE '2026-12-05', INTERVAL '1 day') AS d"
                )
            )
        upgrade_database(revision="0019")

        def shape() -> tuple[str, int, list[str]]:
            with db.engine.connect() as conn:
                kind = conn.execute(
                    text("SELECT relkind FROM pg_class WHERE relname = 'metrics_daily'")
                ).scalar()
                rows = conn.execute(text("SELECT count(*) FROM metrics_daily")).scalar()
                parts = conn.execute(
                    text(
                        "SELECT relname FROM pg_class WHERE relname LIKE 'metrics\\_daily\\_y%' "
                        "AND relkind = 'r' ORDER BY 1"
                    )
                ).scalars()
                return kind, rows, list(parts)

        assert shape() == (
            "p",
            47,
            ["metrics_daily_y2026m10", "metrics_daily_y2026m11", "metrics_daily_y2026m12"],
        )
        downgrade(revision="0018")
        assert shape() == ("r", 47, [])
        db.engine.dispose()


def _artifact_uris_become_relative(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    from adflux.models import SegmentationModel

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    name = "segmentation-v00001-0123456789ab.skops"
    with app.app_context():
        upgrade_database()
        db.session.add_all(
            [
                SegmentationModel(
                    version=1, k=2, artifact_uri=f"file:///old/store/{name}", artifact_sha256="0" * 64
                ),
                SegmentationModel(
                    version=2, k=2, artifact_uri="s3://bucket/m.skops", artifact_sha256="0" * 64
                ),
            ]
        )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0010")  # a database whose versions were recorded with absolute URIs
        upgrade_database()
        with db.engine.connect() as conn:
            uris = dict(conn.execute(text("SELECT version, artifact_uri FROM segmentation_models")).all())
        assert uris == {1: name, 2: "s3://bucket/m.skops"}
        db.engine.dispose()


def test_artifact_uris_become_relative_to_the_store_on_sqlite(tmp_path):
    _artifact_uris_become_relative(f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path))


@pytest.mark.postgres
def test_artifact_uris_become_relative_to_the_store_on_postgres(empty_postgres_database, tmp_path):
    _artifact_uris_become_relative(empty_postgres_database, str(tmp_path))


def _ad_group_status_round_trip(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0021")

        def columns() -> set[str]:
            with db.engine.connect() as conn:
                return {column["name"] for column in inspect(conn).get_columns("ad_groups")}

        assert "status" in columns()
        downgrade(revision="0020")
        assert "status" not in columns()
        upgrade_database(revision="0021")
        assert "status" in columns()
        db.engine.dispose()


def test_ad_group_status_migrates_up_and_down_on_sqlite(tmp_path):
    _ad_group_status_round_trip(f"sqlite:///{tmp_path / 'g.db'}", str(tmp_path))


@pytest.mark.postgres
def test_ad_group_status_migrates_up_and_down_on_postgres(empty_postgres_database, tmp_path):
    _ad_group_status_round_trip(empty_postgres_database, str(tmp_path))
