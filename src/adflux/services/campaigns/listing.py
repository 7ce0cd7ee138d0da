"""Reading campaigns: one with its platform campaigns, or a page of read-only summaries."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, String, Text, and_, any_, bindparam, cast, func, literal, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import joinedload, selectinload

from adflux.catalogue import gettext as _
from adflux.constants import CAMPAIGN_LIST_SORTS
from adflux.extensions import db
from adflux.kpis import cpa
from adflux.models import (
    AdGroup,
    Campaign,
    CampaignMetricTotal,
    JobOpening,
    PlatformCampaign,
)
from adflux.services import direct_reads
from adflux.services.errors import NotFound, ValidationFailed
from adflux.services.pagination import Page, PreparedPage, paginate, paginate_prepared, prepare_page
from adflux.services.text_search import like_pattern, search_terms, text_matches

# The orders a campaign list can take: name -> the column it sorts by (ties: newest first).
SORTS = CAMPAIGN_LIST_SORTS
# Orders by results: only these sum every campaign's rollup rows before paging.
RESULT_SORTS = frozenset({"spend", "applications", "cpa"})
# What no list shows of a platform campaign (its targeting and compliance JSON, its bookkeeping).
PLATFORM_CAMPAIGN_COLUMNS_UNLISTED = (
    "targeting",
    "compliance_report",
    "account_id",
    "idempotency_key",
    "last_synced_at",
    "update_fields",
    "update_attempts",
    "updated_on_platform_at",
    "created_at",
    "updated_at",
)


def get_campaign(*, campaign_id: int) -> Campaign:
    """One campaign with its platform campaigns, or NotFound."""
    campaign = db.session.get(
        Campaign,
        campaign_id,
        # Three round trips: the campaign with its job and segments, its platform campaigns with
        # their ad groups, their creatives (each of these a trip of its own before: five, and one
        # more for the job every page of a campaign shows).
        options=[
            selectinload(Campaign.platform_campaigns).joinedload(PlatformCampaign.ad_groups),
            selectinload(Campaign.platform_campaigns).selectinload(PlatformCampaign.creatives),
            joinedload(Campaign.segments),
            joinedload(Campaign.job),
        ],
    )
    if campaign is None:
        raise NotFound(_("Campaign %(campaign_id)s does not exist", campaign_id=campaign_id))
    return campaign


def list_campaigns(
    *,
    page: int = 1,
    page_size: int = 20,
    status: str | None = None,
    job_id: int | None = None,
    q: str | None = None,
    sort: str = "newest",
    descending: bool = True,
) -> Page[CampaignSummary]:
    """Campaigns, newest first (or by `sort`), by status, job or words, as read-only summaries.

    Each summary carries its spend (whole pesos), applications and CPA so far; `q` matches
    the campaign's name or its job's title or company, accent- and case-blind.

    A summary carries the campaign's columns, its job's title, company and city (`.job`), and
    its platform campaigns with their ad groups, without the targeting and compliance JSON no
    list shows. Three queries of plain rows: building ORM instances (identity map, state,
    collections) for the ~120 objects of a page cost ~3 ms of CPU per request, most of the list.
    """
    statements = _listing_statements(db.session.get_bind().dialect.name)
    # PostgreSQL: the page's results ride in the page's own statement (one primary-key lookup per
    # listed campaign in campaign_metric_totals; the count leaves the unused outer join out).
    by_results = sort in RESULT_SORTS or statements.ad_groups is None
    if sort not in SORTS:
        raise ValidationFailed(
            _("Unknown order %(sort)r", sort=sort), errors={"sort": [f"one of {', '.join(SORTS)}"]}
        )
    if q and q.strip():  # words: a statement of their own each time
        stmt = statements.page_with_results if by_results else statements.page
        stmt = _filtered(stmt, status=status or None, job_id=job_id or None)
        stmt = stmt.where(_search(q, db.session.get_bind().dialect.name))
        rows = paginate(_ordered(stmt, sort, descending), page=page, page_size=page_size, as_dicts=True)
    else:  # a statement built once per order and filters, run as a prepared statement
        dialect = db.session.get_bind().dialect.name
        prepared = _prepared_page(dialect, by_results, sort, descending, bool(status), bool(job_id))
        values: dict[str, Any] = {"status": status, "job_id": job_id} if status or job_id else {}
        # The page's ids are chosen first from the narrow rows (see _prepared_page), then read.
        values.update(ids_offset=(page - 1) * page_size, ids_limit=page_size)
        rows = paginate_prepared(prepared, values, page=page, page_size=page_size, after_cursor=True)
    if not by_results and rows.items:
        # The page's own results only: an index range per campaign, not the whole rollup table.
        ids = [values["id"] for values in rows.items]
        found = {r[0]: r for r in direct_reads.rows(statements.results, {"ids": ids})[1]}
        for values in rows.items:
            result = found.get(values["id"])
            values["spend_micros"] = int(result[1]) if result else 0
            values["applications"] = int(result[2]) if result else 0
    campaigns = []
    for values in rows.items:
        owner = values.get("owner_id")
        values["effective_owner_id"] = owner if owner is not None else values.get("created_by_id")
        values["spend"] = round(values.pop("spend_micros") / 1_000_000)
        values["cpa"] = cpa(values["spend"], values["applications"])
        job = CampaignSummary(
            id=values["job_id"],
            title=values.pop("title"),
            company=values.pop("company"),
            city=values.pop("city"),
        )
        campaigns.append(CampaignSummary(**values, job=job, platform_campaigns=[]))
    by_campaign = {c.id: c.platform_campaigns for c in campaigns}
    by_platform_campaign: dict[int, list[CampaignSummary]] = {}
    if by_campaign:
        items = _summaries(statements.platform_campaigns, list(by_campaign))
        # PostgreSQL sends each platform campaign's ad groups with it, as the text of one JSON
        # array: parsed here in one call for the whole page.
        texts = [getattr(item, "ad_groups", None) for item in items]
        if any(type(text) is str for text in texts):
            texts = json.loads("[" + ",".join(text or "null" for text in texts) + "]")
        for item, groups in zip(items, texts, strict=True):
            item.ad_groups = [CampaignSummary(**group) for group in groups or ()]
            by_campaign[item.campaign_id].append(item)
            by_platform_campaign[item.id] = item.ad_groups
    if by_platform_campaign and statements.ad_groups is not None:
        for item in _summaries(statements.ad_groups, list(by_platform_campaign)):
            by_platform_campaign[item.platform_campaign_id].append(item)
    return dataclasses.replace(rows, items=campaigns)


def _ordered(stmt: Select[Any], sort: str, descending: bool) -> Select[Any]:
    """`stmt` in the order asked for, ties broken newest first; an unknown order is refused."""
    if sort not in SORTS:
        raise ValidationFailed(
            _("Unknown order %(sort)r", sort=sort), errors={"sort": [f"one of {', '.join(SORTS)}"]}
        )
    columns = stmt.selected_columns
    spend = columns.get("spend_micros")
    applications = columns.get("applications")
    keys: dict[str, Any] = {
        "newest": Campaign.id,
        "name": Campaign.name,
        "start_date": Campaign.start_date,
        "budget": Campaign.budget_total,
        "spend": spend,
        "applications": applications,
        # No application yet sorts as the dearest CPA.
        "cpa": func.coalesce(spend / func.nullif(applications, 0), 10**18) if spend is not None else None,
        "status": Campaign.status,
    }
    key = keys[sort]
    return stmt.order_by(key.desc() if descending else key.asc(), Campaign.id.desc())


def _search(q: str, dialect: str) -> Any:
    """Every word of `q` in the campaign's name or its job's title or company (accent- and
    case-blind). PostgreSQL matches the folded texts its triggers keep (`search_text`, trigram-
    indexed where pg_trgm is: models/campaign_search.py) instead of folding three texts per row."""
    terms = search_terms(q)
    if dialect == "postgresql" and terms:  # (a search term never holds the texts' separator)
        return and_(*(Campaign.search_text.like(like_pattern(term), escape="\\") for term in terms))
    return text_matches((Campaign.name, JobOpening.title, JobOpening.company), q)


def _filtered(stmt: Select[Any], *, status: Any, job_id: Any) -> Select[Any]:
    """`stmt` with the list's status and job filters (values, or bind parameters; None: none)."""
    if status is not None:
        stmt = stmt.where(Campaign.status == status)
    if job_id is not None:
        stmt = stmt.where(Campaign.job_id == job_id)
    return stmt


