"""Attribution: which click (and so campaign, platform, segment, ad group and day) an application is owed to.

Rules, in order:
1. the event carries AdFlux's click id, the click is known, happened before the application and
   within the attribution window: the application is that click's ("attributed");
2. otherwise its UTM values name an AdFlux campaign (utm_campaign=adflux-<id>, utm_source=<platform>,
   utm_content=adgroup-<id>): it is counted for that campaign and ad group ("utm");
3. otherwise, or when the job reference is unknown, it is kept and counted as "unattributed".
Each event is counted once (event ids are unique).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Click, JobOpening
from adflux.settings import current_settings

_CHUNK = 2000


def any_of(sql: str, values: list[Any]) -> list[tuple[Any, ...]] | None:
    """On PostgreSQL, rows of `sql` with one array parameter (`... = ANY(%s)`): one bind for
    thousands of values, instead of an IN list SQLAlchemy and the driver must render and split.
    None on other databases (the caller falls back to chunked IN lists)."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return None
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(sql, [values])
    return list(cursor.fetchall())


def _known_jobs(references: set[str]) -> set[str]:
    rows = any_of("SELECT external_ref FROM job_openings WHERE external_ref = ANY(%s)", sorted(references))
    if rows is not None:
        return {row[0] for row in rows}
    found: set[str] = set()
    refs = sorted(references)
    for start in range(0, len(refs), _CHUNK):
        chunk = refs[start : start + _CHUNK]
        found.update(
            db.session.scalars(select(JobOpening.external_ref).where(JobOpening.external_ref.in_(chunk)))
        )
    return found


def _clicks(click_ids: set[str]) -> dict[str, Any]:
    columns = (
        Click.click_id,
        Click.campaign_id,
        Click.platform,
        Click.ad_group_id,
        Click.segment_id,
        Click.at,
    )
    found: dict[str, Any] = {}
    ids = sorted(click_ids)
    rows = any_of(
        "SELECT click_id, campaign_id, platform, ad_group_id, segment_id, at FROM clicks"
        " WHERE click_id = ANY(%s)",
        ids,
    )
    if rows is not None:
        return {row[0]: _ClickRow(*row) for row in rows}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in db.session.execute(select(*columns).where(Click.click_id.in_(chunk))):
            found[row.click_id] = row
    return found


class _ClickRow(NamedTuple):
    click_id: str
    campaign_id: int
    platform: str
    ad_group_id: int | None
    segment_id: int | None
    at: datetime


def utm_target(utm: dict[str, str] | None) -> tuple[int, str, int | None] | None:
    if not utm:
        return None
    campaign = utm.get("utm_campaign", "")
    source = utm.get("utm_source", "")
    if not campaign.startswith("adflux-") or not campaign[7:].isdigit() or not source:
        return None
    content = utm.get("utm_content", "")
    group = int(content[8:]) if content.startswith("adgroup-") and content[8:].isdigit() else None
    return int(campaign[7:]), source[:20], group


def attribute(rows: list[dict[str, Any]], *, window_days: int) -> list[dict[str, Any]]:
    """`rows` with their attribution columns filled (new dicts; nothing is written)."""
    zone = ZoneInfo(current_settings().timezone)
    window = timedelta(days=window_days)
    jobs = _known_jobs({row["job_reference"] for row in rows})
    clicks = _clicks({row["click_id"] for row in rows if row.get("click_id")})
    out = []
    for row in rows:
        result = {
            **row,
            "attribution": "unattributed",
            "attributed_click_id": None,
            "campaign_id": None,
            "platform": None,
            "ad_group_id": None,
            "segment_id": None,
            "day": None,
        }
        if row["job_reference"] in jobs:
            click = clicks.get(row.get("click_id") or "")
            utm = utm_target(row.get("utm"))
            if click is not None and click.at <= row["occurred_at"] <= click.at + window:
                result.update(
                    attribution="attributed",
                    attributed_click_id=click.click_id,
                    campaign_id=click.campaign_id,
                    platform=click.platform,
                    ad_group_id=click.ad_group_id,
                    segment_id=click.segment_id,
                )
            elif utm is not None:
                result.update(attribution="utm", campaign_id=utm[0], platform=utm[1], ad_group_id=utm[2])
            if result["campaign_id"] is not None:
                result["day"] = row["occurred_at"].astimezone(zone).date()
        out.append(result)
    return out
