"""Tracking links, clicks, signed postbacks and attribution through the real app and database."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from adflux.extensions import db
from adflux.models import ApplicationEvent, Click
from adflux.services.tracking import clicks, signatures
from tracking_helpers import SECRET, post_signed


def _click(client: FlaskClient, code: str, query: str = "") -> dict[str, list[str]]:
    response = client.get(f"/r/{code}{query}", headers={"User-Agent": "Mozilla/5.0 test"})
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)


def _event(event_id: str, job: str, click_id: str | None = None, **extra: Any) -> dict[str, Any]:
    moment = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return {"event_id": event_id, "job_reference": job, "occurred_at": moment, "click_id": click_id, **extra}


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_click_is_recorded_with_the_platform_click_id_and_redirected(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask
) -> None:
    params = _click(anon_client, link["code"], "?fbclid=IwAR0abc")
    assert params["utm_source"] == ["meta"] and params["utm_campaign"] == ["adflux-41"]
    with tracking_app.app_context():
        click = db.session.scalars(select(Click)).one()
        assert click.click_id == params["afcid"][0]
        assert (click.campaign_id, click.platform, click.ad_group_id, click.segment_id) == (41, "meta", 7, 3)
        assert (click.platform_click_param, click.platform_click_id) == ("fbclid", "IwAR0abc")
        assert click.visitor_hash and len(click.visitor_hash) == 64


def test_an_unknown_link_is_a_404(anon_client: FlaskClient, tracking_app: Flask) -> None:
    response = anon_client.get("/r/nope1234")
    assert response.status_code == 404
    assert response.get_json()["message"] == "Enlace de seguimiento desconocido"


def test_clicks_during_a_database_failure_are_buffered_then_written(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _click(anon_client, link["code"])  # the link is now known to this process
    real_execute = db.session.execute

    def failing(statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(getattr(statement, "table", None), "name", None) == "clicks":
            raise OperationalError("INSERT INTO clicks", {}, Exception("connection refused"))
        return real_execute(statement, *args, **kwargs)

    monkeypatch.setattr(db.session, "execute", failing)
    during = [_click(anon_client, link["code"], f"?gclid=G{i}")["afcid"][0] for i in range(5)]
    monkeypatch.undo()
    with tracking_app.app_context():
        assert _count(Click) == 1
    _click(anon_client, link["code"])  # the database is back: this click also drains the buffer
    with tracking_app.app_context():
        stored = set(db.session.scalars(select(Click.click_id)))
        assert set(during) <= stored and len(stored) == 7
        assert clicks.flush_buffered_clicks() == 0


def test_a_signed_postback_is_attributed_to_its_click(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask
) -> None:
    click_id = _click(anon_client, link["code"])["afcid"][0]
    event = _event("ev-1", link["job_reference"], click_id, email_sha256="a" * 64, consent=True)
    event["occurred_at"] = datetime.now(UTC).isoformat()
    response = post_signed(anon_client, {"events": [event]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["attributed"] == 1
    with tracking_app.app_context():
        stored = db.session.scalars(select(ApplicationEvent)).one()
        assert (stored.attribution, stored.attributed_click_id) == ("attributed", click_id)
        assert (stored.campaign_id, stored.platform, stored.ad_group_id, stored.segment_id) == (
            41,
            "meta",
            7,
            3,
        )
        assert stored.day is not None and stored.consent is True


def test_duplicates_are_acknowledged_and_counted_once(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask
) -> None:
    event = _event("ev-dup", link["job_reference"])
    assert post_signed(anon_client, event).get_json()["stored"] == 1
    again = post_signed(anon_client, {"events": [event, event]})
    assert again.status_code == 200
    assert again.get_json() == {
        "received": 2,
        "stored": 0,
        "duplicates": 2,
        "attributed": 0,
        "unattributed": 0,
    }
    with tracking_app.app_context():
        assert _count(ApplicationEvent) == 1


def test_unknown_jobs_and_events_without_a_click_are_kept_unattributed(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask
) -> None:
    utm = {"utm_source": "tiktok", "utm_campaign": "adflux-41", "utm_content": "adgroup-9"}
    events = [
        _event("ev-a", "NOT-A-JOB", "0" * 32),
        _event("ev-b", link["job_reference"]),
        _event("ev-c", link["job_reference"], utm=utm),
    ]
    body = post_signed(anon_client, {"events": events}).get_json()
    assert (body["stored"], body["attributed"], body["unattributed"]) == (3, 1, 2)
    with tracking_app.app_context():
        by_id = {e.event_id: e for e in db.session.scalars(select(ApplicationEvent))}
        assert by_id["ev-a"].attribution == by_id["ev-b"].attribution == "unattributed"
        assert (by_id["ev-c"].attribution, by_id["ev-c"].platform, by_id["ev-c"].ad_group_id) == (
            "utm",
            "tiktok",
            9,
        )


def test_unsigned_wrongly_signed_stale_and_replayed_postbacks_are_401(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask
) -> None:
    event = _event("ev-s", link["job_reference"])
    assert post_signed(anon_client, event, header="").status_code == 401
    assert post_signed(anon_client, event, header="t=1,v1=00").status_code == 401
    raw = json.dumps(event).encode()
    stale = signatures.sign(SECRET, raw, int(time.time()) - 3600)
    assert post_signed(anon_client, event, header=stale).status_code == 401
    header = signatures.sign(SECRET, raw)
    first = anon_client.post("/api/v1/tracking/postbacks", data=raw, headers={signatures.HEADER: header})
    replay = anon_client.post("/api/v1/tracking/postbacks", data=raw, headers={signatures.HEADER: header})
    assert first.status_code == 200 and replay.status_code == 401
    assert "repetición" in replay.get_json()["message"]
    with tracking_app.app_context():
        assert _count(ApplicationEvent) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": "yesterday"}, "event.occurred_at"),
        ({"occurred_at": "2026-12-01T10:00:00"}, "event.occurred_at"),
        ({"job_reference": None}, "event.job_reference"),
        ({"email_sha256": "ana@example.com"}, "event.email_sha256"),
        ({"consent": "yes"}, "event.consent"),
    ],
)
def test_a_malformed_event_is_a_400_naming_the_field(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, change: dict[str, Any], field: str
) -> None:
    response = post_signed(anon_client, {**_event("ev-bad", link["job_reference"]), **change})
    assert response.status_code == 400
    assert field in response.get_json()["message"]
    with tracking_app.app_context():
        assert _count(ApplicationEvent) == 0