@functools.lru_cache(maxsize=128)
def _prepared_page(
    dialect: str, by_results: bool, sort: str, descending: bool, status: bool, job_id: bool
) -> PreparedPage:
    """The page statement of one order and set of filters, built once (values bound per request)."""
    statements = _listing_statements(dialect)
    stmt = statements.page_with_results if by_results else statements.page
    filters = {
        "status": bindparam("status", type_=String) if status else None,
        "job_id": bindparam("job_id", type_=Integer) if job_id else None,
    }
    stmt = _filtered(stmt, **filters)
    # The page's ids first, ordered and cut from the narrow rows (the campaign's id and its sort
    # key: by id an index-only scan; by results the stored totals joined by key), then the page's
    # wide rows (jobs joined, every column) read for those ids only: OFFSET over the wide join
    # built and sorted every campaign's full row (~50-100 ms per page at 10,000 campaigns under
    # load, at page 1 of an order by spend as at page 400 by id). The total ignores this condition.
    narrow = select(Campaign.id)
    if sort in RESULT_SORTS:
        narrow = narrow.add_columns(
            func.coalesce(CampaignMetricTotal.spend_micros, 0).label("spend_micros"),
            func.coalesce(CampaignMetricTotal.applications, 0).label("applications"),
        ).outerjoin(CampaignMetricTotal, CampaignMetricTotal.campaign_id == Campaign.id)
    ids = (
        _ordered(_filtered(narrow, **filters), sort, descending)
        .limit(bindparam("ids_limit", type_=Integer))
        .offset(bindparam("ids_offset", type_=Integer))
        .subquery()
    )
    # Counted from campaigns alone: each has exactly one job (job_id NOT NULL, a foreign key),
    # so the page's inner join adds no row and removes none (an index-only count, not a join).
    count_rows = _filtered(select(Campaign.id), **filters)
    return prepare_page(
        _ordered(stmt, sort, descending), after=Campaign.id.in_(select(ids.c.id)), count_rows=count_rows
    )


