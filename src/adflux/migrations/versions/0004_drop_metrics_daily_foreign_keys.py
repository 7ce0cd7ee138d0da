"""drop the foreign keys of metrics_daily (checked in bulk by upsert_metrics instead)

PostgreSQL checks a foreign key row by row: the three on metrics_daily cost ~13 s of a ~21 s
upsert of a million rows. upsert_metrics validates each batch's references in one query, and
`adflux db prune` deletes metrics before the campaigns they belong to.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:40:00

"""
from alembic import op

import adflux.models.base  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FOREIGN_KEYS = (
    ('fk_metrics_daily_ad_group_id_ad_groups', 'ad_groups', 'ad_group_id'),
    ('fk_metrics_daily_campaign_id_campaigns', 'campaigns', 'campaign_id'),
    ('fk_metrics_daily_platform_campaign_id_platform_campaigns', 'platform_campaigns', 'platform_campaign_id'),
)


def upgrade():
    with op.batch_alter_table('metrics_daily', schema=None) as batch_op:
        for name, _, _ in FOREIGN_KEYS:
            batch_op.drop_constraint(name, type_='foreignkey')


def downgrade():
    with op.batch_alter_table('metrics_daily', schema=None) as batch_op:
        for name, table, column in FOREIGN_KEYS:
            batch_op.create_foreign_key(name, table, [column], ['id'], ondelete='CASCADE')
