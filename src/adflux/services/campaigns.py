"""Campaigns: create from a job for platforms and segments, preview, publish and manage."""

from __future__ import annotations

import functools
import logging
import secrets as pysecrets
from collections.abc import Sequence
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any, NamedTuple

from flask import g, has_request_context
from sqlalchemy import Integer, Select, any_, bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import selectinload

from adflux.constants import PLATFORMS, TASK_PUBLISH_PLATFORM_CAMPAIGN
from adflux.extensions import db
from adflux.models import (
    AdCreative,
    AdGroup,
    Campaign,
    JobOpening,
    PlatformCampaign,
    Segment,
    SegmentationModel,
    TaskRun,
)
from adflux.models.base import utcnow
from adflux.platforms import money
from adflux.platforms.compliance import plan_targeting
from adflux.services import audit, task_queue, task_runs
from adflux.services.budgets import split_budget
from adflux.services.campaign_states import check_action, settled_status
from adflux.services.creatives import generate_creative
from adflux.services.errors import InvalidTransition, NotFound, ServiceUnavailable, ValidationFailed
from adflux.services.local_dates import today
from adflux.services.pagination import Page, paginate
from adflux.services.targeting import job_context, wishes_for_segment

logger = logging.getLogger(__name__)

# Below this a platform cannot deliver anything useful (and some refuse the budget outright).
MIN_PLATFORM_BUDGET = 10_000  # COP
AUDITED = ("name", "status", "budget_total", "budget_daily", "target_cpa", "start_date", "end_date")


# -- reading ------------------------------------------------------------------------------------


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
    return Page(items=campaigns, total=rows.total, page=rows.page, page_size=rows.page_size)


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


# -- creating -----------------------------------------------------------------------------------


def create_campaign(
    *,
    job_id: int,
    platforms: Sequence[str],
    budget_total: int,
    segment_ids: Sequence[int] = (),
    budget_daily: int | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    target_cpa: int | None = None,
    objective: str = "traffic",
    weights: dict[str, float] | None = None,
    name: str | None = None,
) -> Campaign:
    """A draft campaign: one platform campaign per platform, budget split, creatives generated."""
    from adflux.services.jobs import get_job

    job = get_job(job_id=job_id)
    if job.status != "open":
        raise InvalidTransition(f"Job opening {job_id} is {job.status}; only open jobs can be advertised")
    platforms = _check_platforms(platforms)
    segments = _check_segments(segment_ids)
    start = start_date or today()
    _check_money_and_dates(platforms, budget_total, budget_daily, start, end_date, target_cpa)
    weight_list = _weights(platforms, weights)

    campaign = Campaign(
        job_id=job.id,
        name=name or f"{job.title} · {job.city}",
        objective=objective,
        budget_total=budget_total,
        budget_daily=budget_daily,
        target_cpa=target_cpa,
        start_date=start,
        end_date=end_date,
        status="draft",
        segments=segments,
        created_by_id=getattr(g.get("current_user"), "id", None) if has_request_context() else None,
    )
    db.session.add(campaign)
    db.session.flush()

    totals = split_budget(budget_total, weight_list)
    dailies = split_budget(budget_daily, weight_list) if budget_daily else [None] * len(platforms)
    for platform, weight, total, daily in zip(platforms, weight_list, totals, dailies, strict=True):
        if total < MIN_PLATFORM_BUDGET:
            raise ValidationFailed(
                f"{platform} would get {total} COP; each platform needs at least {MIN_PLATFORM_BUDGET} COP",
                errors={"budget_total": [f"too small for {len(platforms)} platforms"]},
            )
        pc = PlatformCampaign(
            campaign=campaign,
            platform=platform,
            status="pending",
            idempotency_key=f"{campaign.id}-{platform}-{pysecrets.token_hex(4)}",
            budget_weight=weight,
            budget_total=total,
            budget_daily=daily,
        )
        db.session.add(pc)
        _add_ad_groups(pc, campaign, segments, daily, total)
        creative = generate_creative(job, platform=platform, campaign_id=campaign.id)
        pc.creatives.append(
            AdCreative(
                headline=creative.headline,
                primary_text=creative.primary_text,
                description=creative.description,
                call_to_action=creative.call_to_action,
                link_url=creative.link_url,
                extra=creative.extra,
            )
        )
        pc.targeting, pc.compliance_report = _compliance(pc, campaign)
    audit.record("campaign.create", entity_type="campaign", entity_id=campaign.id, after=_snapshot(campaign))
    db.session.commit()
    logger.info("created campaign %s for job %s on %s", campaign.id, job.id, ",".join(platforms))
    return campaign


