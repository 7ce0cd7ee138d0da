"""Database backups and restores: pg_dump/pg_restore on PostgreSQL, the online backup API on SQLite.

Every backup is one file plus a JSON sidecar (`<file>.json`) with its SHA-256, the schema
revision and the row count of every table, so a restore can check the file before touching the
database and an operator can see what a backup holds without opening it. Files are written
under a temporary name and renamed when complete: a crash mid-backup never leaves a file that
looks finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.engine import URL

from adflux import __version__
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.monitoring.logs import redact_text
from adflux.services import postgres_restore
from adflux.services.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

PREFIX = "adflux-"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}
# A backup holds every user, token hash and encrypted credential: the service account's alone.
PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# Tables whose rows do not make a database "non-empty" (bookkeeping, not data).
BOOKKEEPING_TABLES = frozenset({"alembic_version"})
COMMAND_TIMEOUT = 6 * 3600  # a dump of a large database takes long, but not forever


@dataclass
class BackupInfo:
    """One backup file and what its sidecar says about it."""

    name: str
    path: str
    dialect: str
    size_bytes: int
    created_at: datetime
    sha256: str | None = None
    revision: str | None = None
    tables: dict[str, int] = field(default_factory=dict)
    adflux_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RestoreResult:
    """What a restore replaced and what the database holds afterwards."""

    backup: BackupInfo
    replaced_rows: int
    tables: dict[str, int]
    revision: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "backup": self.backup.as_dict(),
            "replaced_rows": self.replaced_rows,
            "tables": self.tables,
            "revision": self.revision,
        }


def backup_dir(settings: Settings | None = None) -> Path:
    """Where backups are written (ADFLUX_BACKUP_DIR, default instance/backups)."""
    return Path((settings or current_settings()).backup_path)


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in SUFFIXES:
        raise ValidationFailed(_("Backups support SQLite and PostgreSQL, not %(name)s", name=name))
    return name


# ---- inspecting the database ---------------------------------------------------------------------


def table_row_counts() -> dict[str, int]:
    """Rows in every table of the current database (schema as it is, not as the models say)."""
    with db.engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        return {
            name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in names
        }


def _revision() -> str | None:
    with db.engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _data_rows(counts: dict[str, int]) -> int:
    return sum(n for name, n in counts.items() if name not in BOOKKEEPING_TABLES)


# ---- backup --------------------------------------------------------------------------------------


def create_backup(*, label: str | None = None, apply_retention_policy: bool = True) -> BackupInfo:
    """Back up the database to the backup folder; then delete backups past retention."""
    settings = current_settings()
    dialect = _dialect()
    folder = private_folder(backup_dir(settings))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_label = "".join(c for c in (label or "") if c.isalnum() or c in "-_")[:40]
    stem = f"{PREFIX}{stamp}" + (f"-{safe_label}" if safe_label else "")
    path = folder / f"{stem}{SUFFIXES[dialect]}"
    n = 1
    while path.exists():  # two backups in one second: never overwrite
        path = folder / f"{stem}-{n}{SUFFIXES[dialect]}"
        n += 1
    partial = path.with_name(path.name + ".partial")
    counts = table_row_counts()
    try:
        _create_private(partial)  # 0600 before the first byte of data is written into it
        if dialect == "sqlite":
            _sqlite_backup(_sqlite_path(), partial)
        else:
            _pg_dump(db.engine.url, partial)
        os.chmod(partial, PRIVATE_FILE)
        digest = _sha256(partial)
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
    info = BackupInfo(
        name=path.name,
        path=str(path),
        dialect=dialect,
        size_bytes=path.stat().st_size,
        created_at=datetime.now(UTC),
        sha256=digest,
        revision=_revision(),
        tables=counts,
        adflux_version=__version__,
    )
    _write_sidecar(path, info)
    logger.info("backup written: %s (%d bytes, %d rows)", path.name, info.size_bytes, _data_rows(counts))
    if apply_retention_policy:
        apply_retention()
    return info


def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise ValidationFailed(_("An in-memory SQLite database cannot be backed up"))
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    # The online backup API copies a consistent snapshot page by page, even while others write.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise ServiceUnavailable(_("The backup copy failed its integrity check: %(check)s", check=check))
    finally:
        dst.close()
        src.close()


def _pg_env(url: URL) -> dict[str, str]:
    """libpq environment for `url`: the password travels in the environment, never in argv."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    for key, value in pairs.items():
        if value:
            env[key] = str(value)
        else:
            env.pop(key, None)
    for param, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("host", "PGHOST"),  # ?host=/cloudsql/... (Unix socket, Cloud SQL)
    ):
        if param in url.query:
            given = url.query[param]  # a str, or a tuple when the parameter is repeated
            env[variable] = given if isinstance(given, str) else given[0]
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceUnavailable(
            _(
                "%(name)s is not installed; install the PostgreSQL client (apt-get "
                "install postgresql-client) matching the server's major version",
                name=name,
            )
        )
    return path


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        completed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable(
            _(
                "%(name)s did not finish in %(command_timeout)s s",
                name=Path(args[0]).name,
                command_timeout=COMMAND_TIMEOUT,
            )
        ) from exc
    if completed.returncode != 0:
        message = redact_text(completed.stderr.strip() or f"exit status {completed.returncode}")
        raise ServiceUnavailable(
            _("%(name)s failed: %(value)s", name=Path(args[0]).name, value=message[:1000])
        )


