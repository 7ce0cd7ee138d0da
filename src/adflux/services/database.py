"""Schema migrations, run by operators (never at app start-up)."""

from __future__ import annotations

from alembic.migration import MigrationContext
from flask_migrate import upgrade

from adflux.extensions import db


def upgrade_database(*, revision: str = "head") -> str | None:
    """Apply Alembic migrations up to `revision` and return the resulting revision."""
    upgrade(revision=revision)
    return current_revision()


def current_revision() -> str | None:
    """The database's Alembic revision, None for an empty database."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
