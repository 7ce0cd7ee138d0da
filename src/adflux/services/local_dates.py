"""Local calendar dates: campaign flights, reports and metric syncs count days in Bogotá, not UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from adflux.settings import Settings, current_settings


def today(settings: Settings | None = None) -> date:
    """Today's date in the configured time zone (Bogotá: campaign dates are local dates), of
    `settings` or else the current app's."""
    zone = (current_settings() if settings is None else settings).timezone
    return datetime.now(ZoneInfo(zone)).date()


def local_stamp(moment: datetime) -> str:
    """A moment as people read it: "2026-12-07 10:15" in the configured time zone."""
    return moment.astimezone(ZoneInfo(current_settings().timezone)).strftime("%Y-%m-%d %H:%M")


def local_date(moment: datetime) -> date:
    """The configured time zone's calendar date of a moment (a UTC timestamp's day in Bogotá)."""
    return moment.astimezone(ZoneInfo(current_settings().timezone)).date()
