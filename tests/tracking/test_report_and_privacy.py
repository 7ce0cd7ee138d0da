"""First-hand report beside the platforms' figures, retention prune and erasure (API + CLI, audited)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import ApplicationEvent, AuditEvent, Campaign, Click, JobOpening, MetricDaily
from adflux.services import local_dates, metrics_store
from adflux.services.tracking import postbacks, privacy

EMAIL_HASH = hashlib.sha256(b"ana.perez@example.com").hexdigest()


def _ingest(job: str, *events: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "event_id": e["id"],
            "job_reference": job,
            "occurred_at": now - timedelta(hours=1),
            "received_at": e.get("received_at", now),
            "click_id": None,
            "utm": e.get("utm"),
            "email_hash": e.get("email_hash"),
            "phone_hash": None,
            "consent": True,
        }
        for e in events
    ]
    postbacks.ingest(rows)


UTM = {"utm_source": "meta", "utm_campaign": "adflux-41", "utm_content": "adgroup-7"}


def _synced(row: MetricDaily) -> None:
    """A platform's row for campaign 41 as the sync stores it: the raw row and its rollup (the
    report reads the campaign rollup)."""
    if db.session.get(Campaign, 41) is None:
        job_id = db.session.scalar(select(JobOpening.id).where(JobOpening.external_ref == "JOB-T-1"))
        db.session.add(Campaign(id=41, job_id=job_id, name="Campaña 41", objective="traffic",
                                budget_total=10_000_000, start_date=row.date, status="active"))  # fmt: skip
        db.session.flush()
    db.session.add(row)
    db.session.flush()
    metrics_store.refresh_rollups_for([(41, row.date)])


def test_the_report_puts_first_hand_applications_and_cpa_beside_the_platforms(
    client: FlaskClient, link: dict[str, Any], tracking_app: Flask
) -> None:
    with tracking_app.app_context():
        day = local_dates.today()  # the report's default window: the last 30 Bogotá days
        _synced(
            MetricDaily(
                ad_group_id=7,
                date=day,
                platform_campaign_id=1,
                campaign_id=41,
                platform="meta",
                clicks=90,
                spend_micros=300_000 * 1_000_000,
                applications=10,
            )
        )
        db.session.commit()
        _ingest(link["job_reference"], *({"id": f"ev-{i}", "utm": UTM} for i in range(6)), {"id": "ev-x"})
    body = client.get("/api/v1/tracking/report").get_json()
    assert body["unattributed"] == 1
    (row,) = body["rows"]
    assert (row["applications_platform"], row["applications_first_hand"], row["applications_gap"]) == (
        10,
        6,
        4,
    )
    assert (row["cpa_platform"], row["cpa_first_hand"]) == (30_000, 50_000)


def test_the_cli_report_is_in_spanish_with_pesos(
    cli: Callable[..., Any], link: dict[str, Any], tracking_app: Flask
) -> None:
    with tracking_app.app_context():
        _synced(
            MetricDaily(
                ad_group_id=7,
                date=datetime.now(UTC).date(),
                platform_campaign_id=1,
                campaign_id=41,
                platform="meta",
                spend_micros=1_023 * 3 * 1_000_000,
                applications=1,
            )
        )
        db.session.commit()
        _ingest(link["job_reference"], *({"id": f"ev-{i}", "utm": UTM} for i in range(3)))
    result = cli("tracking", "report")
    assert result.exit_code == 0, result.output
    assert "propias" in result.output and "$ 1.023" in result.output and "Meta" in result.output


def test_prune_deletes_only_what_is_older_than_the_retention(
    link: dict[str, Any], tracking_app: Flask
) -> None:
    with tracking_app.app_context():
        old = datetime.now(UTC) - timedelta(days=200)
        _ingest(link["job_reference"], {"id": "old", "received_at": old}, {"id": "new"})
        db.session.add(
            Click(click_id="c" * 32, link_code=link["code"], campaign_id=41, platform="meta", at=old)
        )
        db.session.commit()
        assert privacy.prune(retention_days=180).__dict__ == {"clicks": 1, "events": 1}
        assert list(db.session.scalars(select(ApplicationEvent.event_id))) == ["new"]


def test_erasure_by_api_removes_the_identifiers_keeps_the_count_and_is_audited(
    client: FlaskClient, client_as: Callable[..., FlaskClient], link: dict[str, Any], tracking_app: Flask
) -> None:
    with tracking_app.app_context():
        _ingest(link["job_reference"], {"id": "ev-1", "email_hash": EMAIL_HASH}, {"id": "ev-2"})
    assert client_as("manager").post("/api/v1/tracking/erasures", json={"email": "x@y.co"}).status_code == 403
    response = client.post("/api/v1/tracking/erasures", json={"email": "  Ana.Perez@Example.com "})
    assert response.status_code == 200 and response.get_json() == {"application_events": 1}
    assert client.post("/api/v1/tracking/erasures", json={"email": 5}).status_code == 400
    with tracking_app.app_context():
        assert db.session.scalar(select(func.count()).where(ApplicationEvent.email_hash.is_not(None))) == 0
        assert db.session.scalar(select(func.count()).select_from(ApplicationEvent)) == 2
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "tracking.erase")).one()
        assert audit.after == {"application_events": 1, "by": ["email"]}
        assert EMAIL_HASH not in json.dumps(audit.after)


def test_erasure_by_cli(cli: Callable[..., Any], link: dict[str, Any], tracking_app: Flask) -> None:
    with tracking_app.app_context():
        _ingest(link["job_reference"], {"id": "ev-1", "email_hash": EMAIL_HASH})
    result = cli("tracking", "erase", "--email", "ana.perez@example.com")
    assert result.exit_code == 0, result.output
    assert "borrados de 1 postulaciones" in result.output
    assert cli("tracking", "erase").exit_code != 0


def test_the_beat_prunes_tracking_data_and_flushes_buffered_clicks(
    link: dict[str, Any], tracking_app: Flask
) -> None:
    from adflux.tasks.schedule import beat_schedule
    from adflux.tasks.tracking import flush_clicks, prune_tracking

    with tracking_app.app_context():
        old = datetime.now(UTC) - timedelta(days=181)
        _ingest(link["job_reference"], {"id": "old", "received_at": old})
        schedule = beat_schedule(tracking_app.extensions["adflux_settings"])
    assert schedule["flush-buffered-clicks"]["task"] == flush_clicks.name
    assert prune_tracking.apply().get() == {"clicks": 0, "events": 1}
    assert flush_clicks.apply().get() == {"written": 0}
