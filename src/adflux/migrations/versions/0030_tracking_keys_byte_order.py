"""tracking keys compared byte by byte; the unused e-mail hash index dropped

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 23:45:00

Postbacks and buffered clicks are inserted in bulk into tables whose unique keys (`event_id`,
`click_id`) arrive in random order. On PostgreSQL those columns now use the "C" collation: the same
equality (every collation AdFlux uses is deterministic), but index comparisons are a memcmp instead
of the locale's strcoll (the database's C.UTF-8 is not "C" for PostgreSQL). The b-tree on
`application_events.email_hash` is dropped: the only query filtering on it (erasure) matches e-mail
OR phone hashes, and with no index on the phone hash PostgreSQL scans the table anyway, so the index
cost every insert and served nothing (bench/README.md, issue 23). ALTER … TYPE with only a new
collation rebuilds the two unique indexes without rewriting the tables.
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_KEYS = (("application_events", "event_id", 128), ("clicks", "click_id", 32))


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, column, length in _KEYS:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "C"')
    op.drop_index("ix_application_events_email_hash", table_name="application_events")


def downgrade():
    op.create_index("ix_application_events_email_hash", "application_events", ["email_hash"])
    if op.get_bind().dialect.name == "postgresql":
        for table, column, length in _KEYS:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length}) COLLATE "default"')