class CampaignSummary(SimpleNamespace):
    """A plain record of a listed object: its columns as attributes (see list_campaigns)."""


class _ListingStatements(NamedTuple):
    page: Select[Any]
    page_with_results: Select[Any]
    results: Select[Any]
    platform_campaigns: Select[Any]
    ad_groups: Select[Any] | None  # None: the platform campaigns' rows carry them (PostgreSQL)


@functools.lru_cache(maxsize=4)
def _listing_statements(dialect: str) -> _ListingStatements:
    """The campaign list's SELECTs, built once per database dialect (not on every request).

    The platform campaigns and ad groups of a page are read by the ids of its campaigns (of its
    platform campaigns). On PostgreSQL the ids travel as one array (`= ANY(:ids)`), so the
    statement's text is the same for every page: SQLAlchemy's compiled cache and psycopg's
    prepared statement both serve it, where an expanding IN renders a new statement for each
    number of ids (~0.7 ms of CPU per request here). Other databases keep the expanding IN.
    """
    if dialect == "postgresql":
        ids: Any = bindparam("ids", type_=postgresql.ARRAY(Integer))

        def by_ids(column: Any) -> Any:
            return column == any_(ids)
    else:
        ids = bindparam("ids", expanding=True)

        def by_ids(column: Any) -> Any:
            return column.in_(ids)

    # Each campaign's sums kept by the sync (one row per campaign): ordering by spend,
    # applications or CPA no longer sums every campaign's rollup rows per request.
    results = select(
        CampaignMetricTotal.campaign_id, CampaignMetricTotal.spend_micros, CampaignMetricTotal.applications
    ).subquery()
    page = select(
        *_plain_columns(Campaign, without=("search_text",)),
        JobOpening.title,
        JobOpening.company,
        JobOpening.city,
    ).join(JobOpening, JobOpening.id == Campaign.job_id)
    page_with_results = page.add_columns(
        func.coalesce(results.c.spend_micros, 0).label("spend_micros"),
        func.coalesce(results.c.applications, 0).label("applications"),
    ).outerjoin(results, results.c.campaign_id == Campaign.id)
    totals: list[Any] = [
        CampaignMetricTotal.campaign_id,
        CampaignMetricTotal.spend_micros,
        CampaignMetricTotal.applications,
    ]
    page_results = select(*totals).where(by_ids(CampaignMetricTotal.campaign_id))
    platform_campaigns = (
        select(*_plain_columns(PlatformCampaign, without=PLATFORM_CAMPAIGN_COLUMNS_UNLISTED))
        .where(by_ids(PlatformCampaign.campaign_id))
        .order_by(PlatformCampaign.id)
    )
    group_columns = _plain_columns(AdGroup, without=("targeting",))
    if dialect == "postgresql":
        # One round trip for both levels: each platform campaign's ad groups as a JSON array
        # (ids, names, budgets and statuses only: no value whose JSON text differs from Python's).
        pairs = [part for column in group_columns for part in (literal(column.key), column.element)]
        groups = (
            select(func.json_agg(aggregate_order_by(func.json_build_object(*pairs), AdGroup.id)))
            .where(AdGroup.platform_campaign_id == PlatformCampaign.id)
            .scalar_subquery()
        )
        with_groups = platform_campaigns.add_columns(cast(groups, Text).label("ad_groups"))
        return _ListingStatements(page, page_with_results, page_results, with_groups, None)
    ad_groups = select(*group_columns).where(by_ids(AdGroup.platform_campaign_id)).order_by(AdGroup.id)
    return _ListingStatements(page, page_with_results, page_results, platform_campaigns, ad_groups)


