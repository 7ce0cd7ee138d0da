"""Performance reports: what every peso bought, by campaign, platform, segment, job category and day.

CTR, CPC and CPA are derived from the summed counts (never averaged from per-row ratios), and
are None where their denominator is zero. Reports by segment (and platform or day) over every
campaign read the segment totals, by segment and campaign or category the raw per-ad-group rows;
reports by platform and/or day over every campaign read the day/platform totals; the rest read
the per-campaign rollup.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    select,
)

from adflux import kpis
from adflux.catalogue import gettext as _
from adflux.constants import REPORT_DIMENSIONS
from adflux.extensions import db
from adflux.models import (
    Campaign,
    CampaignMetricDaily,
    CampaignSegmentMetricDaily,
    DailyMetricTotal,
    JobOpening,
    MetricDaily,
    Segment,
    SegmentMetricDaily,
)
from adflux.services import campaign_rankings, data_versions, report_pages
from adflux.services.errors import NotFound, ValidationFailed
from adflux.services.local_dates import today

DIMENSIONS = REPORT_DIMENSIONS
COUNTS = ("impressions", "reach", "clicks", "engagements", "spend_micros", "applications")
MAX_RANGE_DAYS = 731


@dataclass(frozen=True)
class DateRange:
    since: date
    until: date

    @classmethod
    def checked(cls, since: date | None, until: date | None, *, default_days: int = 30) -> DateRange:
        """Default to the last `default_days` days; refuse reversed or huge ranges."""
        until = until or today()
        since = since or until - timedelta(days=default_days - 1)
        if since > until:
            raise ValidationFailed(_("since must not be after until"), errors={"since": ["after until"]})
        if (until - since).days > MAX_RANGE_DAYS:
            raise ValidationFailed(
                _("A report covers at most %(max_range_days)s days", max_range_days=MAX_RANGE_DAYS),
                errors={"since": ["too early"]},
            )
        return cls(since, until)


def derive(counts: dict[str, Any]) -> dict[str, Any]:
    """Add spend in pesos and CTR, CPC, CPA (None when the denominator is zero)."""
    impressions = counts.get("impressions") or 0
    clicks = counts.get("clicks") or 0
    applications = counts.get("applications") or 0
    spend = (counts.get("spend_micros") or 0) / 1_000_000
    return {
        **counts,
        "spend": round(spend, 2),
        "ctr": kpis.ctr(clicks, impressions),
        "cpc": kpis.cpc(spend, clicks),
        "cpa": kpis.cpa(spend, applications),
    }


def _sums(source: Any) -> list[Any]:
    # SUM(bigint) is NUMERIC on PostgreSQL; cast back so counts stay integers everywhere.
    sums = []
    for column in COUNTS:
        total = cast(func.sum(getattr(source, column)), BigInteger)
        sums.append((total if column == "engagements" else func.coalesce(total, 0)).label(column))
    return sums


def performance_report(
    *,
    group_by: Sequence[str] = ("platform",),
    since: date | None = None,
    until: date | None = None,
    campaign_id: int | None = None,
    platform: str | None = None,
    segment_id: int | None = None,
    category: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Rows per combination of `group_by` dimensions over a date range, with totals.

    Rows come sorted by campaign (when grouped by campaign), then by the other dimensions in
    `group_by` order (the broad audience, segment None, first among segments): the rollups are
    keyed by campaign first, so a page reads its campaigns' rows and no others. With `limit`, one
    page: at most `limit` rows after `cursor` (the previous page's `next_cursor`), `has_more` and
    `next_cursor` say whether and how to go on, and `totals` still cover every row (read from the
    smallest rollup that holds them). Without it, every row.
    """
    dims = list(dict.fromkeys(group_by))
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValidationFailed(
            _("Unknown grouping: %(value)s", value=", ".join(unknown)),
            errors={"group_by": [f"use {', '.join(DIMENSIONS)}"]},
        )
    window = DateRange.checked(since, until)
    params: dict[str, Any] = {"since": window.since, "until": window.until}
    filters = {"campaign_id": campaign_id, "platform": platform or None, "segment_id": segment_id}
    filters["category"] = category or None
    params.update((name, value) for name, value in filters.items() if value is not None)
    if cursor and dims:
        params.update(report_pages.decode(cursor, report_pages.sort_order(dims)))
    if limit is not None and dims:
        params["limit"] = limit + 1
    rows = _rows(dims, params)
    for row in rows:
        row.pop("counted", None)
    has_more = limit is not None and len(rows) > limit
    rows = rows[:limit] if has_more else rows
    next_cursor = report_pages.encode(rows[-1], report_pages.sort_order(dims)) if has_more else None
    if not dims and rows and rows[0]["impressions"] == 0 and rows[0]["spend_micros"] == 0:
        rows = []
    if has_more or (cursor and dims):
        totals = _totals(params)
    else:
        totals = {c: sum((r.get(c) or 0) for r in rows) for c in COUNTS}
        if rows and all(r.get("engagements") is None for r in rows):
            totals["engagements"] = None
    _label(rows, dims)
    report = {
        "since": window.since,
        "until": window.until,
        "group_by": dims,
        "rows": [derive(r) for r in rows],
        "totals": derive(totals),
    }
    if limit is not None:
        report.update(limit=limit, has_more=has_more, next_cursor=next_cursor)
    return report


