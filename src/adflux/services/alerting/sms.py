"""Alert SMS through an HTTP gateway with Twilio's REST shape (the default provider).

POST {alert_sms_url}/2010-04-01/Accounts/{sid}/Messages.json with the form fields To, From and
Body and HTTP basic auth (account sid, auth token): Twilio itself, or any gateway that speaks the
same shape. One request per recipient; a message is short (one SMS segment where possible).
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

import httpx

from adflux.models import Alert
from adflux.settings import Settings

logger = logging.getLogger(__name__)

SMS_TIMEOUT = 10.0
# One GSM-7 segment is 160 characters; longer bodies cost several segments per recipient.
SMS_MAX_CHARS = 160


def sms_recipients(settings: Settings) -> list[str]:
    """The configured numbers (ADFLUX_ALERT_SMS_TO), blanks dropped."""
    return [n.strip() for n in settings.alert_sms_to.split(",") if n.strip()]


def messages_url(settings: Settings) -> str:
    """The gateway's Messages resource for the configured account."""
    sid = quote(settings.alert_sms_account_sid or "", safe="")
    return f"{settings.alert_sms_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"


def sms_body(alert: Alert, kind: str) -> str:
    """One line a phone shows whole: state, rule, key and the message, cut to one segment."""
    state = "RESUELTA" if kind == "resolved" else alert.severity.upper()
    text = f"AdFlux {state}: {alert.rule}{' ' + alert.key if alert.key else ''} - {alert.message}"
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "…"


def send_sms(alert: Alert, kind: str, settings: Settings) -> bool:
    """Text every configured number; True only if the gateway accepted each message."""
    return send_text(sms_body(alert, kind), settings)


def send_text(body: str, settings: Settings) -> bool:
    """Text ``body`` (cut to one segment) to every configured number; True if each was accepted."""
    recipients = sms_recipients(settings)
    if not recipients:
        return True
    auth = (settings.alert_sms_account_sid or "", settings.alert_sms_auth_token or "")
    body = body if len(body) <= SMS_MAX_CHARS else body[: SMS_MAX_CHARS - 1] + "…"
    ok = True
    with httpx.Client(timeout=SMS_TIMEOUT, auth=auth) as client:
        for number in recipients:
            try:
                response = client.post(
                    messages_url(settings),
                    data={"To": number, "From": settings.alert_sms_from or "", "Body": body},
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                # The host only: never the number (personal data) or the credentials.
                logger.warning(
                    "alert SMS via %s failed: %s", urlsplit(settings.alert_sms_url).hostname, _why(exc)
                )
                ok = False
    return ok


def _why(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
