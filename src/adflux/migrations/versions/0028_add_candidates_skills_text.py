"""candidates.skills_text: the skills joined by U+001F, for the segmentation's bulk read

The segmentation read rendered every candidate's `skills` jsonb as text in a CSV COPY (~3 s of a
~5 s read at 1M candidates). A plain text column derived from `skills` reads in ~0.8 s.
See models/skills_text.py for who keeps it in step (the ORM, the bulk writers, and on
PostgreSQL a trigger for any other writer). The backfill rewrites every candidate row once
(~1 minute per million candidates on PostgreSQL).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 23:40:00

"""

import json

import sqlalchemy as sa
from alembic import op

from adflux.models.skills_text import FUNCTION, create_statements, drop_statements, skills_text

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_SQLITE_CHUNK = 5_000


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        statements = create_statements("postgresql")
        op.execute(statements[0])  # the function first: the backfill uses it
        # Filled by one table rewrite (a generated column, then a plain one keeping its values):
        # an UPDATE of every row leaves the table ~2.4x its size until a VACUUM FULL, and the
        # segmentation's read scans all of it.
        op.execute(
            "ALTER TABLE candidates ADD COLUMN skills_text text"
            f" GENERATED ALWAYS AS ({FUNCTION}(skills)) STORED"
        )
        op.execute("ALTER TABLE candidates ALTER COLUMN skills_text DROP EXPRESSION")
        for statement in statements[1:]:
            op.execute(statement)
        return
    op.add_column("candidates", sa.Column("skills_text", sa.Text(), nullable=True))
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, skills FROM candidates WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _SQLITE_CHUNK},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text("UPDATE candidates SET skills_text = :text WHERE id = :id"),
            [{"id": id_, "text": skills_text(_loads(raw))} for id_, raw in rows],
        )
        last = rows[-1][0]


def _loads(raw):
    if raw is None or isinstance(raw, list):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return None


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    # Not batch mode: SQLite (>= 3.35) drops a column in place, keeping the table's triggers.
    op.drop_column("candidates", "skills_text")
