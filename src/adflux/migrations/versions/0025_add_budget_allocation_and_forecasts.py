"""budget allocation settings, the allocation log with propensities, forecast model versions

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 17:40:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'campaign_allocation',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('min_share', sa.Float(), nullable=False),
        sa.Column('max_move', sa.Float(), nullable=False),
        sa.Column('explore', sa.Float(), nullable=False),
        sa.Column('updated_by', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id'),
    )
    op.create_table(
        'allocation_entries',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('ad_group_id', sa.Integer(), nullable=False),
        sa.Column('platform_campaign_id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('pool', sa.BigInteger(), nullable=False),
        sa.Column('budget_before', sa.BigInteger(), nullable=False),
        sa.Column('budget_after', sa.BigInteger(), nullable=False),
        sa.Column('share_level', sa.Integer(), nullable=False),
        sa.Column('propensity', sa.Float(), nullable=False),
        sa.Column('explored', sa.Boolean(), nullable=False),
        sa.Column('expected_cpa', sa.BigInteger(), nullable=True),
        sa.Column('compared_ad_group_id', sa.Integer(), nullable=True),
        sa.Column('compared_cpa', sa.BigInteger(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('evidence', JSON, nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ad_group_id'], ['ad_groups.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'day', 'ad_group_id', name='uq_allocation_entries_campaign_day_group'),
    )
    op.create_index('ix_allocation_entries_campaign_day', 'allocation_entries', ['campaign_id', 'day'])
    op.create_table(
        'forecast_models',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('metrics', JSON, nullable=False),
        sa.Column('training_size', sa.Integer(), nullable=False),
        sa.Column('library_versions', JSON, nullable=False),
        sa.Column('artifact_uri', sa.String(length=500), nullable=False),
        sa.Column('artifact_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('version'),
    )
    op.create_index('ix_forecast_models_status', 'forecast_models', ['status'])


def downgrade():
    op.drop_index('ix_forecast_models_status', table_name='forecast_models')
    op.drop_table('forecast_models')
    op.drop_index('ix_allocation_entries_campaign_day', table_name='allocation_entries')
    op.drop_table('allocation_entries')
    op.drop_table('campaign_allocation')
