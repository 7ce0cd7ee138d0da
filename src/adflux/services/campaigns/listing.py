"""Reading campaigns: one with its platform campaigns, or a page of read-only summaries."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, any_, bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import selectinload

from adflux.extensions import db
from adflux.models import AdGroup, Campaign, JobOpening, PlatformCampaign
from adflux.services.errors import NotFound
from adflux.services.pagination import Page, paginate


def get_campaign(*, campaign_id: int) -> Campaign:
    """One campaign with its platform campaigns, or NotFound."""
    campaign = db.session.get(
        Campaign,
        campaign_id,
        options=[
            selectinload(Campaign.platform_campaigns).selectinload(PlatformCampaign.ad_groups),
            selectinload(Campaign.platform_campaigns).selectinload(PlatformCampaign.creatives),
            selectinload(Campaign.segments),
        ],
    )
    if campaign is None:
        raise NotFound(f"Campaign {campaign_id} does not exist")
    return campaign


def list_campaigns(
    *, page: int = 1, page_size: int = 20, status: str | None = None, job_id: int | None = None
) -> Page[CampaignSummary]:
    """Campaigns, newest first, optionally by status or job, as read-only summaries.

    A summary carries the campaign's columns, its job's title, company and city (`.job`), and
    its platform campaigns with their ad groups, without the targeting and compliance JSON no
    list shows. Three queries of plain rows: building ORM instances (identity map, state,
    collections) for the ~120 objects of a page cost ~3 ms of CPU per request, most of the list.
    """
    statements = _listing_statements(db.session.get_bind().dialect.name)
    stmt = statements.page
    if status:
        stmt = stmt.where(Campaign.status == status)
    if job_id:
        stmt = stmt.where(Campaign.job_id == job_id)
    rows = paginate(stmt.order_by(Campaign.id.desc()), page=page, page_size=page_size, as_dicts=True)
    campaigns = []
    for values in rows.items:
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
        for item in _summaries(statements.platform_campaigns, list(by_campaign)):
            item.ad_groups = []
            by_campaign[item.campaign_id].append(item)
            by_platform_campaign[item.id] = item.ad_groups
    if by_platform_campaign:
        for item in _summaries(statements.ad_groups, list(by_platform_campaign)):
            by_platform_campaign[item.platform_campaign_id].append(item)
    return dataclasses.replace(rows, items=campaigns)


class CampaignSummary(SimpleNamespace):
    """A plain record of a listed object: its columns as attributes (see list_campaigns)."""


class _ListingStatements(NamedTuple):
    page: Select[Any]
    platform_campaigns: Select[Any]
    ad_groups: Select[Any]


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

    page = select(*_plain_columns(Campaign), JobOpening.title, JobOpening.company, JobOpening.city).join(
        JobOpening, JobOpening.id == Campaign.job_id
    )
    platform_campaigns = (
        select(*_plain_columns(PlatformCampaign, without=("targeting", "compliance_report")))
        .where(by_ids(PlatformCampaign.campaign_id))
        .order_by(PlatformCampaign.id)
    )
    ad_groups = (
        select(*_plain_columns(AdGroup, without=("targeting",)))
        .where(by_ids(AdGroup.platform_campaign_id))
        .order_by(AdGroup.id)
    )
    return _ListingStatements(page, platform_campaigns, ad_groups)


def _summaries(stmt: Select[Any], ids: list[int]) -> list[CampaignSummary]:
    """Each row of `stmt` run for `ids`, as a CampaignSummary of its labelled columns."""
    result = db.session.execute(stmt, {"ids": ids})
    keys = tuple(result.keys())
    return [CampaignSummary(**dict(zip(keys, row, strict=True))) for row in result]


def _plain_columns(model: type[Any], *, without: Sequence[str] = ()) -> list[Any]:
    """`model`'s mapped columns, labelled by attribute name, minus `without`."""
    return [
        attr.class_attribute.label(attr.key)
        for attr in sa_inspect(model).column_attrs
        if attr.key not in without
    ]
