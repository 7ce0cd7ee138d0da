"""partition metrics_daily by month (PostgreSQL)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 15:30:00

The raw fact table becomes `PARTITION BY RANGE (date)` with one partition per month (named
metrics_daily_yYYYYmMM; services/metric_partitions.py makes new ones as rows arrive): retention
drops whole months, and recent reads touch recent months. The rows are copied into the new table
in one statement per month. SQLite keeps one plain table (nothing to do).
"""

from datetime import date

from alembic import op
from sqlalchemy import text

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = (
    "ad_group_id integer NOT NULL, date date NOT NULL, platform_campaign_id integer NOT NULL, "
    "campaign_id integer NOT NULL, platform varchar(20) NOT NULL, segment_id integer, "
    "impressions bigint NOT NULL, reach bigint NOT NULL, clicks bigint NOT NULL, engagements bigint, "
    "spend_micros bigint NOT NULL, applications bigint NOT NULL, synced_at timestamp with time zone NOT NULL"
)
INDEXES = (
    "CREATE INDEX ix_metrics_daily_campaign_id_date ON metrics_daily (campaign_id, date)",
    "CREATE INDEX ix_metrics_daily_date ON metrics_daily (date)",
)


def _next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _rebuild(partitioned: bool) -> None:
    bind = op.get_bind()
    op.execute("ALTER TABLE metrics_daily RENAME TO metrics_daily_old")
    op.execute("ALTER TABLE metrics_daily_old RENAME CONSTRAINT pk_metrics_daily TO pk_metrics_daily_old")
    op.execute("DROP INDEX IF EXISTS ix_metrics_daily_campaign_id_date")
    op.execute("DROP INDEX IF EXISTS ix_metrics_daily_date")
    suffix = " PARTITION BY RANGE (date)" if partitioned else ""
    op.execute(
        f"CREATE TABLE metrics_daily ({COLUMNS}, "
        f"CONSTRAINT pk_metrics_daily PRIMARY KEY (ad_group_id, date)){suffix}"
    )
    months = [
        row[0]
        for row in bind.execute(
            text("SELECT DISTINCT date_trunc('month', date)::date FROM metrics_daily_old ORDER BY 1")
        )
    ]
    for month in months:
        if partitioned:
            name = f"metrics_daily_y{month.year:04d}m{month.month:02d}"
            op.execute(
                f"CREATE TABLE {name} PARTITION OF metrics_daily "
                f"FOR VALUES FROM ('{month.isoformat()}') TO ('{_next_month(month).isoformat()}')"
            )
        op.execute(
            f"INSERT INTO metrics_daily SELECT * FROM metrics_daily_old "
            f"WHERE date >= '{month.isoformat()}' AND date < '{_next_month(month).isoformat()}'"
        )
    op.execute("DROP TABLE metrics_daily_old")
    for statement in INDEXES:
        op.execute(statement)
    op.execute("ANALYZE metrics_daily")


def _is_partitioned() -> bool:
    kind = op.get_bind().execute(text("SELECT relkind FROM pg_class WHERE relname = 'metrics_daily'")).scalar()
    return kind == "p"


def upgrade():
    if op.get_bind().dialect.name != "postgresql" or _is_partitioned():
        return
    _rebuild(partitioned=True)


def downgrade():
    if op.get_bind().dialect.name != "postgresql" or not _is_partitioned():
        return
    _rebuild(partitioned=False)
    op.execute("DO $$ DECLARE r record; BEGIN FOR r IN SELECT relname FROM pg_class "
               "WHERE relname ~ '^metrics_daily_y[0-9]{4}m[0-9]{2}$' AND relkind = 'r' "
               "LOOP EXECUTE 'DROP TABLE ' || quote_ident(r.relname); END LOOP; END $$")  # fmt: skip
