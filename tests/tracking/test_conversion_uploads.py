"""Attributed applications sent to the platforms' conversion APIs: queued once, sent once, retried,
and only for candidates who consented (real app, database and loopback sandbox)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from adflux import embedded
from adflux.extensions import db
from adflux.models import ConversionUpload
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread
from adflux.services.tracking import conversions, privacy
from tracking_helpers import post_signed

EMAIL = "ana.gomez@example.co"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(server)
    yield server
    embedded.set_in_process_sandbox(None)
    server.stop()


def _apply(client: FlaskClient, link: dict[str, Any], event_id: str, *, consent: bool) -> None:
    response = client.get(f"/r/{link['code']}?fbclid=IwAR-{event_id}", headers={"User-Agent": "t"})
    click_id = parse_qs(urlsplit(response.headers["Location"]).query)["afcid"][0]
    event = {
        "event_id": event_id,
        "job_reference": link["job_reference"],
        "occurred_at": datetime.now(UTC).isoformat(),
        "click_id": click_id,
        "email_sha256": hashlib.sha256(EMAIL.encode()).hexdigest(),
        "consent": consent,
    }
    assert post_signed(client, event).get_json()["attributed"] == 1


def _uploads() -> list[tuple[str, str, int]]:
    rows = db.session.execute(
        select(ConversionUpload.platform, ConversionUpload.status, ConversionUpload.attempts)
    ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _meta_events(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return sandbox.state.all("meta", "conversion")


def test_a_consented_application_is_sent_to_its_platform_once(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, sandbox: SandboxServer
) -> None:
    _apply(anon_client, link, "ev-yes", consent=True)
    _apply(anon_client, link, "ev-no", consent=False)
    with tracking_app.app_context():
        first = conversions.send_pending()
        again = conversions.send_pending()
        assert (first.queued, first.sent) == (1, {"meta": 1})
        assert (again.queued, again.sent) == (0, {})
        assert _uploads() == [("meta", "sent", 1)]
    (kept,) = _meta_events(sandbox)
    assert kept["_received"] == 1
    event = kept["event"]
    assert event["event_id"] == "ev-yes" and event["event_name"] == "SubmitApplication"
    assert event["user_data"]["em"] == [hashlib.sha256(EMAIL.encode()).hexdigest()]
    assert event["user_data"]["fbc"].endswith(".IwAR-ev-yes")


def test_a_lost_answer_is_retried_and_the_platform_counts_it_once(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, sandbox: SandboxServer
) -> None:
    _apply(anon_client, link, "ev-drop", consent=True)
    sandbox.state.faults["meta"].drop_after_commit = 1  # the platform keeps it, the answer is lost
    with tracking_app.app_context():
        assert conversions.send_pending().sent == {"meta": 1}
        assert _uploads() == [("meta", "sent", 1)]
    (kept,) = _meta_events(sandbox)
    assert kept["_received"] == 2  # sent twice on the wire, one conversion on the platform


def test_a_refused_batch_waits_and_is_sent_when_the_platform_accepts(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, sandbox: SandboxServer
) -> None:
    _apply(anon_client, link, "ev-later", consent=True)
    sandbox.state.expire_all["meta"] = True  # the token is refused: not retryable now
    with tracking_app.app_context():
        failed = conversions.send_pending()
        assert "meta" in failed.failed and _uploads() == [("meta", "pending", 1)]
        sandbox.state.expire_all["meta"] = False
        assert conversions.send_pending().sent == {"meta": 1}
        assert _uploads() == [("meta", "sent", 2)]
    assert len(_meta_events(sandbox)) == 1


def test_after_max_attempts_an_upload_is_failed_and_left_alone(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, sandbox: SandboxServer
) -> None:
    _apply(anon_client, link, "ev-never", consent=True)
    sandbox.state.expire_all["meta"] = True
    with tracking_app.app_context():
        for _ in range(conversions.MAX_ATTEMPTS + 2):
            conversions.send_pending()
        (upload,) = db.session.scalars(select(ConversionUpload)).all()
        assert (upload.status, upload.attempts) == ("failed", conversions.MAX_ATTEMPTS)
        assert upload.error  # the platform's refusal, kept for the operator
    assert _meta_events(sandbox) == []


def test_an_erased_candidate_is_never_sent(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, sandbox: SandboxServer
) -> None:
    _apply(anon_client, link, "ev-erased", consent=True)
    with tracking_app.app_context():
        assert conversions.queue_conversions() == 1
        assert privacy.erase(email=EMAIL) == 1
        report = conversions.send_pending()
        assert report.queued == 0 and report.sent == {}
        assert _uploads() == []
    assert _meta_events(sandbox) == []


def test_the_api_and_cli_show_and_send_conversions(
    anon_client: FlaskClient,
    client_as: Any,
    cli: Any,
    link: dict[str, Any],
    tracking_app: Flask,
    sandbox: SandboxServer,
) -> None:
    _apply(anon_client, link, "ev-api", consent=True)
    assert client_as("viewer").post("/api/v1/tracking/conversions").status_code == 403
    sent = client_as("manager").post("/api/v1/tracking/conversions")
    assert sent.status_code == 200 and sent.get_json()["sent"] == {"meta": 1}
    assert client_as("viewer").get("/api/v1/tracking/conversions").get_json() == {"meta": {"sent": 1}}
    _apply(anon_client, link, "ev-cli", consent=True)
    result = cli("tracking", "conversions", "--send")
    assert result.exit_code == 0, result.output
    assert "En cola: 1; enviadas: 1" in result.output
    assert "Meta" in result.output and "Enviadas" in result.output
    assert len(_meta_events(sandbox)) == 2


def test_the_beat_sends_conversions_every_minute_through_the_task(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, sandbox: SandboxServer
) -> None:
    from adflux.tasks.schedule import beat_schedule
    from adflux.tasks.tracking import send_conversions

    _apply(anon_client, link, "ev-beat", consent=True)
    with tracking_app.app_context():
        entry = beat_schedule(tracking_app.extensions["adflux_settings"])["send-conversions"]
    assert entry["task"] == send_conversions.name and entry["options"]["queue"] == "maintenance"
    assert send_conversions.apply().get()["sent"] == {"meta": 1}
    assert len(_meta_events(sandbox)) == 1
