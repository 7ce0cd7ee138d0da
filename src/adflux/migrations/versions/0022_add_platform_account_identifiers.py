"""platform accounts carry each platform's identifiers (page id, login customer id, identity...)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 17:30:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('platform_accounts') as batch:
        batch.add_column(
            sa.Column(
                'identifiers',
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table('platform_accounts') as batch:
        batch.drop_column('identifiers')