def _pg_dump(url: URL, target: Path) -> None:
    # Custom format (-Fc): compressed, and pg_restore can restore it selectively and in parallel.
    _run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)],
        _pg_env(url),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def private_folder(folder: Path) -> Path:
    """`folder`, created if needed, readable by the service account only (0700)."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    os.chmod(folder, PRIVATE_FOLDER)
    return folder


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)  # O_CREAT's mode is filtered by the umask; chmod is not


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _write_sidecar(path: Path, info: BackupInfo) -> None:
    data = info.as_dict() | {"created_at": info.created_at.isoformat()}
    sidecar = _sidecar(path)
    _create_private(sidecar)
    sidecar.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")


def read_backup(path: Path) -> BackupInfo:
    """A backup's description from its sidecar (or from the file itself when there is none)."""
    if not path.is_file():
        raise NotFound(_("No backup file at %(path)s", path=path))
    sidecar = _sidecar(path)
    if sidecar.is_file():
        data = json.loads(sidecar.read_text(encoding="utf-8"))
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        data["path"], data["name"] = str(path), path.name
        known = set(BackupInfo.__dataclass_fields__)
        return BackupInfo(**{k: v for k, v in data.items() if k in known})
    stat = path.stat()
    return BackupInfo(
        name=path.name,
        path=str(path),
        dialect=_sniff(path),
        size_bytes=stat.st_size,
        created_at=datetime.fromtimestamp(stat.st_mtime, UTC),
    )


def _sniff(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise ValidationFailed(
        _("%(name)s is neither a SQLite database nor a pg_dump custom-format archive", name=path.name)
    )


def list_backups(settings: Settings | None = None) -> list[BackupInfo]:
    """Backups in the backup folder, newest first."""
    folder = backup_dir(settings)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.name.startswith(PREFIX) and path.suffix in SUFFIXES.values() and path.is_file():
            try:
                found.append(read_backup(path))
            except (ValueError, OSError, TypeError) as exc:
                logger.warning("unreadable backup %s: %s", path.name, exc)
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def apply_retention(*, now: datetime | None = None, dry_run: bool = False) -> list[BackupInfo]:
    """Delete backups past retention: the newest `backup_keep` always stay; older ones go after N days."""
    settings = current_settings()
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=settings.backup_retention_days)
    expired = [b for b in list_backups(settings)[settings.backup_keep :] if b.created_at < cutoff]
    if not dry_run:
        for backup in expired:
            path = Path(backup.path)
            path.unlink(missing_ok=True)
            _sidecar(path).unlink(missing_ok=True)
            logger.info("backup deleted by retention: %s", backup.name)
    return expired


# ---- restore -------------------------------------------------------------------------------------


def restore_backup(*, path: str, force: bool = False) -> RestoreResult:
    """Replace the database with a backup; refuses a database that holds data unless `force`."""
    file = Path(path)
    info = read_backup(file)
    kind = _sniff(file)
    dialect = _dialect()
    if kind != dialect:
        raise ValidationFailed(
            _(
                "%(name)s is a %(kind)s backup; this database is %(dialect)s",
                name=file.name,
                kind=kind,
                dialect=dialect,
            )
        )
    if info.sha256 and _sha256(file) != info.sha256:
        raise ValidationFailed(
            _("%(name)s does not match the checksum recorded when it was made", name=file.name)
        )
    before = table_row_counts()
    rows = _data_rows(before)
    if rows and not force:
        raise Conflict(
            _(
                "The database is not empty (%(rows)s rows in %(value)s tables); restoring would "
                "overwrite it. Back it up first, then restore with --force.",
                rows=rows,
                value=sum(1 for n in before.values() if n),
            )
        )
    # Nothing may hold a connection (or a cached schema) into the database being replaced.
    db.session.remove()
    db.engine.dispose()
    if dialect == "sqlite":
        _sqlite_restore(file, _sqlite_path())
    else:
        _pg_restore(file, db.engine.url)
    db.engine.dispose()
    after = table_row_counts()
    logger.warning("database restored from %s (replaced %d rows)", file.name, rows)
    return RestoreResult(backup=info, replaced_rows=rows, tables=after, revision=_revision())


def _sqlite_restore(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # replaces every page of the target: schema and data, atomically
    finally:
        dst.close()
        src.close()


def _pg_restore(source: Path, url: URL) -> None:
    env = _pg_env(url)
    # Drop what is there first, so tables that exist in both end up exactly as in the backup: the
    # archive's --clean script, run by psql in one transaction (all or nothing) after the
    # partitioned tables are dropped whole (`postgres_restore`: pg_restore --clean cannot drop them).
    writer, runner = postgres_restore.restore_commands(
        _tool("pg_restore"),
        _tool("psql"),
        source,
        env.get("PGDATABASE", ""),
        postgres_restore.partitioned_tables(db.engine),
    )
    db.engine.dispose()
    postgres_restore.run_restore(writer, runner, env, COMMAND_TIMEOUT, _tool_failed)


def _tool_failed(name: str, stderr: str) -> ServiceUnavailable:
    message = redact_text(stderr.strip())
    return ServiceUnavailable(_("%(name)s failed: %(value)s", name=name, value=message[:1000]))
