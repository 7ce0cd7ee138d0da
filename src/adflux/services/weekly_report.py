"""The weekly report: one Bogotá week (Monday to Sunday) of results, operations and feedback."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from adflux.extensions import db
from adflux.models import Alert, Campaign, DailyMetricTotal, TaskRun
from adflux.services import feedback
from adflux.services.local_dates import today
from adflux.settings import current_settings


def week_bounds(day: date) -> tuple[date, date]:
    """The Monday and Sunday of the week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def weekly_report(*, week_of: date | None = None) -> dict[str, Any]:
    """Spend and applications, campaigns created, alerts opened, failed tasks and suggestions."""
    monday, sunday = week_bounds(week_of or today())
    zone = ZoneInfo(current_settings().timezone)
    start = datetime.combine(monday, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(sunday + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    # From the day/platform totals (the overview's: 7 days x the platforms), not the campaign
    # rollup's 7 days x every campaign's platforms (210,000 rows at 10,000 campaigns).
    spend, applications = db.session.execute(
        select(
            func.coalesce(func.sum(DailyMetricTotal.spend_micros), 0),
            func.coalesce(func.sum(DailyMetricTotal.applications), 0),
        ).where(DailyMetricTotal.date >= monday, DailyMetricTotal.date <= sunday)
    ).one()
    alerts = dict(
        db.session.execute(
            select(Alert.severity, func.count())
            .where(Alert.opened_at >= start, Alert.opened_at < end)
            .group_by(Alert.severity)
        ).all()
    )
    suggestions = feedback.counts_between(start, end)
    return {
        "week_start": monday,
        "week_end": sunday,
        "spend": round(int(spend) / 1_000_000),
        "applications": int(applications),
        "campaigns_created": _count(Campaign.created_at, start, end),
        "alerts_opened": {k: int(v) for k, v in alerts.items()},
        "tasks_failed": _count(TaskRun.created_at, start, end, TaskRun.status == "failed"),
        "feedback": {"total": sum(suggestions.values()), "by_kind": suggestions},
    }


def _count(column: Any, start: datetime, end: datetime, *extra: Any) -> int:
    stmt = select(func.count()).select_from(column.class_).where(column >= start, column < end, *extra)
    return int(db.session.execute(stmt).scalar_one())
