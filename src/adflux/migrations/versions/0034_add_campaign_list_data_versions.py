"""data versions on the campaign list's tables, changed at commit

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 09:00:00

The campaign list answers from the response cache while the token `campaigns` (changed by writes
to campaigns, platform campaigns, ad groups and campaign totals) and the job openings' are
unchanged. Their publisher can hold a transaction open across a platform call, so on PostgreSQL
the token changes at COMMIT (a deferred constraint trigger, queued once per transaction): writers
do not wait on each other's open transactions (see adflux.models.versions).
"""

from alembic import op

from adflux.models.versions import create_statements, drop_statements, initial_token_statement

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# The tables this revision tracks (AT_COMMIT_TABLES as of this revision), all under one token.
TABLES = ("campaigns", "platform_campaigns", "ad_groups", "campaign_metric_totals")
TOKEN = "campaigns"


def upgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in create_statements(dialect, table):
            op.execute(statement)
    first = initial_token_statement(dialect, TOKEN)
    if first:
        op.execute(first)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        for statement in drop_statements(dialect, table):
            op.execute(statement)
    op.execute(f"DELETE FROM data_versions WHERE name = '{TOKEN}'")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS adflux_data_version_first(text)")
        op.execute("DROP FUNCTION IF EXISTS adflux_bump_named_data_version()")
