"""Sending one e-mail through the configured SMTP server (the alerting settings' server)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from adflux.settings import Settings

logger = logging.getLogger(__name__)

SMTP_TIMEOUT = 10.0


def can_send_mail(settings: Settings) -> bool:
    """Whether an SMTP server and a sender address are configured."""
    return bool(settings.smtp_host and settings.alert_email_from)


def send_mail(message: EmailMessage, settings: Settings) -> bool:
    """Send `message` (From is filled in when missing); True when the server accepted it."""
    if message["From"] is None:
        message["From"] = settings.alert_email_from or "adflux@localhost"
    try:
        with smtplib.SMTP(
            settings.smtp_host or "localhost", settings.smtp_port, timeout=SMTP_TIMEOUT
        ) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("e-mail via %s failed: %s", settings.smtp_host, type(exc).__name__)
        return False
    return True
