"""add tracking_links, clicks, application_events and conversion_uploads (first-hand applications)

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-06 15:40:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from adflux.models.base import UTCDateTime

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    op.create_table(
        "tracking_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(16), nullable=False, unique=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ad_group_id", sa.Integer()),
        sa.Column("segment_id", sa.Integer()),
        sa.Column("creative_id", sa.Integer()),
        sa.Column("job_reference", sa.String(128)),
        sa.Column("destination_url", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "ix_tracking_links_ad_group", "tracking_links", ["campaign_id", "platform", "ad_group_id"]
    )
    op.create_table(
        "clicks",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("click_id", sa.String(32), nullable=False, unique=True),
        sa.Column("link_code", sa.String(16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ad_group_id", sa.Integer()),
        sa.Column("segment_id", sa.Integer()),
        sa.Column("creative_id", sa.Integer()),
        sa.Column("platform_click_param", sa.String(10)),
        sa.Column("platform_click_id", sa.String(255)),
        sa.Column("visitor_hash", sa.String(64)),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_clicks_at", "clicks", ["at"])
    op.create_index("ix_clicks_visitor_at", "clicks", ["visitor_hash", "at"])
    op.create_table(
        "application_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("event_id", sa.String(128), nullable=False, unique=True),
        sa.Column("job_reference", sa.String(128), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("click_id", sa.String(32)),
        sa.Column("utm", JSONType),
        sa.Column("email_hash", sa.String(64)),
        sa.Column("phone_hash", sa.String(64)),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("attribution", sa.String(14), nullable=False),
        sa.Column("attributed_click_id", sa.String(32)),
        sa.Column("campaign_id", sa.Integer()),
        sa.Column("platform", sa.String(20)),
        sa.Column("ad_group_id", sa.Integer()),
        sa.Column("segment_id", sa.Integer()),
        sa.Column("day", sa.Date()),
    )
    op.create_index("ix_application_events_campaign_day", "application_events", ["campaign_id", "day"])
    op.create_index("ix_application_events_received_at", "application_events", ["received_at"])
    op.create_index("ix_application_events_email_hash", "application_events", ["email_hash"])
    op.create_table(
        "conversion_uploads",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "application_event_id",
            BigId,
            sa.ForeignKey("application_events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("error", sa.Text()),
        sa.UniqueConstraint("application_event_id", "platform", name="uq_conversion_uploads_event_platform"),
    )
    op.create_index("ix_conversion_uploads_status", "conversion_uploads", ["status"])


def downgrade():
    op.drop_table("conversion_uploads")
    op.drop_table("application_events")
    op.drop_table("clicks")
    op.drop_table("tracking_links")
