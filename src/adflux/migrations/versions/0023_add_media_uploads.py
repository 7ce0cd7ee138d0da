"""media_uploads: each image uploaded to a platform account, by content hash (uploaded once)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 18:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media_uploads',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('account_ref', sa.String(length=64), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column(
            'media',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=False,
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_uploads')),
        sa.UniqueConstraint(
            'platform', 'account_ref', 'content_hash',
            name=op.f('uq_media_uploads_platform_account_ref_content_hash'),
        ),
    )


def downgrade():
    op.drop_table('media_uploads')
