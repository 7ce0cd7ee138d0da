"""cover the campaign rollup by campaign and day (index-only reads of one campaign's days)

The sync writes the rollup day by day across every campaign, so one campaign's rows are spread
over the heap: at 1,000 campaigns x 3 platforms x 365 days, a campaign's 1,095 rows sat on about
1,050 heap pages, read through the primary key one page per row. With the primary key's columns
(campaign_id, platform, date) and the sums included, the campaign page's chart and platform
comparison are index-only scans of a few pages (bench/bench_campaign_days.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 17:45:00

"""
from alembic import op

import adflux.models.base  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

INCLUDED = ['impressions', 'reach', 'clicks', 'engagements', 'spend_micros', 'applications']


def upgrade():
    with op.batch_alter_table('campaign_metrics_daily', schema=None) as batch_op:
        batch_op.create_index(
            'ix_campaign_metrics_daily_campaign_covering',
            ['campaign_id', 'platform', 'date'],
            unique=False,
            postgresql_include=INCLUDED,
        )


def downgrade():
    with op.batch_alter_table('campaign_metrics_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_metrics_daily_campaign_covering')
