"""add platform_campaigns.update_* (in-place updates: desired vs applied revision, state, error)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:40:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('platform_campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('update_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('update_revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('applied_revision', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('update_fields', JSON, nullable=True))
        batch_op.add_column(sa.Column('update_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('update_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('updated_on_platform_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('platform_campaigns', schema=None) as batch_op:
        batch_op.drop_column('updated_on_platform_at')
        batch_op.drop_column('update_attempts')
        batch_op.drop_column('update_error')
        batch_op.drop_column('update_fields')
        batch_op.drop_column('applied_revision')
        batch_op.drop_column('update_revision')
        batch_op.drop_column('update_status')