def iter_report_rows(report: dict[str, Any], **query: Any) -> Iterator[dict[str, Any]]:
    """Every row of a paged report: `report`'s own, then the following pages' (one query each)."""
    yield from report["rows"]
    while report.get("has_more"):
        report = performance_report(**query, cursor=report["next_cursor"])
        yield from report["rows"]


def _rows(dims: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
    source = _source(
        dims,
        campaign_id=params.get("campaign_id"),
        segment_id=params.get("segment_id"),
        category=params.get("category"),
        platform=params.get("platform"),
    )
    stmt = _statement(tuple(dims), source, frozenset(params))
    return [dict(r._mapping) for r in db.session.execute(stmt, params)]


def _totals(params: dict[str, Any]) -> dict[str, Any]:
    """The sums over every row of a paged report: the same filters, no grouping, no page."""
    filters = {k: v for k, v in params.items() if k not in ("limit",) and not k.startswith("after_")}
    (row,) = _rows([], filters)
    if not row["counted"]:  # no row at all: a report without rows sums to zeros
        row["engagements"] = 0
    return {c: row[c] for c in COUNTS}


@functools.lru_cache(maxsize=512)
def _statement(dims: tuple[str, ...], source: Any, params: frozenset[str]) -> Select[Any]:
    """The report's SELECT for one shape (dimensions, table, filters given, page or not), with
    bound parameters: built once, and SQLAlchemy's cache key for it computed once, instead of both
    on every request (about a fifth of a report request's CPU)."""
    columns = {d: _dimension_column(d, source) for d in dims}
    order = report_pages.sort_order(dims)
    keys = [_order_column(d, source) for d in order]
    counted = [] if dims else [func.count().label("counted")]
    stmt: Select[Any] = select(*[columns[d].label(d) for d in dims], *_sums(source), *counted).where(
        source.date.between(bindparam("since"), bindparam("until"))
    )
    if "category" in dims or "category" in params:
        stmt = stmt.join(Campaign, Campaign.id == source.campaign_id).join(
            JobOpening, JobOpening.id == Campaign.job_id
        )
    if "campaign_id" in params:
        stmt = stmt.where(source.campaign_id == bindparam("campaign_id"))
    if "platform" in params:
        stmt = stmt.where(source.platform == bindparam("platform"))
    if "segment_id" in params:
        stmt = stmt.where(_segment_column(source) == bindparam("segment_id"))
    if "category" in params:
        stmt = stmt.where(JobOpening.category == bindparam("category"))
    if dims and "after_0" in params:
        stmt = stmt.where(report_pages.after(keys, [_key_type(d) for d in order]))
    if dims:
        stmt = stmt.group_by(*keys).order_by(*keys)
    if dims and "limit" in params:
        stmt = stmt.limit(bindparam("limit", type_=Integer))
    return stmt


def _source(
    dims: list[str],
    *,
    campaign_id: int | None,
    segment_id: int | None,
    category: str | None,
    platform: str | None = None,
) -> Any:
    """The smallest table that can answer: the segment totals for segments by platform and day,
    the campaign x segment rollup for segments by campaign or category (or within one campaign),
    the raw per-ad-group rows only for those also by or for a platform, the day/platform totals
    (a few rows a day) when neither campaigns, categories nor segments matter, the per-campaign
    rollup otherwise. All hold the same sums (the sync keeps them so)."""
    across_campaigns = set(dims) <= {"segment", "platform", "day"} and campaign_id is None and not category
    if "segment" in dims or segment_id is not None:
        if across_campaigns:
            return SegmentMetricDaily
        return MetricDaily if "platform" in dims or platform else CampaignSegmentMetricDaily
    if set(dims) <= {"platform", "day"} and campaign_id is None and not category:
        return DailyMetricTotal
    return CampaignMetricDaily


def _segment_column(source: Any) -> Any:
    """The segment id to filter on (the rollups' 0, the broad audience, matches no segment_id)."""
    if source in (SegmentMetricDaily, CampaignSegmentMetricDaily):
        return source.segment_key
    return MetricDaily.segment_id


def _order_column(dim: str, source: Any) -> Any:
    """What a dimension is grouped, sorted and paged by: never NULL (the broad audience is 0)."""
    if dim != "segment":
        return _dimension_column(dim, source)
    if source in (SegmentMetricDaily, CampaignSegmentMetricDaily):
        return source.segment_key
    return func.coalesce(MetricDaily.segment_id, literal_column("0"))  # one expression, however often


def _key_type(dim: str) -> Any:
    return {"campaign": Integer(), "segment": Integer(), "day": Date()}.get(dim, String())


def _dimension_column(dim: str, source: Any) -> Any:
    if dim == "segment":  # the broad audience as None
        return func.nullif(_order_column(dim, source), 0)
    if dim == "category":
        return JobOpening.category
    return getattr(source, {"campaign": "campaign_id", "day": "date"}.get(dim, dim))


def _label(rows: list[dict[str, Any]], dims: list[str]) -> None:
    if "campaign" in dims:
        ids = {r["campaign"] for r in rows}
        names = (
            dict(db.session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids))).all())
            if ids
            else {}
        )
        for r in rows:
            r["campaign_name"] = names.get(r["campaign"])
    if "segment" in dims:
        ids = {r["segment"] for r in rows if r["segment"] is not None}
        names = (
            dict(db.session.execute(select(Segment.id, Segment.name).where(Segment.id.in_(ids))).all())
            if ids
            else {}
        )
        for r in rows:
            r["segment_name"] = names.get(r["segment"], "Audiencia amplia" if r["segment"] is None else None)


