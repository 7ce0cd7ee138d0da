"""add platform objects: each id a platform created is linked to one platform campaign

A unique key on (platform, account_ref, external_id) makes AdFlux refuse an id a platform hands
out twice (as a sandbox that forgot its objects did: three campaigns shared one Meta id and its
spend). Existing links are copied from platform_campaigns.external_ids; where two campaigns
already share an id, the first (lowest id) keeps it and the others are logged.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 10:00:00

"""
import json
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import adflux.models.base
from adflux.constants import SANDBOX_ACCOUNTS

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")


def upgrade():
    table = op.create_table(
        'platform_objects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('account_ref', sa.String(length=64), nullable=False),
        sa.Column('external_id', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('platform_campaign_id', sa.Integer(), nullable=False),
        sa.Column('created_at', adflux.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['platform_campaign_id'], ['platform_campaigns.id'],
            name=op.f('fk_platform_objects_platform_campaign_id_platform_campaigns'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_objects')),
        sa.UniqueConstraint(
            'platform', 'account_ref', 'external_id',
            name=op.f('uq_platform_objects_platform_account_ref_external_id'),
        ),
    )
    with op.batch_alter_table('platform_objects', schema=None) as batch_op:
        batch_op.create_index('ix_platform_objects_platform_campaign_id', ['platform_campaign_id'], unique=False)
    _copy_existing_links(table)


def _copy_existing_links(table):
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT pc.id, pc.platform, pc.external_ids, a.external_account_id"
        " FROM platform_campaigns pc LEFT JOIN platform_accounts a ON a.id = pc.account_id"
        " WHERE pc.external_campaign_id IS NOT NULL ORDER BY pc.id"
    )).all()
    seen = {}
    links = []
    now = datetime.now(UTC)
    for pc_id, platform, external_ids, account in rows:
        ids = json.loads(external_ids) if isinstance(external_ids, str) else (external_ids or {})
        account_ref = account or SANDBOX_ACCOUNTS.get(platform, {}).get('account_id', '')
        for kind, external_id in _objects(ids):
            key = (platform, account_ref, external_id)
            if key in seen:
                logger.warning(
                    "%s id %s is linked to platform campaigns %s and %s: kept for %s",
                    platform, external_id, seen[key], pc_id, seen[key],
                )
                continue
            seen[key] = pc_id
            links.append({
                'platform': platform, 'account_ref': account_ref, 'external_id': external_id,
                'kind': kind, 'platform_campaign_id': pc_id, 'created_at': now,
            })
    if links:
        op.bulk_insert(table, links)


def _objects(ids):
    if ids.get('campaign_id'):
        yield 'campaign', str(ids['campaign_id'])
    for value in (ids.get('ad_groups') or {}).values():
        yield 'ad_group', str(value)
    if ids.get('creative_id'):
        yield 'creative', str(ids['creative_id'])
    for value in (ids.get('ads') or {}).values():
        yield 'ad', str(value)


def downgrade():
    with op.batch_alter_table('platform_objects', schema=None) as batch_op:
        batch_op.drop_index('ix_platform_objects_platform_campaign_id')
    op.drop_table('platform_objects')
