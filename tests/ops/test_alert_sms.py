"""Alert SMS: a Twilio-shaped gateway on 127.0.0.1 receives critical alerts; e-mail takes the rest."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from adflux.extensions import db
from adflux.models import Alert
from adflux.services import alerting
from adflux.services.alerting import notifications
from adflux.settings import Settings, SettingsError
from ops_data import make_model

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "sms-auth-token-secret"


class SmsGateway:
    """A real HTTP server answering like Twilio's Messages resource (201 + JSON), recording posts."""

    def __init__(self) -> None:
        self.posts: list[dict[str, object]] = []
        self.fail_next = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                gateway.posts.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization", ""),
                        "content_type": self.headers.get("Content-Type", ""),
                        "form": form,
                    }
                )
                expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                elif gateway.fail_next > 0:
                    gateway.fail_next -= 1
                    self.send_response(503)
                else:
                    self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"sid": "SM00000000000000000000000000000000", "status": "queued"}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[SmsGateway]:
    receiver = SmsGateway()
    yield receiver
    receiver.close()


@pytest.fixture
def sms_settings(app, monkeypatch, ops_settings, gateway):
    settings = ops_settings.replace(
        alert_sms_url=gateway.url,
        alert_sms_account_sid=SID,
        alert_sms_auth_token=TOKEN,
        alert_sms_from="+15005550006",
        alert_sms_to="+573001234567, +573109876543",
        alert_sms_severities="critical",
        alert_email_severities="warning,info",
    )
    monkeypatch.setitem(app.extensions, "adflux_settings", settings)
    return settings


def _open(rule: str, severity: str, key: str = "") -> Alert:
    alert = Alert(rule=rule, key=key, severity=severity, message=f"{rule} fired", status="open")
    db.session.add(alert)
    db.session.commit()
    return alert


def test_a_critical_alert_is_texted_to_every_number_in_twilios_shape(app_ctx, sms_settings, gateway, smtp):
    alert = _open("broker_unavailable", "critical")
    sent = notifications.notify_pending(sms_settings)
    assert sent.sent == 1 and sent.failed == 0
    assert [p["form"]["To"] for p in gateway.posts] == ["+573001234567", "+573109876543"]
    post = gateway.posts[0]
    assert post["path"] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert post["content_type"].startswith("application/x-www-form-urlencoded")
    form = post["form"]
    assert form["From"] == "+15005550006"
    assert form["Body"] == "AdFlux CRITICAL: broker_unavailable - broker_unavailable fired"
    assert len(form["Body"]) <= 160
    assert smtp.messages == []  # e-mail takes warning and info here, not critical
    db.session.refresh(alert)
    assert alert.notified_at is not None


def test_a_warning_goes_by_e_mail_not_sms(app_ctx, sms_settings, gateway, smtp):
    make_model(drift=0.9)
    result = alerting.evaluate(rules=("segmentation_drift",))
    assert result.notified == 1
    assert gateway.posts == []
    assert len(smtp.messages) == 1 and "segmentation_drift" in smtp.subjects()[0]


def test_resolution_is_texted_too_and_a_refused_sms_is_retried(app_ctx, sms_settings, gateway):
    gateway.fail_next = 1
    alert = _open("no_worker_alive", "critical")
    first = notifications.notify_pending(sms_settings)
    assert first.failed == 1 and first.sent == 0
    db.session.refresh(alert)
    assert alert.notified_at is None
    second = notifications.notify_pending(sms_settings)
    assert second.sent == 1
    alert.status = "resolved"
    alert.resolved_at = alert.opened_at
    alert.details = {**(alert.details or {}), "resolve_notified": False}
    db.session.commit()
    # Resolved "now" as far as the one-day look-back goes.
    db.session.execute(db.update(Alert).where(Alert.id == alert.id).values(resolved_at=db.func.now()))
    db.session.commit()
    third = notifications.notify_pending(sms_settings)
    assert third.sent == 1
    bodies = [p["form"]["Body"] for p in gateway.posts]
    assert bodies[-1].startswith("AdFlux RESUELTA: no_worker_alive")
    # First run: the first number refused, the second taken; the retry texts both (a channel is
    # retried whole, like e-mail), then the resolution goes to both.
    assert [p["form"]["To"][-4:] for p in gateway.posts] == ["4567", "6543"] * 3


def test_wrong_credentials_fail_the_channel_without_logging_the_token(app_ctx, sms_settings, gateway, caplog):
    settings = sms_settings.replace(alert_sms_auth_token="not-the-token")
    _open("broker_unavailable", "critical")
    assert notifications.notify_pending(settings).failed == 1
    assert "HTTP 401" in caplog.text and "not-the-token" not in caplog.text and "+57300" not in caplog.text


def test_sms_settings_are_checked_at_start_up():
    with pytest.raises(SettingsError, match="ALERT_SMS_TO needs"):
        Settings(alert_sms_to="+573001234567").validate()
    with pytest.raises(SettingsError, match="unknown severity 'urgent'"):
        Settings(alert_sms_severities="critical,urgent").validate()
