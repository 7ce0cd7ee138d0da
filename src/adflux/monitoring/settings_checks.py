"""Start-up checks for the operations settings (alert thresholds, notification and retention)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adflux.settings import Settings


def parse_api_version_sunsets(raw: str) -> dict[tuple[str, str], date]:
    """Parse "meta:v21.0=2026-09-01,google:v19=2026-02-01" into {(platform, version): date}."""
    from adflux.settings import SettingsError

    out: dict[tuple[str, str], date] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            target, when = item.split("=", 1)
            platform, version = target.split(":", 1)
            out[(platform.strip(), version.strip())] = date.fromisoformat(when.strip())
        except ValueError:
            raise SettingsError(
                f"ADFLUX_API_VERSION_SUNSETS: {item!r} is not platform:version=YYYY-MM-DD"
            ) from None
    return out


def validate_operations(settings: Settings) -> None:
    """Refuse thresholds that cannot mean anything, so a typo fails at start-up, not at 3 a.m."""
    from adflux.settings import SettingsError

    if not 0 < settings.alert_error_rate <= 1:
        raise SettingsError("ADFLUX_ALERT_ERROR_RATE must be a fraction in (0, 1], e.g. 0.05")
    if not 0 < settings.alert_db_connection_ratio <= 1 or not 0 < settings.alert_cpu_ratio <= 1:
        raise SettingsError("ADFLUX_ALERT_DB_CONNECTION_RATIO and ADFLUX_ALERT_CPU_RATIO must be in (0, 1]")
    if settings.alert_window_minutes < 1:
        raise SettingsError("ADFLUX_ALERT_WINDOW_MINUTES must be at least 1")
    if settings.backup_keep < 1:
        raise SettingsError("ADFLUX_BACKUP_KEEP must be at least 1 (the newest backup is never deleted)")
    for name in ("task_run_retention_days", "alert_retention_days", "audit_retention_days"):
        if getattr(settings, name) < 1:
            raise SettingsError(f"ADFLUX_{name.upper()} must be at least 1 day")
    if settings.alert_email_to and not (settings.smtp_host and settings.alert_email_from):
        raise SettingsError("ADFLUX_ALERT_EMAIL_TO needs ADFLUX_SMTP_HOST and ADFLUX_ALERT_EMAIL_FROM")
    parse_api_version_sunsets(settings.api_version_sunsets)
