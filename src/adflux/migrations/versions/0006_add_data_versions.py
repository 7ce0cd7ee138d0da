"""add data versions: a token per table, changed by triggers on every write

The job list answers from a cache while the job openings' token is unchanged (see
adflux.models.versions and adflux.api.response_cache).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:30:00

"""
import sqlalchemy as sa
from alembic import op

from adflux.models.versions import (
    VERSIONED_TABLES,
    create_statements,
    drop_statements,
    initial_token_statement,
)

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The tables this revision tracks (VERSIONED_TABLES may grow in later revisions).
TABLES = ('job_openings',)
assert set(TABLES) <= set(VERSIONED_TABLES)


def upgrade():
    op.create_table(
        'data_versions',
        sa.Column('name', sa.String(length=63), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions')),
    )
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in create_statements(dialect, table):
            op.execute(statement)
        first = initial_token_statement(dialect, table)
        if first:
            op.execute(first)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in drop_statements(dialect, table):
            op.execute(statement)
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS adflux_bump_data_version()')
    op.drop_table('data_versions')
