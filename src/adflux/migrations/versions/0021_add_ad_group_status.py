"""ad groups get a status: a segment removed from a live campaign keeps its ad group, paused

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:50:00

"active" (the default, every existing row), "paused" (by a rule or by hand, under a live campaign)
or "removed" (its segment was taken off the campaign: paused at the platform, kept for its history
and metrics, never switched on again).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ad_groups") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="active"))


def downgrade():
    with op.batch_alter_table("ad_groups") as batch:
        batch.drop_column("status")
