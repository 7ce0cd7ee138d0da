"""Backups: every row of every table survives a backup and restore, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Text,
    create_engine,
    insert,
    select,
    text,
)

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Alert, AuditEvent, Candidate, TaskRun
from adflux.services import backups
from adflux.services.errors import Conflict, ValidationFailed
from adflux.settings import Settings
from conftest import ADMIN_DATABASE_URL, require_service
from ops_data import make_account, make_campaign_with_metrics, make_model

# ---- helpers: fill every table, fingerprint every table ---------------------------------------------


def _value_for(column, n: int):
    kind = column.type
    if isinstance(kind, JSON) or type(kind).__name__ in ("JSONB",):
        return {"k": [n, "ñandú"], "nested": {"ok": True}}
    python = None
    with contextlib.suppress(NotImplementedError):
        python = kind.python_type
    if isinstance(kind, Boolean) or python is bool:
        return True
    if isinstance(kind, Integer | BigInteger | SmallInteger) or python is int:
        return n
    if isinstance(kind, Float | Numeric) or python in (float, Decimal):
        return 1.25 + n
    if isinstance(kind, DateTime) or python is datetime or type(kind).__name__ == "UTCDateTime":
        return datetime(2026, 3, 1, 12, 30, n % 60, tzinfo=UTC)
    if isinstance(kind, Date) or python is date:
        return date(2026, 3, 1)
    if isinstance(kind, LargeBinary):
        return b"\x00\x01bytes"
    if isinstance(kind, String | Text) or python is str:
        length = getattr(kind, "length", None) or 40
        return f"v{n}-é"[:length]
    raise AssertionError(f"no test value for {column.table.name}.{column.name} ({kind!r})")


def fill_every_table() -> None:
    """Realistic rows through the builders, then one generated row in any table still empty."""
    make_model(drift={"psi": {"city": 0.1}})
    make_campaign_with_metrics(days=[(date(2026, 3, 1), 120_000, 3)])
    make_account(token_expires_at=datetime.now(UTC) + timedelta(days=30))
    db.session.add(
        Candidate(
            external_ref="SIM-C-1",
            birth_year=1990,
            city="Cali",
            department="Valle del Cauca",
            education_level="tecnologo",
            desired_category="ventas",
            desired_modality="presencial",
            expected_salary=2_500_000,
            skills=["excel"],
            languages=["español"],
            email="c@example.com",
        )
    )
    db.session.add(TaskRun(id=str(uuid.uuid4()), kind="test", status="succeeded", result={"ok": 1}))
    db.session.add(AuditEvent(action="test", entity_type="x", after={"a": "ü"}))
    db.session.add(Alert(rule="high_latency", key="", message="lento", status="resolved"))
    db.session.commit()
    with db.engine.begin() as conn:
        for n, table in enumerate(db.metadata.sorted_tables, start=1):
            if conn.execute(select(table).limit(1)).first() is not None:
                continue
            row = {}
            for column in table.columns:
                if column.foreign_keys:
                    fk = next(iter(column.foreign_keys))
                    row[column.name] = conn.execute(select(fk.column).limit(1)).scalar_one()
                elif (column.primary_key and column.autoincrement is True) or (
                    column.primary_key
                    and isinstance(column.type, Integer)
                    and len(table.primary_key.columns) == 1
                ):
                    continue  # let the database number it
                else:
                    row[column.name] = _value_for(column, n)
            conn.execute(insert(table).values(**row))


def _normal(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bytes):
        return value.hex()
    return value


def fingerprints() -> dict[str, tuple[int, str]]:
    """(row count, SHA-256 of every row in primary-key order) for every table."""
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(select(table).order_by(*order)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(_normal(v) for v in row)).encode())
            out[table.name] = (len(rows), digest.hexdigest())
    return out


def _app(database_url: str, instance: Path, **overrides) -> Flask:
    return create_app(
        Settings.from_env(
            {}, env="testing", database_url=database_url, instance_path=str(instance), **overrides
        )
    )


def _round_trip(source: Flask, target: Flask) -> None:
    with source.app_context():
        db.create_all()
        fill_every_table()
        expected = fingerprints()
        assert all(count > 0 for count, _ in expected.values()), [
            t for t, (c, _) in expected.items() if not c
        ]
        info = backups.create_backup(label="roundtrip")
        assert info.tables["alerts"] == expected["alerts"][0]
        db.engine.dispose()
    with target.app_context():
        db.create_all()  # an upgraded but empty database: allowed without --force
        result = backups.restore_backup(path=info.path)
        assert result.replaced_rows == 0
        assert fingerprints() == expected
        db.engine.dispose()


# ---- SQLite --------------------------------------------------------------------------------------


def test_sqlite_round_trip_keeps_every_row_of_every_table(tmp_path):
    backups_dir = tmp_path / "backups"
    source = _app(f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "a", backup_dir=str(backups_dir))
    target = _app(f"sqlite:///{tmp_path / 'target.db'}", tmp_path / "b", backup_dir=str(backups_dir))
    _round_trip(source, target)


def test_restore_refuses_a_database_with_data_unless_forced(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path, backup_dir=str(tmp_path / "b"))
    with app.app_context():
        db.create_all()
        make_model()
        info = backups.create_backup()
        make_model()  # a change after the backup
        with pytest.raises(Conflict, match="no está vacía"):
            backups.restore_backup(path=info.path)
        result = backups.restore_backup(path=info.path, force=True)
        assert result.replaced_rows == 2 and result.tables["segmentation_models"] == 1
        db.engine.dispose()


def test_a_tampered_backup_is_refused(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path, backup_dir=str(tmp_path / "b"))
    with app.app_context():
        db.create_all()
        info = backups.create_backup()
        with open(info.path, "ab") as handle:
            handle.write(b"tampered")
        with pytest.raises(ValidationFailed, match="suma de verificación"):
            backups.restore_backup(path=info.path, force=True)
        db.engine.dispose()


def test_retention_keeps_the_newest_and_drops_old_ones(tmp_path):
    app = _app(
        f"sqlite:///{tmp_path / 'live.db'}",
        tmp_path,
        backup_dir=str(tmp_path / "b"),
        backup_keep=2,
        backup_retention_days=7,
    )
    with app.app_context():
        db.create_all()
        made = [backups.create_backup(label=f"n{i}", apply_retention_policy=False) for i in range(4)]
        # Age them by rewriting their sidecars: 40, 35 and 20 days old; the last one is new.
        for info, days in zip(made[:3], (40, 35, 20), strict=True):
            sidecar = Path(info.path + ".json")
            data = json.loads(sidecar.read_text())
            data["created_at"] = (datetime.now(UTC) - timedelta(days=days)).isoformat()
            sidecar.write_text(json.dumps(data))
        # The newest two always stay, even the 20-day-old one; older ones past 7 days go.
        assert [b.name for b in backups.apply_retention(dry_run=True)] == [made[1].name, made[0].name]
        assert len(backups.list_backups()) == 4  # a dry run deletes nothing
        deleted = backups.apply_retention()
        remaining = {b.name for b in backups.list_backups()}
        assert remaining == {made[3].name, made[2].name}
        assert len(deleted) == 2 and not Path(made[0].path + ".json").exists()
        db.engine.dispose()


def test_cli_backup_list_and_restore(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from adflux.cli import CliContext, main, output

    monkeypatch.setattr(output.console, "width", 200)
    app = _app(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path, backup_dir=str(tmp_path / "b"))
    with app.app_context():
        db.create_all()
        make_model()

    def run(*args):
        context = CliContext(api_url=None, token=None, as_json=False, _app=app)
        return CliRunner().invoke(main, list(args), obj=context, catch_exceptions=False)

    made = run("db", "backup", "--label", "before-upgrade")
    assert made.exit_code == 0 and "Copia de seguridad escrita" in made.output
    [path] = list((tmp_path / "b").glob("adflux-*-before-upgrade.sqlite3"))
    listed = run("db", "backups")
    assert path.name[:20] in listed.output
    refused = run("db", "restore", str(path))
    assert refused.exit_code == 1 and "no está vacía" in refused.output and "--force" in refused.output
    restored = run("db", "restore", str(path), "--force")
    assert restored.exit_code == 0 and "Restaurada" in restored.output
    with app.app_context():
        db.engine.dispose()


def test_backup_is_scheduled_daily(app):
    entry = app.extensions["celery"].conf.beat_schedule["backup-database"]
    assert entry["task"] == "adflux.tasks.maintenance.backup_database"
    assert entry["options"]["queue"] == "maintenance"


def test_backup_task_records_its_run(tmp_path):
    app = _app(f"sqlite:///{tmp_path / 'task.db'}", tmp_path, backup_dir=str(tmp_path / "b"))
    with app.app_context():
        db.create_all()
        task = app.extensions["celery"].tasks["adflux.tasks.maintenance.backup_database"]
        result = task.apply(task_id="backup-run-1").get()
        assert result["backup"].startswith("adflux-")
        run = db.session.get(TaskRun, "backup-run-1")
        assert run.status == "succeeded" and run.kind == "maintenance.backup"
        db.session.remove()
        db.engine.dispose()


def test_pg_connection_settings_stay_out_of_the_command_line():
    from sqlalchemy.engine import make_url

    env = backups._pg_env(
        make_url("postgresql+psycopg://ana:s3cr%40t@db.internal:6543/adflux?sslmode=require")
    )
    assert env["PGPASSWORD"] == "s3cr@t" and env["PGHOST"] == "db.internal" and env["PGPORT"] == "6543"
    assert env["PGUSER"] == "ana" and env["PGDATABASE"] == "adflux" and env["PGSSLMODE"] == "require"


# ---- PostgreSQL ------------------------------------------------------------------------------------


@pytest.fixture
def scratch_databases() -> Iterator[tuple[str, str]]:
    """Two empty databases of our own on the local server (not the shared test database)."""
    admin = create_engine(
        ADMIN_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    names = [f"adflux_bk_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        require_service("PostgreSQL", str(exc).splitlines()[0])
    base = ADMIN_DATABASE_URL.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres
def test_postgres_round_trip_keeps_every_row_of_every_table(scratch_databases, tmp_path):
    if not (os.path.exists("/usr/bin/pg_dump") or __import__("shutil").which("pg_dump")):
        require_service("pg_dump", "install postgresql-client")
    source_url, target_url = scratch_databases
    source = _app(source_url, tmp_path / "a", backup_dir=str(tmp_path / "backups"))
    target = _app(target_url, tmp_path / "b", backup_dir=str(tmp_path / "backups"))
    _round_trip(source, target)


@pytest.mark.postgres
def test_postgres_restore_refuses_data_unless_forced(scratch_databases, tmp_path):
    url, _ = scratch_databases
    app = _app(url, tmp_path, backup_dir=str(tmp_path / "backups"))
    with app.app_context():
        db.create_all()
        make_model()
        info = backups.create_backup()
        assert Path(info.path).read_bytes()[:5] == b"PGDMP"
        make_model()
        with pytest.raises(Conflict):
            backups.restore_backup(path=info.path)
        result = backups.restore_backup(path=info.path, force=True)
        assert result.tables["segmentation_models"] == 1
        db.session.remove()
        db.engine.dispose()


def _modes(info) -> tuple[int, int, int]:
    path = Path(info.path)
    return tuple(  # type: ignore[return-value]
        stat.S_IMODE(p.stat().st_mode) for p in (path.parent, path, path.with_name(path.name + ".json"))
    )


def test_backups_are_0600_in_a_0700_folder_even_with_a_permissive_umask(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir(mode=0o755)  # an existing folder others could read
    app = _app(f"sqlite:///{tmp_path / 'live.db'}", tmp_path, backup_dir=str(folder))
    old = os.umask(0o022)
    try:
        with app.app_context():
            db.create_all()
            info = backups.create_backup()
            db.engine.dispose()
    finally:
        os.umask(old)
    assert _modes(info) == (0o700, 0o600, 0o600)


@pytest.mark.postgres
def test_postgres_backups_are_0600_in_a_0700_folder(scratch_databases, tmp_path):
    if not shutil.which("pg_dump"):
        require_service("pg_dump", "install postgresql-client")
    app = _app(scratch_databases[0], tmp_path / "a", backup_dir=str(tmp_path / "backups"))
    with app.app_context():
        db.create_all()
        info = backups.create_backup()
        db.engine.dispose()
    assert _modes(info) == (0o700, 0o600, 0o600)