def _check_platforms(platforms: Sequence[str]) -> list[str]:
    cleaned = [p.strip().lower() for p in platforms if p and p.strip()]
    unknown = sorted(set(cleaned) - set(PLATFORMS))
    if not cleaned or unknown:
        raise ValidationFailed(
            "Choose one or more platforms among " + ", ".join(PLATFORMS),
            errors={
                "platforms": [f"unknown: {', '.join(unknown)}" if unknown else "at least one is required"]
            },
        )
    if len(set(cleaned)) != len(cleaned):
        raise ValidationFailed("A platform is listed twice", errors={"platforms": ["duplicates"]})
    return cleaned


def _check_segments(segment_ids: Sequence[int]) -> list[Segment]:
    if not segment_ids:
        return []
    if len(set(segment_ids)) != len(segment_ids):
        raise ValidationFailed("A segment is listed twice", errors={"segment_ids": ["duplicates"]})
    found = {s.id: s for s in db.session.scalars(select(Segment).where(Segment.id.in_(segment_ids)))}
    missing = [sid for sid in segment_ids if sid not in found]
    if missing:
        raise ValidationFailed(
            f"Unknown segment(s): {', '.join(map(str, missing))}", errors={"segment_ids": ["unknown ids"]}
        )
    models = {found[sid].model_id for sid in segment_ids}
    active = db.session.scalar(select(SegmentationModel.id).where(SegmentationModel.status == "active"))
    if models != {active}:
        raise ValidationFailed(
            "Segments must belong to the active segmentation model",
            errors={"segment_ids": ["not in the active model"]},
        )
    return [found[sid] for sid in segment_ids]


def _check_money_and_dates(
    platforms: list[str],
    budget_total: int,
    budget_daily: int | None,
    start: date,
    end: date | None,
    target_cpa: int | None,
) -> None:
    errors: dict[str, list[str]] = {}
    if budget_total < MIN_PLATFORM_BUDGET * len(platforms):
        errors["budget_total"] = [
            f"at least {MIN_PLATFORM_BUDGET * len(platforms)} COP for {len(platforms)} platforms"
        ]
    if budget_daily is not None and not 0 < budget_daily <= budget_total:
        errors["budget_daily"] = ["must be positive and not above the total budget"]
    if end is not None and end < start:
        errors["end_date"] = ["must not be before start_date"]
    if target_cpa is not None and target_cpa <= 0:
        errors["target_cpa"] = ["must be positive"]
    if errors:
        raise ValidationFailed("The campaign's budget or dates are invalid", errors=errors)


def _weights(platforms: list[str], weights: dict[str, float] | None) -> list[float]:
    if not weights:
        return [1.0] * len(platforms)
    extra = sorted(set(weights) - set(platforms))
    if (
        extra
        or any(weights.get(p, 0) < 0 for p in platforms)
        or sum(weights.get(p, 0) for p in platforms) <= 0
    ):
        raise ValidationFailed(
            "Budget weights must be non-negative, name only the chosen platforms and not all be zero",
            errors={"weights": [f"unexpected: {', '.join(extra)}" if extra else "invalid"]},
        )
    return [float(weights.get(p, 0)) for p in platforms]


def _flight_days(campaign: Campaign) -> int:
    if campaign.end_date:
        return max(1, (campaign.end_date - campaign.start_date).days + 1)
    return 30  # an open-ended campaign paces its total over a month


