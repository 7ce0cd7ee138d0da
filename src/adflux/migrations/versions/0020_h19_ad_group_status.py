"""add ad_groups.status: an ad group paused or resumed on its own (by a rule), sent to its platform

Revision ID: h19a
Revises: 0019
Create Date: 2026-12-06 17:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h19a'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ad_groups', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status', sa.String(length=20), server_default='active', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('ad_groups', schema=None) as batch_op:
        batch_op.drop_column('status')
