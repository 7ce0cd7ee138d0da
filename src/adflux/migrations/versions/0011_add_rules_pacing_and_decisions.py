"""rules, campaign pacing settings and the optimization decision log

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:20:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('template', sa.String(length=30), nullable=True),
        sa.Column('level', sa.String(length=20), nullable=False),
        sa.Column('spec', JSON, nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=True),
        sa.Column('last_evaluated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'campaign_pacing',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('mode', sa.String(length=20), nullable=False),
        sa.Column('monthly_cap', sa.BigInteger(), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id'),
    )
    op.create_table(
        'optimization_decisions',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('platform_campaign_id', sa.Integer(), nullable=True),
        sa.Column('ad_group_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('budget_before', sa.BigInteger(), nullable=True),
        sa.Column('budget_after', sa.BigInteger(), nullable=True),
        sa.Column('evidence', JSON, nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['rule_id'], ['rules.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_optimization_decisions_campaign_decided', 'optimization_decisions',
                    ['campaign_id', 'decided_at'])
    op.create_index('ix_optimization_decisions_rule_decided', 'optimization_decisions', ['rule_id', 'decided_at'])


def downgrade():
    op.drop_index('ix_optimization_decisions_rule_decided', table_name='optimization_decisions')
    op.drop_index('ix_optimization_decisions_campaign_decided', table_name='optimization_decisions')
    op.drop_table('optimization_decisions')
    op.drop_table('campaign_pacing')
    op.drop_table('rules')