def _add_ad_groups(
    pc: PlatformCampaign, campaign: Campaign, segments: list[Segment], daily: int | None, total: int
) -> None:
    per_day = daily if daily else max(1, total // _flight_days(campaign))
    targets: list[Segment | None] = list(segments) or [None]
    shares = split_budget(per_day, [max(s.size, 1) if s else 1 for s in targets])
    for segment, share in zip(targets, shares, strict=True):
        label = segment.name if segment else "Audiencia amplia"
        pc.ad_groups.append(
            AdGroup(segment_id=segment.id if segment else None, name=label[:200], budget_daily=share)
        )


def _ad_group_ref(group: AdGroup) -> str:
    return f"s{group.segment_id}" if group.segment_id else "broad"


def _compliance(pc: PlatformCampaign, campaign: Campaign) -> tuple[dict[str, Any], dict[str, Any]]:
    job = campaign.job
    segments = {s.id: s for s in campaign.segments}
    targeting: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for group in pc.ad_groups:
        wishes = wishes_for_segment(segments.get(group.segment_id) if group.segment_id else None, job)
        plan = plan_targeting(pc.platform, job_context(job), wishes)
        ref = _ad_group_ref(group)
        group.targeting = {"requested": _plain(wishes), "allowed": _plain(plan.targeting)}
        targeting[ref] = group.targeting["allowed"]
        report[ref] = plan.report()
    return targeting, report


def _plain(value: Any) -> Any:
    from dataclasses import asdict, is_dataclass

    return _jsonable(asdict(value)) if is_dataclass(value) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return audit.snapshot(campaign, AUDITED)


# -- preview ------------------------------------------------------------------------------------


def platform_budget_units(platform: str, pesos: int | None) -> dict[str, Any] | None:
    """A budget in the unit each platform's API takes (exact integer conversions)."""
    if pesos is None:
        return None
    if platform == "meta":
        return {"field": "lifetime_budget", "value": money.meta_amount(pesos), "unit": "COP (offset 1)"}
    if platform == "tiktok":
        return {"field": "budget", "value": money.tiktok_amount(pesos), "unit": "COP"}
    field = {
        "google": "amount_micros",
        "x": "total_budget_amount_local_micro",
        "snapchat": "lifetime_spend_cap_micro",
    }
    return {"field": field[platform], "value": money.to_micros(pesos), "unit": "COP micros"}


def preview_campaign(*, campaign_id: int) -> dict[str, Any]:
    """Creatives, budgets in platform units and the compliance report, before anything is published."""
    campaign = get_campaign(campaign_id=campaign_id)
    platforms = []
    for pc in campaign.platform_campaigns:
        platforms.append(
            {
                "platform": pc.platform,
                "status": pc.status,
                "budget_total": pc.budget_total,
                "budget_daily": pc.budget_daily,
                "platform_budget": platform_budget_units(pc.platform, pc.budget_total),
                "creatives": [_creative_dict(c) for c in pc.creatives],
                "ad_groups": [
                    {
                        "ref": _ad_group_ref(group),
                        "name": group.name,
                        "segment_id": group.segment_id,
                        "budget_daily": group.budget_daily,
                        "targeting": group.targeting.get("allowed", {}),
                        "compliance": pc.compliance_report.get(_ad_group_ref(group), []),
                    }
                    for group in pc.ad_groups
                ],
            }
        )
    return {"campaign_id": campaign.id, "status": campaign.status, "platforms": platforms}


def _creative_dict(creative: AdCreative) -> dict[str, Any]:
    return {
        "headline": creative.headline,
        "primary_text": creative.primary_text,
        "description": creative.description,
        "call_to_action": creative.call_to_action,
        "link_url": creative.link_url,
        "extra": creative.extra,
    }


# -- publishing ---------------------------------------------------------------------------------


def publish_campaign(*, campaign_id: int) -> TaskRun:
    """Start publishing a draft: one background task per platform; returns the tracking TaskRun."""
    campaign = _locked_for("publish", campaign_id)
    return _start_publishing(campaign, [pc for pc in campaign.platform_campaigns], action="publish")


def retry_failed(*, campaign_id: int) -> TaskRun:
    """Republish only the platform campaigns that failed."""
    campaign = _locked_for("retry_failed", campaign_id)
    failed = [pc for pc in campaign.platform_campaigns if pc.status == "failed"]
    if not failed:
        db.session.rollback()
        raise InvalidTransition(f"Campaign {campaign_id} has no failed platform to retry")
    return _start_publishing(campaign, failed, action="retry_failed")


def _locked_for(action: str, campaign_id: int) -> Campaign:
    """The campaign, row-locked, if `action` is allowed in its state; else 409 (lock released)."""
    campaign = _locked(campaign_id)
    try:
        check_action(action, campaign.status, campaign_id=campaign.id)
    except InvalidTransition:
        db.session.rollback()  # never keep the row locked while the caller handles the error
        raise
    return campaign


def _locked(campaign_id: int) -> Campaign:
    # Row lock (PostgreSQL): two clicks on "publish" cannot both pass the state check.
    campaign = db.session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        db.session.rollback()
        raise NotFound(f"Campaign {campaign_id} does not exist")
    return campaign


def _start_publishing(campaign: Campaign, targets: list[PlatformCampaign], *, action: str) -> TaskRun:
    before = campaign.status
    campaign.status = "publishing"
    for pc in targets:
        pc.status, pc.last_error, pc.error_class = "pending", None, None
    audit.record(
        f"campaign.{action}",
        entity_type="campaign",
        entity_id=campaign.id,
        before={"status": before},
        after={"status": "publishing", "platforms": [pc.platform for pc in targets]},
    )
    db.session.commit()
    run = task_runs.create_task_run(
        kind="campaign.publish",
        params={"campaign_id": campaign.id, "platforms": [pc.platform for pc in targets]},
        subject=("campaign", campaign.id),
    )
    run_id, campaign_id = run.id, campaign.id
    target_ids = [pc.id for pc in targets]
    sent = 0
    try:
        for pc_id in target_ids:
            task_queue.send(TASK_PUBLISH_PLATFORM_CAMPAIGN, pc_id, run_id, queue="publishing")
            sent += 1
    except task_queue.QueueUnavailable as exc:
        db.session.rollback()
        if sent == 0:
            # Nothing reached the queue: put everything back as it was and say so.
            campaign = db.session.get(Campaign, campaign_id)
            campaign.status = before  # type: ignore[union-attr]
            for pc_id in target_ids:
                pc = db.session.get(PlatformCampaign, pc_id)
                pc.status = "failed" if action == "retry_failed" else "pending"  # type: ignore[union-attr]
            db.session.commit()
            task_runs.fail_task_run(
                task_id=run_id, error="The task queue is unavailable; nothing was started."
            )
            raise ServiceUnavailable("The task queue is unavailable; the campaign was not published") from exc
        # Some tasks were sent: the rest stay pending and the stalled-publish sweeper resends them.
        logger.error(
            "broker failed after %d of %d publish tasks for campaign %s", sent, len(target_ids), campaign_id
        )
    db.session.expire_all()
    return task_runs.get_task_run(task_id=run_id)


def settle_campaign_of(*, platform_campaign_id: int, run_id: str | None = None) -> None:
    """Settle the campaign a platform campaign belongs to (after one of its publishes ended)."""
    pc = db.session.get(PlatformCampaign, platform_campaign_id)
    if pc is not None:
        settle_campaign(campaign_id=pc.campaign_id, run_id=run_id)


def settle_campaign(*, campaign_id: int, run_id: str | None = None) -> Campaign:
    """Recompute a publishing campaign's status from its platforms, and the run's progress."""
    campaign = _locked(campaign_id)
    statuses = [pc.status for pc in campaign.platform_campaigns]
    if campaign.status in ("publishing", "partially_active", "failed"):
        new = settled_status(statuses)
        if new != campaign.status:
            before = campaign.status
            campaign.status = new
            audit.record(
                "campaign.status",
                entity_type="campaign",
                entity_id=campaign.id,
                before={"status": before},
                after={"status": new},
            )
    db.session.commit()
    if run_id:
        _update_publish_run(run_id, campaign)
    return campaign


def _update_publish_run(run_id: str, campaign: Campaign) -> None:
    run = db.session.get(TaskRun, run_id)
    if run is None or run.status in ("succeeded", "failed"):
        return
    names = set(run.params.get("platforms", []))
    targets = [pc for pc in campaign.platform_campaigns if pc.platform in names]
    finished = [pc for pc in targets if pc.status not in ("pending", "publishing")]
    if run.status == "pending":
        run.status, run.started_at = "running", utcnow()
    run.progress = 100.0 * len(finished) / max(1, len(targets))
    run.stage = f"{len(finished)} of {len(targets)} platforms done"
    if len(finished) == len(targets):
        run.status = "succeeded"
        run.finished_at = utcnow()
        run.result = {
            "campaign_status": campaign.status,
            "platforms": {pc.platform: {"status": pc.status, "error": pc.last_error} for pc in targets},
        }
    db.session.commit()


# -- managing a live campaign ------------------------------------------------------------------


def pause_campaign(*, campaign_id: int) -> Campaign:
    """Stop delivery on every live platform."""
    campaign = _locked_for("pause", campaign_id)
    return _set_delivery(
        campaign, target="paused", from_status="active", campaign_status="paused", action="pause"
    )


def resume_campaign(*, campaign_id: int) -> Campaign:
    """Restart delivery where it was paused."""
    campaign = _locked_for("resume", campaign_id)
    has_failed = any(pc.status == "failed" for pc in campaign.platform_campaigns)
    return _set_delivery(
        campaign,
        target="active",
        from_status="paused",
        campaign_status="partially_active" if has_failed else "active",
        action="resume",
    )


def complete_campaign(*, campaign_id: int) -> Campaign:
    """End the flight: stop delivery and mark the campaign completed (results stay readable)."""
    campaign = _locked_for("complete", campaign_id)
    return _set_delivery(
        campaign, target="paused", from_status="active", campaign_status="completed", action="complete"
    )


def archive_campaign(*, campaign_id: int) -> Campaign:
    """Archive at the platforms (where published) and in AdFlux; archiving is final."""
    campaign = _locked_for("archive", campaign_id)
    return _set_delivery(
        campaign, target="archived", from_status=None, campaign_status="archived", action="archive"
    )


def _set_delivery(
    campaign: Campaign, *, target: str, from_status: str | None, campaign_status: str, action: str
) -> Campaign:
    from adflux.platforms.errors import PlatformError
    from adflux.platforms.types import PublishResult
    from adflux.services.platform_access import adapter_for

    before = _snapshot(campaign)
    failures: dict[str, str] = {}
    for pc in campaign.platform_campaigns:
        if from_status and pc.status != from_status:
            continue
        if pc.external_campaign_id and pc.status not in ("archived",):
            adapter, _ = adapter_for(pc.platform)
            try:
                adapter.set_status(PublishResult.from_dict(pc.external_ids), target)
            except PlatformError as exc:
                failures[pc.platform] = str(exc)
                pc.last_error = f"{action}: {exc}"
                continue
            finally:
                adapter.close()
        if target == "archived" or pc.external_campaign_id:
            pc.status = target
    if failures and len(failures) == len(
        [pc for pc in campaign.platform_campaigns if pc.external_campaign_id]
    ):
        db.session.commit()
        raise ServiceUnavailable(
            f"Could not {action} the campaign on any platform: "
            + "; ".join(f"{p}: {m}" for p, m in failures.items())
        )
    campaign.status = campaign_status
    audit.record(
        f"campaign.{action}",
        entity_type="campaign",
        entity_id=campaign.id,
        before=before,
        after=_snapshot(campaign),
    )
    db.session.commit()
    return campaign


def resend_stalled_publishes(*, older_than_minutes: int = 10) -> int:
    """Re-enqueue platform campaigns left pending (e.g. the broker failed mid-send); safe to repeat."""
    cutoff = utcnow() - timedelta(minutes=older_than_minutes)
    stalled = db.session.scalars(
        select(PlatformCampaign)
        .join(Campaign)
        .where(
            Campaign.status == "publishing",
            PlatformCampaign.status.in_(("pending", "publishing")),
            PlatformCampaign.updated_at < cutoff,
        )
    ).all()
    for pc in stalled:
        task_queue.send(TASK_PUBLISH_PLATFORM_CAMPAIGN, pc.id, None, queue="publishing")
    return len(stalled)
