"""campaigns.search_text: the campaign search's folded texts, kept by triggers, trigram-indexed;
the audit trail indexed in its list's order (at, id)

The campaign list's search folded every campaign's name and its job's title and company on every
search (~280 ms of server time per 10,000 campaigns, twice per page). PostgreSQL now keeps the
folded texts in `campaigns.search_text` (triggers on campaigns and job_openings, for every
writer) and indexes them with pg_trgm where the role may create the extension; SQLite gets the
column, left NULL (its search folds per row, as before). See models/campaign_search.py.
The backfill rewrites every campaign row once (~1 s per 10,000 campaigns).

The audit trail's index on `at` becomes one on (at, id), the order the list pages by: a deep
page number finds its first row by reading only the index (services/pagination.py). About 3 s
per million audit events.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 02:30:00

"""

import sqlalchemy as sa
from alembic import op

from adflux.models.campaign_search import BACKFILL_STATEMENT, create_statements, drop_statements

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_at_id", ["at", "id"], unique=False)
        batch_op.drop_index("ix_audit_events_at")
    op.add_column("campaigns", sa.Column("search_text", sa.Text(), nullable=True))
    statements = create_statements(op.get_bind().dialect.name)
    if not statements:
        return
    *upkeep, index = statements
    for statement in upkeep:
        op.execute(statement)
    op.execute(BACKFILL_STATEMENT)
    op.execute(index)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    # Not batch mode: SQLite (>= 3.35) drops a column in place, keeping the table's triggers.
    op.drop_column("campaigns", "search_text")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_at", ["at"], unique=False)
        batch_op.drop_index("ix_audit_events_at_id")
