"""Storing postback events: values COPY must escape arrive as sent, and an event another process
stores at the same moment is acknowledged once (PostgreSQL's set-based path and its retry)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import ApplicationEvent
from adflux.services.tracking import postbacks
from conftest import TEST_DATABASE_URL


def _event(event_id: str, job: str, **extra: Any) -> dict[str, Any]:
    moment = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    return {"event_id": event_id, "job_reference": job, "occurred_at": moment, **extra}


def test_values_copy_must_escape_are_stored_as_sent(tracking_app: Flask, link: dict[str, Any]) -> None:
    utm = {"utm_source": "meta", "utm_campaign": "adflux-41", "utm_content": 'Bogotá\t"día"\\n'}
    odd = ["tab\there", "back\\slash", "new\nline", "cr\rhere", "\\N", "plain"]
    events = [_event(event_id, link["job_reference"], utm=utm) for event_id in odd]
    with tracking_app.app_context():
        result = postbacks.ingest(postbacks.parse_body({"events": events}))
        assert (result.stored, result.attributed, result.unattributed) == (6, 6, 0)
        stored = {e.event_id: e for e in db.session.scalars(select(ApplicationEvent))}
        assert sorted(stored) == sorted(odd)
        assert all(e.utm == utm and e.attribution == "utm" and e.campaign_id == 41 for e in stored.values())
        assert postbacks.ingest(postbacks.parse_body({"events": events})).duplicates == 6


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="two PostgreSQL sessions racing for one event id")
def test_an_event_stored_by_another_process_meanwhile_is_acknowledged_once(
    tracking_app: Flask, link: dict[str, Any]
) -> None:
    import psycopg

    url = str(TEST_DATABASE_URL).replace("postgresql+psycopg://", "postgresql://")
    other = psycopg.connect(url)  # another worker: has stored "ev-race", not committed yet
    other.execute(
        "INSERT INTO application_events (event_id, job_reference, occurred_at, received_at, consent,"
        " attribution) VALUES ('ev-race', %s, now(), now(), false, 'unattributed')",
        [link["job_reference"]],
    )
    results: list[Any] = []

    def ingest() -> None:
        with tracking_app.app_context():
            events = [_event("ev-race", link["job_reference"]), _event("ev-new", link["job_reference"])]
            results.append(postbacks.ingest(postbacks.parse_body({"events": events})))

    worker = threading.Thread(target=ingest)
    worker.start()
    time.sleep(1.0)  # the insert waits on the other session's uncommitted "ev-race"
    assert not results
    other.commit()
    other.close()
    worker.join(10)
    assert len(results) == 1
    assert (results[0].stored, results[0].duplicates) == (1, 1)
    with tracking_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ApplicationEvent)) == 2