def _summaries(stmt: Select[Any], ids: list[int]) -> list[CampaignSummary]:
    """Each row of `stmt` run for `ids`, as a CampaignSummary of its labelled columns."""
    keys, found = direct_reads.rows(stmt, {"ids": ids})
    return [CampaignSummary(**dict(zip(keys, row, strict=True))) for row in found]


def _plain_columns(model: type[Any], *, without: Sequence[str] = ()) -> list[Any]:
    """`model`'s mapped columns, labelled by attribute name, minus `without`."""
    return [
        attr.class_attribute.label(attr.key)
        for attr in sa_inspect(model).column_attrs
        if attr.key not in without
    ]


def campaigns_of_jobs(job_ids: Sequence[int]) -> dict[int, list[CampaignSummary]]:
    """Each job's campaigns (id, name, status, dates), newest first, for a page of jobs."""
    found: dict[int, list[CampaignSummary]] = {job_id: [] for job_id in job_ids}
    if not job_ids:
        return found
    rows = db.session.execute(
        select(
            Campaign.id,
            Campaign.job_id,
            Campaign.name,
            Campaign.status,
            Campaign.start_date,
            Campaign.end_date,
        )
        .where(Campaign.job_id.in_(list(job_ids)))
        .order_by(Campaign.id.desc())
    )
    for row in rows:
        found[row.job_id].append(CampaignSummary(**row._asdict()))
    return found
