"""Migration 0031 fills the campaign x segment x day rollup from the rows already synced."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect, text

from adflux.app import create_app
from adflux.extensions import db
from adflux.services import metric_partitions
from adflux.services.database import upgrade_database
from adflux.settings import Settings
from factories import make_job
from test_migrations import empty_postgres_database  # noqa: F401  (fixture)

# (ad group, day, segment, clicks): two months, two segments and the broad audience (None).
RAW = [
    (1, date(2026, 10, 31), 5, 10),
    (2, date(2026, 10, 31), 5, 20),
    (3, date(2026, 10, 31), None, 7),
    (1, date(2026, 11, 1), 5, 1),
    (4, date(2026, 11, 1), 6, 2),
]


def _round_trip(database_url: str, instance: str) -> None:
    from flask_migrate import downgrade

    app = create_app(Settings.from_env({}, env="testing", database_url=database_url, instance_path=instance))
    with app.app_context():
        upgrade_database(revision="0030")
        job = make_job()
        # The campaign as the schema at 0030 has it (the model now has later columns: 0032's search_text).
        campaign_id = db.session.execute(
            text(
                "INSERT INTO campaigns (job_id, name, objective, budget_total, start_date, status,"
                " created_at, updated_at) VALUES (:job, 'c', 'traffic', 1, :start, 'draft',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"
            ),
            {"job": job.id, "start": date(2026, 10, 1)},
        ).scalar_one()
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            metric_partitions.ensure_months({day for _, day, _, _ in RAW})
            db.session.commit()
        with db.engine.begin() as conn:
            for ad_group, day, segment, clicks in RAW:
                for campaign in (campaign_id, campaign_id + 1000):  # the second: a campaign long gone
                    conn.execute(
                        text(
                            "INSERT INTO metrics_daily (ad_group_id, date, platform_campaign_id, campaign_id,"
                            " platform, segment_id, impressions, reach, clicks, engagements, spend_micros,"
                            " applications, synced_at) VALUES (:a + :c, :d, 1, :c, 'meta', :s, 100, 90, :k,"
                            " NULL, :k * 1000, 1, CURRENT_TIMESTAMP)"
                        ),
                        {"a": ad_group, "c": campaign, "d": day, "s": segment, "k": clicks},
                    )
        db.session.remove()
        upgrade_database(revision="0031")
        with db.engine.connect() as conn:
            stored = conn.execute(
                text(
                    "SELECT campaign_id, date, segment_key, clicks, spend_micros, applications, engagements"
                    " FROM campaign_segment_metrics_daily ORDER BY date, segment_key"
                )
            ).all()
        day = ["2026-10-31", "2026-11-01"]  # as text: SQLite gives dates back as text
        assert [(row[0], str(row[1]), *row[2:]) for row in stored] == [
            (campaign_id, day[0], 0, 7, 7000, 1, None),
            (campaign_id, day[0], 5, 30, 30000, 2, None),
            (campaign_id, day[1], 5, 1, 1000, 1, None),
            (campaign_id, day[1], 6, 2, 2000, 1, None),
        ]
        downgrade(revision="0030")
        with db.engine.connect() as conn:
            assert "campaign_segment_metrics_daily" not in inspect(conn).get_table_names()
        db.engine.dispose()


def test_the_campaign_segment_rollup_is_filled_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 's.db'}", str(tmp_path))


@pytest.mark.postgres
def test_the_campaign_segment_rollup_is_filled_on_postgres(empty_postgres_database, tmp_path):  # noqa: F811
    _round_trip(empty_postgres_database, str(tmp_path))
