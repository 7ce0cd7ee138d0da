"""The weekly report by e-mail: last week's KPIs and a chart of its daily spend, in Spanish.

Beat sends it on Monday morning (ADFLUX_WEEKLY_REPORT_CRON) to every active manager and admin
and to ADFLUX_WEEKLY_REPORT_TO, through the alerting SMTP settings.
"""

from __future__ import annotations

import html
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import func, select

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.kpis import cpa
from adflux.models import CampaignMetricDaily, User
from adflux.services.alerting.mailer import can_send_mail, send_mail
from adflux.services.creatives import format_cop
from adflux.services.local_dates import today
from adflux.services.report_chart_png import bar_chart_png
from adflux.services.weekly_report import weekly_report
from adflux.settings import Settings

CHART_CID = "weekly-spend"
READER_ROLES = ("manager", "admin")


def recipients(settings: Settings) -> list[str]:
    """Every active manager and admin, then the extra addresses configured (each once)."""
    users = db.session.scalars(
        select(User.email).where(User.active.is_(True), User.role.in_(READER_ROLES)).order_by(User.email)
    ).all()
    extra = [a.strip() for a in settings.weekly_report_to.split(",") if a.strip()]
    return list(dict.fromkeys([*users, *extra]))


def send_weekly_report(settings: Settings, *, week_of: date | None = None) -> dict[str, Any]:
    """E-mail the report of the week holding `week_of` (default: last week) to its readers."""
    week_of = week_of or today() - timedelta(days=7)
    to = recipients(settings)
    if not to or not can_send_mail(settings):
        return {"sent": False, "recipients": 0, "reason": "no recipients or no SMTP server"}
    report = weekly_report(week_of=week_of)
    spend_by_day = _spend_by_day(report["week_start"], report["week_end"])
    message = build_message(report, spend_by_day, locale=settings.default_locale)
    message["To"] = ", ".join(to)
    sent = send_mail(message, settings)
    return {"sent": sent, "recipients": len(to), "week_start": report["week_start"].isoformat()}


def _spend_by_day(monday: date, sunday: date) -> list[int]:
    rows = dict(
        db.session.execute(
            select(CampaignMetricDaily.date, func.sum(CampaignMetricDaily.spend_micros))
            .where(CampaignMetricDaily.date >= monday, CampaignMetricDaily.date <= sunday)
            .group_by(CampaignMetricDaily.date)
        ).all()
    )
    return [round(int(rows.get(monday + timedelta(days=n)) or 0) / 1_000_000) for n in range(7)]


def kpi_lines(report: dict[str, Any], *, locale: str) -> list[tuple[str, str]]:
    """(label, value) for each KPI of the week, in `locale`, money in whole pesos."""
    cost = cpa(report["spend"], report["applications"])
    alerts = sum(report["alerts_opened"].values())
    return [
        (_("Spend", locale=locale), format_cop(report["spend"])),
        (_("Applications", locale=locale), f"{report['applications']:,}".replace(",", ".")),
        (_("Cost per application", locale=locale), format_cop(round(cost)) if cost is not None else "—"),
        (_("Campaigns created", locale=locale), str(report["campaigns_created"])),
        (_("Alerts opened", locale=locale), str(alerts)),
        (_("Failed tasks", locale=locale), str(report["tasks_failed"])),
    ]


def build_message(report: dict[str, Any], spend_by_day: list[int], *, locale: str) -> EmailMessage:
    """The e-mail: a plain-text part, an HTML part with the KPI table and the chart inline."""
    start, end = report["week_start"], report["week_end"]
    title = _("AdFlux weekly report: %(start)s to %(end)s", locale=locale, start=_day(start), end=_day(end))
    kpis = kpi_lines(report, locale=locale)
    days = [_day(start + timedelta(days=n)) for n in range(7)]
    message = EmailMessage()
    message["Subject"] = title
    text = [title, ""] + [f"{label}: {value}" for label, value in kpis]
    text += ["", _("Spend per day", locale=locale)] + [
        f"{d}: {format_cop(v)}" for d, v in zip(days, spend_by_day, strict=True)
    ]
    message.set_content("\n".join(text) + "\n")
    chart_alt = _("Spend per day of the week", locale=locale)
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in kpis
    )
    day_rows = "".join(
        f"<tr><th scope='row'>{html.escape(d)}</th><td>{html.escape(format_cop(v))}</td></tr>"
        for d, v in zip(days, spend_by_day, strict=True)
    )
    lang = locale.replace("_", "-")
    message.add_alternative(
        f"<!doctype html><html lang='{lang}'><body><h1>{html.escape(title)}</h1>"
        f"<table>{rows}</table><h2>{html.escape(chart_alt)}</h2>"
        f"<img src='cid:{CHART_CID}' alt='{html.escape(chart_alt)}' width='560' height='200'>"
        f"<table>{day_rows}</table></body></html>",
        subtype="html",
    )
    message.get_payload()[1].add_related(  # type: ignore[union-attr,index]
        bar_chart_png(spend_by_day), maintype="image", subtype="png", cid=f"<{CHART_CID}>"
    )
    return message


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")
