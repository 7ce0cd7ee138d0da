"""the overview's campaign rankings, stored with the day totals

The overview ranked every campaign's rollup rows of its window on the first view in each web
process after each sync (900,000 rows for 30 days at 10,000 campaigns: 0.3-2 s). The sync now
ranks the overview's preset windows (7, 30, 90 days ending today) once, when it rebuilds the day
totals, and stores the first 50 of each. The table starts empty: until the next sync fills it the
overview ranks as before (services/campaign_rankings.py).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 23:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign_rankings",
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("engagements", sa.BigInteger(), nullable=True),
        sa.Column("spend_micros", sa.BigInteger(), nullable=False),
        sa.Column("applications", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_rankings_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("since", "until", "position", name=op.f("pk_campaign_rankings")),
    )


def downgrade():
    op.drop_table("campaign_rankings")
