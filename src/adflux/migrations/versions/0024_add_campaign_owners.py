"""campaign owners and what they have been told (owner_notifications)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 17:30:00

`campaigns.owner_id` names who answers for a campaign (None: its creator). `owner_notifications`
keeps one row per event told to an owner, unique by event, so a sweep never sends it twice.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_campaigns_owner_id_users"), "users", ["owner_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "owner_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("details", JSON, nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("channels", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_owner_notifications_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_owner_notifications_owner_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owner_notifications")),
        sa.UniqueConstraint("event_key", name=op.f("uq_owner_notifications_event_key")),
    )
    op.create_index("ix_owner_notifications_status", "owner_notifications", ["status"])


def downgrade():
    op.drop_index("ix_owner_notifications_status", table_name="owner_notifications")
    op.drop_table("owner_notifications")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_campaigns_owner_id_users"), type_="foreignkey")
        batch_op.drop_column("owner_id")