def segment_comparison(*, since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """Segments ranked by cost per application (cheapest first; no applications last)."""
    report = performance_report(group_by=("segment",), since=since, until=until)
    report["rows"].sort(key=lambda r: (r["cpa"] is None, r["cpa"] or 0, -(r["applications"] or 0)))
    for rank, row in enumerate(report["rows"], start=1):
        row["rank"] = rank
    return report


def platform_comparison(
    *, campaign_id: int, since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """One campaign's platforms side by side."""
    if db.session.get(Campaign, campaign_id) is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    campaign = db.session.get(Campaign, campaign_id)
    since = since or campaign.start_date  # type: ignore[union-attr]
    return performance_report(group_by=("platform",), since=since, until=until, campaign_id=campaign_id)


def comparison_of(timeseries: dict[str, Any]) -> dict[str, Any]:
    """`platform_comparison` over the same days, from `campaign_timeseries`' answer (the campaign
    page reads both over one range: its platforms' sums need no second read of the rollup).
    The same rows in the same order (by platform), the same totals; engagements None where
    no day of the platform has any (as SQL's SUM of NULLs)."""
    rows = []
    for platform, days in sorted(timeseries["series"].items()):
        sums: dict[str, Any] = {c: sum((d.get(c) or 0) for d in days) for c in COUNTS}
        if all(d.get("engagements") is None for d in days):
            sums["engagements"] = None
        rows.append({"platform": platform, **sums})
    totals = {c: sum((r.get(c) or 0) for r in rows) for c in COUNTS}
    if rows and all(r.get("engagements") is None for r in rows):
        totals["engagements"] = None
    return {
        "since": timeseries["since"],
        "until": timeseries["until"],
        "group_by": ["platform"],
        "rows": [derive(r) for r in rows],
        "totals": derive(totals),
    }


def overview(*, since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """The dashboard's KPIs and daily trend across all campaigns (from the day/platform rollup)."""
    window = DateRange.checked(since, until)
    stmt = (
        select(DailyMetricTotal.date, *_sums(DailyMetricTotal))
        .where(DailyMetricTotal.date.between(window.since, window.until))
        .group_by(DailyMetricTotal.date)
        .order_by(DailyMetricTotal.date)
    )
    trend = [derive(dict(r._mapping)) for r in db.session.execute(stmt)]
    by_platform_stmt = (
        select(DailyMetricTotal.platform, *_sums(DailyMetricTotal))
        .where(DailyMetricTotal.date.between(window.since, window.until))
        .group_by(DailyMetricTotal.platform)
        .order_by(DailyMetricTotal.platform)
    )
    platforms = [derive(dict(r._mapping)) for r in db.session.execute(by_platform_stmt)]
    totals = derive({c: sum((p.get(c) or 0) for p in platforms) for c in COUNTS})
    return {
        "since": window.since,
        "until": window.until,
        "totals": totals,
        "trend": trend,
        "platforms": platforms,
    }


def top_campaigns(
    *, since: date | None = None, until: date | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The campaigns that spent most over a date range, ranked in the database.

    Only the `limit` rows shown are returned and named: the overview used to build the report of
    every campaign (and look up every campaign's name) to keep ten. The overview's preset windows
    are read from the ranking stored with the day totals (`campaign_rankings`: ranked once per
    sync, not once per web process); other windows are ranked here. Either is kept, per process,
    for as long as the day totals' data-version token is unchanged (they are rewritten once per
    metrics sync, as the overview's KPIs are); names are looked up on every call.
    """
    window = DateRange.checked(since, until)
    token = _totals_token()
    key = (window.since, window.until, limit, token)
    ranked = _RANKINGS.get(key) if token else None
    if ranked is None:
        ranked = campaign_rankings.stored(window.since, window.until, limit) or campaign_rankings.rank(
            window.since, window.until, limit
        )
        if token and _totals_token() == token:  # no sync finished while it was being ranked
            _RANKINGS[key] = ranked
            while len(_RANKINGS) > _RANKINGS_KEPT:
                _RANKINGS.pop(next(iter(_RANKINGS)))
    rows = [dict(row) for row in ranked]
    _label(rows, ["campaign"])
    return [derive(r) for r in rows]


_RANKINGS: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
_RANKINGS_KEPT = 32


def _totals_token() -> str | None:
    tokens = data_versions.read_tokens(("daily_metric_totals",))
    return tokens.get("daily_metric_totals") if tokens else None


def campaign_timeseries(
    *, campaign_id: int, since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """One campaign per platform per day (from the campaign rollup): the campaign page's charts."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    window = DateRange.checked(since or campaign.start_date, until, default_days=90)
    stmt = (
        select(
            CampaignMetricDaily.platform,
            CampaignMetricDaily.date,
            *[getattr(CampaignMetricDaily, c) for c in COUNTS],
        )
        .where(
            CampaignMetricDaily.campaign_id == campaign_id,
            CampaignMetricDaily.date.between(window.since, window.until),
        )
        .order_by(CampaignMetricDaily.platform, CampaignMetricDaily.date)
    )
    series: dict[str, list[dict[str, Any]]] = {}
    keys = ("date", *COUNTS)
    for platform, *values in db.session.execute(stmt):  # (a year: 1,095 rows, no Row mappings)
        series.setdefault(platform, []).append(derive(dict(zip(keys, values, strict=True))))
    totals = {
        p: derive({c: sum((d.get(c) or 0) for d in days) for c in COUNTS}) for p, days in series.items()
    }
    return {
        "campaign_id": campaign_id,
        "since": window.since,
        "until": window.until,
        "series": series,
        "totals": totals,
    }
