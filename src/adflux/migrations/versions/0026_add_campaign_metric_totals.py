"""each campaign's metric sums over all its days, kept with the campaign rollup

The campaign list ordered by spend, applications or CPA summed every campaign's rollup rows per
request (~1.1M rows at 1,000 campaigns x 3 platforms x 365 days: ~300 ms). The sync now keeps one
row per campaign, refreshed for the campaigns it touched; this migration fills it from the rollup.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import adflux.models.base  # noqa: F401  (custom column types)

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

SUMS = ['impressions', 'reach', 'clicks', 'engagements', 'spend_micros', 'applications']


def upgrade():
    op.create_table(
        'campaign_metric_totals',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('impressions', sa.BigInteger(), nullable=False),
        sa.Column('reach', sa.BigInteger(), nullable=False),
        sa.Column('clicks', sa.BigInteger(), nullable=False),
        sa.Column('engagements', sa.BigInteger(), nullable=True),
        sa.Column('spend_micros', sa.BigInteger(), nullable=False),
        sa.Column('applications', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id'),
    )
    with op.batch_alter_table('campaign_metric_totals', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_campaign_metric_totals_spend_micros'), ['spend_micros'], unique=False
        )
    columns = ', '.join(SUMS)
    sums = ', '.join(f'SUM({c})' for c in SUMS)
    op.execute(
        f'INSERT INTO campaign_metric_totals (campaign_id, {columns}) '
        f'SELECT campaign_id, {sums} FROM campaign_metrics_daily GROUP BY campaign_id'
    )


def downgrade():
    with op.batch_alter_table('campaign_metric_totals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_metric_totals_spend_micros'))
    op.drop_table('campaign_metric_totals')
