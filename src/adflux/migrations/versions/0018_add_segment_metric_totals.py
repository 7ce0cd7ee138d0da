"""add segment metric totals

Revision ID: 0018
Revises: 0010
Create Date: 2026-12-06 15:20:00

Segment reports read raw metrics_daily (~1 s at 8M rows); this rollup per day, platform and
segment is refreshed once per sync. Filled here from the rows already synced.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "segment_metrics_daily",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("segment_key", sa.Integer(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("engagements", sa.BigInteger(), nullable=True),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("applications", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("date", "platform", "segment_key", name=op.f("pk_segment_metrics_daily")),
    )
    op.execute(
        "INSERT INTO segment_metrics_daily (date, platform, segment_key, impressions, reach, clicks, "
        "engagements, spend_micros, applications) "
        "SELECT date, platform, COALESCE(segment_id, 0), SUM(impressions), SUM(reach), SUM(clicks), "
        "SUM(engagements), SUM(spend_micros), SUM(applications) FROM metrics_daily "
        "GROUP BY date, platform, COALESCE(segment_id, 0)"
    )


def downgrade():
    op.drop_table("segment_metrics_daily")
