"""job feeds, feed runs and playbooks; job openings know their feed, content hash and expiry;
campaigns know their playbook, approval and automation hold

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:10:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from adflux.models.versions import create_statements

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'job_feeds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('location', sa.String(length=1000), nullable=False),
        sa.Column('format', sa.String(length=10), nullable=False),
        sa.Column('mapping', JSON, nullable=False),
        sa.Column('interval_minutes', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('max_shrink', sa.Float(), nullable=False),
        sa.Column('etag', sa.String(length=300), nullable=True),
        sa.Column('last_modified', sa.String(length=100), nullable=True),
        sa.Column('content_sha256', sa.String(length=64), nullable=True),
        sa.Column('last_count', sa.Integer(), nullable=True),
        sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status', sa.String(length=20), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'feed_runs',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('feed_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('trigger', sa.String(length=20), nullable=False),
        sa.Column('listed', sa.Integer(), nullable=False),
        sa.Column('new', sa.Integer(), nullable=False),
        sa.Column('changed', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('closed', sa.Integer(), nullable=False),
        sa.Column('reopened', sa.Integer(), nullable=False),
        sa.Column('rejected', sa.Integer(), nullable=False),
        sa.Column('bytes_read', sa.BigInteger(), nullable=False),
        sa.Column('errors', JSON, nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['feed_id'], ['job_feeds.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_feed_runs_feed_id_id', 'feed_runs', ['feed_id', 'id'], unique=False)
    op.create_table(
        'playbooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('conditions', JSON, nullable=False),
        sa.Column('platforms', JSON, nullable=False),
        sa.Column('segment_ids', JSON, nullable=False),
        sa.Column('best_segments', sa.Integer(), nullable=True),
        sa.Column('budget_total', sa.BigInteger(), nullable=True),
        sa.Column('budget_formula', sa.String(length=300), nullable=True),
        sa.Column('budget_daily', sa.BigInteger(), nullable=True),
        sa.Column('flight_days', sa.Integer(), nullable=True),
        sa.Column('target_cpa', sa.BigInteger(), nullable=True),
        sa.Column('objective', sa.String(length=20), nullable=False),
        sa.Column('requires_approval', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    with op.batch_alter_table('job_openings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('close_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('feed_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('content_hash', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            'fk_job_openings_feed_id_job_feeds', 'job_feeds', ['feed_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_index('ix_job_openings_feed_id', ['feed_id'], unique=False)
    _restore_data_version_triggers()
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('playbook_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approval_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('approval_note', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('automation_hold', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            'fk_campaigns_playbook_id_playbooks', 'playbooks', ['playbook_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_index('ix_campaigns_approval_status', ['approval_status'], unique=False)


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_approval_status')
        batch_op.drop_constraint('fk_campaigns_playbook_id_playbooks', type_='foreignkey')
        batch_op.drop_column('automation_hold')
        batch_op.drop_column('approval_note')
        batch_op.drop_column('approval_status')
        batch_op.drop_column('playbook_id')
    with op.batch_alter_table('job_openings', schema=None) as batch_op:
        batch_op.drop_index('ix_job_openings_feed_id')
        batch_op.drop_constraint('fk_job_openings_feed_id_job_feeds', type_='foreignkey')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('content_hash')
        batch_op.drop_column('feed_id')
        batch_op.drop_column('close_reason')
    _restore_data_version_triggers()
    op.drop_table('playbooks')
    op.drop_index('ix_feed_runs_feed_id_id', table_name='feed_runs')
    op.drop_table('feed_runs')
    op.drop_table('job_feeds')


def _restore_data_version_triggers():
    """SQLite's batch mode rebuilds job_openings, and a rebuilt table has lost its triggers (0006)."""
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in create_statements(dialect, 'job_openings'):
            op.execute(statement)
