"""Campaign owners: settable, told once by e-mail and Slack when their campaign needs them, and the
weekly report e-mailed to managers on a schedule (local SMTP sink and webhook receiver)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

import pytest

from adflux.extensions import db
from adflux.models import Campaign, CampaignMetricDaily, OwnerNotification, User
from adflux.services import audit, metrics_store, owner_notifications, weekly_report_mail
from adflux.services.campaigns import owners
from adflux.services.errors import ValidationFailed
from adflux.tasks.schedule import beat_schedule
from ops_data import make_campaign_with_metrics


@pytest.fixture
def notify_settings(ops_settings, webhook):
    """Owner e-mails through the SMTP sink, Slack messages to the local webhook receiver."""
    return ops_settings.replace(alert_webhook_url=None, slack_webhook_url=webhook.url)


def _user(email: str, role: str = "manager") -> User:
    user = User(email=email, name=email.split("@")[0], role=role)
    db.session.add(user)
    db.session.commit()
    return user


def _owned_campaign(owner: User, **kwargs) -> Campaign:
    campaign = make_campaign_with_metrics(**kwargs)
    campaign.created_by_id = owner.id
    db.session.commit()
    return campaign


def _mails(smtp) -> list[tuple[list[str], EmailMessage]]:
    """What the sink received, parsed with the modern policy (decoded headers, get_body)."""
    return [(to, message_from_bytes(m.as_bytes(), policy=policy.default)) for _, to, m in smtp.messages]  # type: ignore[misc]


def _body(message: Message, kind: str = "plain") -> str:
    return message.get_body(preferencelist=(kind,)).get_content()  # type: ignore[attr-defined,union-attr]


def test_the_owner_is_the_creator_until_another_manager_is_given_the_campaign(app, client_as):
    with app.app_context():
        creator, other = _user("creadora@empresa.example"), _user("otro@empresa.example")
        viewer = _user("mira@empresa.example", role="viewer")
        campaign = _owned_campaign(creator)
        ids = campaign.id, creator.id, other.id, viewer.id
    campaign_id, creator_id, other_id, viewer_id = ids
    manager = client_as("manager")
    assert manager.get(f"/api/v1/campaigns/{campaign_id}").get_json()["owner_id"] == creator_id

    moved = manager.put(f"/api/v1/campaigns/{campaign_id}/owner", json={"owner": "OTRO@empresa.example"})
    assert moved.status_code == 200 and moved.get_json()["owner_id"] == other_id

    refused = manager.put(f"/api/v1/campaigns/{campaign_id}/owner", json={"owner": str(viewer_id)})
    assert refused.status_code == 422
    assert refused.get_json()["message"].startswith("mira@empresa.example no puede ser responsable")
    english = manager.put(
        f"/api/v1/campaigns/{campaign_id}/owner",
        json={"owner": "nadie@x.example"},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 404 and english.get_json()["message"] == "There is no user nadie@x.example"
    assert (
        client_as("viewer").put(f"/api/v1/campaigns/{campaign_id}/owner", json={"owner": "x"}).status_code
        == 403
    )
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).owner_id == other_id


def test_the_owner_is_told_once_by_email_and_slack_for_each_event_that_matters(
    app_ctx, notify_settings, smtp, webhook
):
    owner = _user("duena@empresa.example")
    today = datetime.now(UTC).date()
    spent = _owned_campaign(owner, days=[(today, 3_000_000, 4), (today - timedelta(days=1), 2_100_000, 3)])
    for pc in spent.platform_campaigns:
        db.session.add(CampaignMetricDaily(campaign_id=spent.id, platform=pc.platform, date=today,
                                           spend_micros=5_100_000 * 1_000_000, applications=7))  # fmt: skip
    failed = _owned_campaign(owner, status="failed")
    failed.platform_campaigns[0].status, failed.platform_campaigns[0].last_error = "failed", "token vencido"
    ruled, closed = _owned_campaign(owner), _owned_campaign(owner)
    audit.record("campaign.status", entity_type="campaign", entity_id=failed.id, after={"status": "failed"})
    audit.record("rules.pause", entity_type="campaign", entity_id=ruled.id,
                 after={"rule": "CPA alto", "status": "applied"})  # fmt: skip
    audit.record(
        "rules.pause", entity_type="campaign", entity_id=ruled.id, after={"rule": "x", "status": "failed"}
    )
    audit.record("automation.paused", entity_type="campaign", entity_id=closed.id,
                 after={"reason": "oferta cerrada 06/12/2026"})  # fmt: skip
    audit.record("campaign.pause", entity_type="campaign", entity_id=closed.id, after={"status": "paused"})
    db.session.commit()

    sweep = owner_notifications.notify_owners(notify_settings)
    assert sweep.as_dict() == {"found": 4, "sent": 4, "failed": 0}
    subjects = sorted(m["Subject"] for _, m in _mails(smtp))
    assert subjects == sorted(
        [
            f"[AdFlux] Presupuesto agotado: {spent.name}",
            f"[AdFlux] Falló la publicación: {failed.name}",
            f"[AdFlux] Pausada por una regla: {ruled.name}",
            f"[AdFlux] Oferta cerrada: {closed.name}",
        ]
    )
    assert {tuple(recipients) for recipients, _ in _mails(smtp)} == {("duena@empresa.example",)}
    bodies = {m["Subject"]: _body(m) for _, m in _mails(smtp)}
    assert (
        "Ha gastado $ 5.100.000 de su presupuesto de $ 5.000.000."
        in bodies[f"[AdFlux] Presupuesto agotado: {spent.name}"]
    )
    assert "Meta: token vencido" in bodies[f"[AdFlux] Falló la publicación: {failed.name}"]
    assert "La regla «CPA alto» pausó la campaña." in bodies[f"[AdFlux] Pausada por una regla: {ruled.name}"]
    assert "la campaña quedó pausada" in bodies[f"[AdFlux] Oferta cerrada: {closed.name}"]
    # Slack's own message format: text for notifications, blocks for the message itself.
    assert len(webhook.bodies) == 4
    for body in webhook.bodies:
        assert set(body) >= {"text", "blocks"} and body["blocks"][0]["type"] == "header"
        assert "Responsable: duena@empresa.example" in body["blocks"][1]["text"]["text"]

    again = owner_notifications.notify_owners(notify_settings)
    assert again.as_dict() == {"found": 0, "sent": 0, "failed": 0}
    assert len(smtp.messages) == 4 and len(webhook.bodies) == 4


def test_a_slack_send_that_fails_is_retried_on_the_next_sweep(app_ctx, notify_settings, webhook, smtp):
    owner = _user("reintento@empresa.example")
    campaign = _owned_campaign(owner)
    audit.record("automation.archived", entity_type="campaign", entity_id=campaign.id, after={"reason": "r"})
    db.session.commit()
    webhook.fail_next = 1
    assert owner_notifications.notify_owners(notify_settings).as_dict() == {
        "found": 1,
        "sent": 0,
        "failed": 1,
    }
    assert owner_notifications.notify_owners(notify_settings).as_dict() == {
        "found": 0,
        "sent": 1,
        "failed": 0,
    }
    note = db.session.query(OwnerNotification).one()
    assert note.status == "sent" and note.attempts == 2 and note.channels == ["email", "slack"]
    assert "la campaña quedó archivada" in webhook.bodies[0]["text"]


def test_a_campaign_without_owner_or_channel_is_skipped_not_retried(app_ctx, ops_settings, smtp):
    campaign = make_campaign_with_metrics()
    audit.record("automation.paused", entity_type="campaign", entity_id=campaign.id, after={})
    db.session.commit()
    settings = ops_settings.replace(alert_webhook_url=None, slack_webhook_url=None)
    assert owner_notifications.notify_owners(settings).as_dict() == {"found": 1, "sent": 0, "failed": 0}
    assert db.session.query(OwnerNotification).one().status == "skipped" and smtp.messages == []


def test_only_active_managers_and_admins_can_own(app_ctx):
    campaign = make_campaign_with_metrics()
    viewer = _user("solo-mira@empresa.example", role="viewer")
    with pytest.raises(ValidationFailed):
        owners.set_owner(campaign_id=campaign.id, owner=viewer.id)
    admin = _user("jefa@empresa.example", role="admin")
    assert owners.set_owner(campaign_id=campaign.id, owner="jefa@empresa.example").owner_id == admin.id


def test_the_weekly_report_is_emailed_to_managers_with_its_chart(app_ctx, ops_settings, smtp):
    _user("gerente@empresa.example")
    _user("admin@empresa.example", role="admin")
    _user("lector@empresa.example", role="viewer")
    monday = date(2026, 11, 23)
    campaign = make_campaign_with_metrics()
    for n, spend in enumerate([100_000, 250_000, 0, 1_023_400]):
        day = monday + timedelta(days=n)
        db.session.add(CampaignMetricDaily(campaign_id=campaign.id, platform="meta", date=day,
                                           spend_micros=spend * 1_000_000, applications=n))  # fmt: skip
    db.session.flush()
    # The report sums the day totals the sync keeps from these rows: kept here as the sync does.
    metrics_store.refresh_day_totals([monday + timedelta(days=n) for n in range(4)])
    db.session.commit()
    settings = ops_settings.replace(weekly_report_to="direccion@empresa.example")

    result = weekly_report_mail.send_weekly_report(settings, week_of=monday + timedelta(days=3))
    assert result == {"sent": True, "recipients": 3, "week_start": "2026-11-23"}
    ((recipients, message),) = _mails(smtp)
    assert recipients == ["admin@empresa.example", "gerente@empresa.example", "direccion@empresa.example"]
    assert message["Subject"] == "Informe semanal de AdFlux: del 23/11/2026 al 29/11/2026"
    text = _body(message)
    assert "Inversión: $ 1.373.400" in text and "Postulaciones: 6" in text
    assert "Costo por postulación: $ 228.900" in text and "26/11/2026: $ 1.023.400" in text
    html = _body(message, "html")
    assert (
        "<html lang='es-CO'>" in html
        and "src='cid:weekly-spend'" in html
        and "alt='Inversión por día" in html
    )
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<weekly-spend>"
    assert images[0].get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"


def test_beat_sweeps_owners_every_minute_and_mails_the_report_on_monday_morning(app):
    schedule = beat_schedule(app.extensions["adflux_settings"])
    assert schedule["notify-campaign-owners"]["task"] == "adflux.tasks.notifications.notify_owners"
    assert schedule["notify-campaign-owners"]["schedule"] == timedelta(minutes=1)
    weekly = schedule["email-weekly-report"]["schedule"]
    assert weekly.hour == {13} and weekly.minute == {0} and weekly.day_of_week == {1}


def test_the_weekly_report_task_runs_through_celery(app, app_ctx, ops_settings, smtp):
    _user("gerente2@empresa.example")
    from adflux.tasks.notifications import email_weekly_report

    result = email_weekly_report.delay().get(timeout=30)
    assert result["sent"] is True and result["recipients"] == 1
    assert smtp.messages[0][1] == ["gerente2@empresa.example"]


def test_cli_gives_a_campaign_to_another_owner(app_ctx, cli):
    campaign = make_campaign_with_metrics()
    owner = _user("nueva@empresa.example")
    out = cli("--json", "campaign", "set-owner", str(campaign.id), "nueva@empresa.example")
    assert out.exit_code == 0, out.output
    assert f'"owner_id": {owner.id}' in out.output
    bad = cli("campaign", "set-owner", str(campaign.id), "nadie@empresa.example")
    assert bad.exit_code != 0 and "No hay ningún usuario nadie@empresa.example" in bad.output
