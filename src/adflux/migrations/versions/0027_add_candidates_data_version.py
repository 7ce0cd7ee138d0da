"""a data version on candidates

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 20:40:00

The candidate list counts its rows (up to 10,001) and asks the planner for an estimate on every
request. With a data-version token on candidates it counts only when they changed since the
process last counted the same filters (see services/versioned_counts).
"""

from alembic import op

from adflux.models.versions import create_statements, drop_statements, initial_token_statement

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in create_statements(dialect, "candidates"):
        op.execute(statement)
    first = initial_token_statement(dialect, "candidates")
    if first:
        op.execute(first)


def downgrade():
    for statement in drop_statements(op.get_bind().dialect.name, "candidates"):
        op.execute(statement)
    op.execute("DELETE FROM data_versions WHERE name = 'candidates'")
