"""What `adflux demo` may erase: only what an earlier demo made, never a user's data unasked.

After a demo run, the row counts of the tables people fill (users, tokens, jobs, candidates,
campaigns, accounts, models, the audit trail) are kept beside the database, in the instance
folder. A later demo compares: an empty database is used as it is; one that still holds exactly
what the last demo left may be reset; anything else holds someone's work, and the demo refuses
unless told `--reset`, which backs the database up first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, table, text

from adflux.extensions import db
from adflux.services import backups
from adflux.services.backups import BackupInfo
from adflux.services.database import upgrade_database
from adflux.services.errors import Conflict
from adflux.settings import current_settings

# The tables whose rows people (or their API clients) create, and so a demo must not erase.
CONTENT_TABLES: tuple[str, ...] = (
    "users",
    "api_tokens",
    "platform_accounts",
    "job_openings",
    "candidates",
    "segmentation_models",
    "campaigns",
    "platform_campaigns",
    "audit_events",
    "job_feeds",
    "playbooks",
    "tracking_links",
    "application_events",  # the portal's postbacks: first-hand data a demo must never erase
)
MARK_FILE = "demo-data.json"


@dataclass(frozen=True)
class Contents:
    """What the database holds: "empty", "demo" (only the last demo's rows) or "other"."""

    kind: str
    counts: dict[str, int] = field(default_factory=dict)
    # What the last demo left, when known (None: no note of a demo for this database).
    left: dict[str, int] | None = None

    def summary(self) -> str:
        """The tables that differ from what the last demo left, e.g. "users 1 (the demo left 0)"."""
        if self.left is None:
            return ", ".join(f"{name} {n}" for name, n in self.counts.items() if n)
        return ", ".join(
            f"{name} {n} (la demo dejó {self.left.get(name, 0)})"
            for name, n in self.counts.items()
            if n != self.left.get(name, 0)
        )


def _counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in CONTENT_TABLES
        }


def _mark_path() -> Path:
    return Path(current_settings().instance_path) / MARK_FILE


def _database_identity() -> str:
    return db.engine.url.render_as_string(hide_password=True)


def database_contents() -> Contents:
    """Whether the database is empty, holds only the last demo's data, or anything else."""
    counts = _counts()
    if not any(counts.values()):
        return Contents("empty", counts)
    try:
        mark = json.loads(_mark_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Contents("other", counts)
    if mark.get("database") != _database_identity():
        return Contents("other", counts)
    if mark.get("counts") == counts:
        return Contents("demo", counts, mark["counts"])
    return Contents("other", counts, mark.get("counts") or {})


def remember_demo_data() -> None:
    """Record what the demo just left, so the next demo knows it may reset exactly this."""
    path = _mark_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    mark = {"database": _database_identity(), "counts": _counts()}
    path.write_text(json.dumps(mark, indent=1, sort_keys=True), encoding="utf-8")


class DemoWouldEraseData(Conflict):
    """The database holds data the demo did not create, and nobody said --reset."""


@dataclass(frozen=True)
class Room:
    """What making room for the demo did: "empty" (nothing to do), "demo" (erased the last
    demo's data) or "reset" (erased everything, after `backup`)."""

    done: str
    backup: BackupInfo | None = None


def make_room(*, reset: bool) -> Room:
    """Empty the database for the demo, erasing only what an earlier demo made unless `reset`
    (which backs everything up first); otherwise DemoWouldEraseData says what is in the way."""
    contents = database_contents()
    if contents.kind == "empty":
        return Room("empty")
    if contents.kind == "demo":
        reset_database(backup_first=False)
        return Room("demo")
    if not reset:
        raise DemoWouldEraseData(
            f"la base de datos tiene datos que la demo no creó: {contents.summary()}; "
            "use --reset para respaldarla y empezar de nuevo, o ADFLUX_DATABASE_URL para otra base"
        )
    return Room("reset", reset_database(backup_first=True))


def reset_database(*, backup_first: bool) -> BackupInfo | None:
    """Drop and recreate every table through the migrations; back up first when asked."""
    saved = backups.create_backup(label="before-demo", apply_retention_policy=False) if backup_first else None
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade_database()
    _mark_path().unlink(missing_ok=True)
    return saved
