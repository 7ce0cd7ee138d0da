"""A rule's notify action sends a Spanish notice through the alert channels (local receivers)."""

from __future__ import annotations

from datetime import date, timedelta
from email.header import decode_header, make_header

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import OptimizationDecision, Rule
from adflux.services.rules import evaluation
from ops.test_alert_sms import SmsGateway, gateway  # noqa: F401  (the gateway fixture)
from ops_data import make_campaign_with_metrics

TODAY = date.today()


def _campaign_and_rule(window: int = 3) -> tuple[int, int]:
    days = [(TODAY - timedelta(days=d), 120_000, 1) for d in range(1, 8)]
    campaign = make_campaign_with_metrics(target_cpa=50_000, days=days)
    spec = {
        "conditions": [
            {"metric": "spend", "op": ">", "value": 100_000, "window": window},
            {"metric": "cpa", "op": ">", "value": 50_000, "window": window},
        ],
        "action": {"kind": "notify"},
        "cpa_mode": "raw",
    }
    rule = Rule(name="Aviso de CPA alto", campaign_id=campaign.id, level="ad_group", spec=spec, enabled=True)
    db.session.add(rule)
    db.session.commit()
    return campaign.id, rule.id


def _decisions() -> list[OptimizationDecision]:
    return list(db.session.scalars(select(OptimizationDecision).order_by(OptimizationDecision.id)))


def test_a_notify_rule_sends_the_rule_campaign_and_numbers_in_spanish_by_webhook_and_e_mail(
    app_ctx, ops_settings, webhook, smtp
):
    campaign_id, _rule_id = _campaign_and_rule()
    taken = evaluation.evaluate_campaign(campaign_id=campaign_id, today=TODAY)
    db.session.commit()
    assert [(d.action, d.status) for d in taken] == [("notify", "applied")]
    assert _decisions()[0].message == "sent by webhook, email"

    [body] = webhook.bodies
    alert = body["alerts"][0]
    assert alert["labels"]["alertname"] == "rule_notify" and alert["labels"]["rule"] == "Aviso de CPA alto"
    summary = alert["annotations"]["summary"]
    assert "La regla «Aviso de CPA alto» se cumplió en la campaña «" in summary
    assert f"(n.º {campaign_id}): Meta · grupo «grupo" in summary
    assert alert["evidence"]["spend"] == 360_000.0 and alert["evidence"]["cpa"] == 120_000.0

    [(_, recipients, message)] = smtp.messages
    assert recipients == ["ops@empresa.example", "marketing@empresa.example"]
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject.startswith("[AdFlux] Regla «Aviso de CPA alto»: Campaña")
    text = message.get_payload(decode=True).decode()
    assert "Números de los últimos 3 días:" in text
    assert "Gasto: $ 360.000" in text and "CPA: $ 120.000" in text and "CPA objetivo: $ 50.000" in text


def test_a_notice_no_channel_took_is_logged_as_failed_and_without_channels_as_recorded(
    app, app_ctx, ops_settings, webhook, monkeypatch
):
    campaign_id, _ = _campaign_and_rule()
    webhook.fail_next = 1
    monkeypatch.setitem(
        app.extensions, "adflux_settings", ops_settings.replace(smtp_port=1, alert_email_to="")
    )
    [failed] = evaluation.evaluate_campaign(campaign_id=campaign_id, today=TODAY)
    db.session.commit()
    assert failed.status == "failed" and failed.message == "not sent by webhook (of webhook)"

    monkeypatch.setitem(
        app.extensions, "adflux_settings", ops_settings.replace(alert_webhook_url=None, alert_email_to="")
    )
    other_id, _ = _campaign_and_rule()
    [recorded] = evaluation.evaluate_campaign(campaign_id=other_id, today=TODAY)
    assert recorded.status == "recorded" and "no alert channel" in (recorded.message or "")


def test_a_notice_is_texted_in_one_segment_when_sms_takes_warnings(app, app_ctx, ops_settings, gateway):  # noqa: F811
    from ops.test_alert_sms import SID, TOKEN

    settings = ops_settings.replace(
        alert_webhook_url=None,
        alert_email_to="",
        alert_sms_url=gateway.url,
        alert_sms_account_sid=SID,
        alert_sms_auth_token=TOKEN,
        alert_sms_from="+15005550006",
        alert_sms_to="+573001234567",
        alert_sms_severities="critical,warning",
    )
    app.extensions["adflux_settings"] = settings
    campaign_id, _ = _campaign_and_rule()
    [taken] = evaluation.evaluate_campaign(campaign_id=campaign_id, today=TODAY)
    assert taken.status == "applied"
    [post] = gateway.posts
    assert post["form"]["To"] == "+573001234567"
    assert post["form"]["Body"].startswith("AdFlux: La regla «Aviso de CPA alto» se cumplió")
    assert len(post["form"]["Body"]) <= 160
