"""a rollup per campaign, segment and day, kept by the metrics sync; task runs by kind and end

Reports by segment and campaign (or by segment within a campaign or a job category) read the raw
per-ad-group rows: 8.2M rows for 30 days at 10,000 campaigns, 14 s. The sync now keeps one row per
campaign, segment (0: the broad audience) and day, rebuilt with the campaign rollup for the
(campaign, day) pairs it changed; this migration fills it from the rows already synced, set-based,
one month at a time. Task runs get an index by kind and end time: the health checks read the last
metrics syncs on every /api/v1/status (a scan of every task run without it).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 02:30:00

"""
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

SUMS = ['impressions', 'reach', 'clicks', 'engagements', 'spend_micros', 'applications']


def backfill_statement(where: str = '') -> str:
    """The INSERT … SELECT that fills the rollup from metrics_daily (optionally for some rows; rows
    of campaigns that no longer exist, which metrics_daily has no foreign key to refuse, are left)."""
    columns = ', '.join(SUMS)
    sums = ', '.join(f'SUM({c})' for c in SUMS)
    return (
        f'INSERT INTO campaign_segment_metrics_daily (campaign_id, date, segment_key, {columns}) '
        f'SELECT campaign_id, date, COALESCE(segment_id, 0), {sums} FROM metrics_daily '
        f'WHERE campaign_id IN (SELECT id FROM campaigns) {where} '
        'GROUP BY campaign_id, date, COALESCE(segment_id, 0)'
    )


def upgrade():
    op.create_table(
        'campaign_segment_metrics_daily',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('date', sa.Date(), nullable=False),
        sa.Column('segment_key', sa.Integer(), nullable=False),
        sa.Column('impressions', sa.BigInteger(), nullable=False),
        sa.Column('reach', sa.BigInteger(), nullable=False),
        sa.Column('clicks', sa.BigInteger(), nullable=False),
        sa.Column('engagements', sa.BigInteger(), nullable=True),
        sa.Column('spend_micros', sa.BigInteger(), nullable=False),
        sa.Column('applications', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_segment_metrics_daily_campaign_id_campaigns'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('campaign_id', 'date', 'segment_key', name=op.f('pk_campaign_segment_metrics_daily')),
    )
    op.create_index(
        'ix_campaign_segment_metrics_daily_covering',
        'campaign_segment_metrics_daily',
        ['campaign_id', 'date', 'segment_key'],
        postgresql_include=SUMS,
    )
    op.create_index('ix_task_runs_kind_finished_at', 'task_runs', ['kind', 'finished_at'])
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        op.execute(backfill_statement())
        return
    first, last = bind.execute(sa.text('SELECT min(date), max(date) FROM metrics_daily')).one()
    month = first.replace(day=1) if first else None
    while month is not None and month <= last:  # one monthly partition per statement: a bounded sort
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        bind.execute(
            sa.text(backfill_statement('AND date >= :start AND date < :end')), {'start': month, 'end': following}
        )
        month = following


def downgrade():
    op.drop_index('ix_task_runs_kind_finished_at', table_name='task_runs')
    op.drop_index('ix_campaign_segment_metrics_daily_covering', table_name='campaign_segment_metrics_daily')
    op.drop_table('campaign_segment_metrics_daily')
