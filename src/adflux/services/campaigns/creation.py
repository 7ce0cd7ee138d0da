"""Creating a draft campaign from a job: one platform campaign per platform, budget split,
ad groups per segment, creatives generated, targeting checked against each platform's rules."""

from __future__ import annotations

import logging
import secrets as pysecrets
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import date
from typing import Any

from flask import g, has_request_context
from sqlalchemy import select

from adflux.catalogue import gettext as _
from adflux.constants import PLATFORMS
from adflux.extensions import db
from adflux.models import (
    AdCreative,
    AdGroup,
    Campaign,
    JobOpening,
    PlatformCampaign,
    Segment,
    SegmentationModel,
)
from adflux.platforms.compliance import plan_targeting
from adflux.services import audit
from adflux.services.budgets import split_budget
from adflux.services.campaigns.audit_fields import snapshot
from adflux.services.creatives import generate_creative
from adflux.services.errors import InvalidTransition, ValidationFailed
from adflux.services.jobs import get_job
from adflux.services.local_dates import today
from adflux.services.publishing import ad_group_ref
from adflux.services.segmentation.reach import check_reach
from adflux.services.targeting import job_context, wishes_for_segment

logger = logging.getLogger(__name__)

# Below this a platform cannot deliver anything useful (and some refuse the budget outright).
MIN_PLATFORM_BUDGET = 10_000  # COP


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
    job = _open_job(job_id)
    platforms = _check_platforms(platforms)
    segments = _check_segments(segment_ids)
    check_reach(segments, platforms)
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
                _(
                    "%(platform)s would get %(total)s COP; each platform needs at least "
                    "%(min_platform_budget)s COP",
                    platform=platform,
                    total=total,
                    min_platform_budget=MIN_PLATFORM_BUDGET,
                ),
                errors={"budget_total": [f"too small for {len(platforms)} platforms"]},
            )
        _add_platform_campaign(
            campaign, job, segments, platform=platform, weight=weight, total=total, daily=daily
        )
    audit.record("campaign.create", entity_type="campaign", entity_id=campaign.id, after=snapshot(campaign))
    db.session.commit()
    logger.info("created campaign %s for job %s on %s", campaign.id, job.id, ",".join(platforms))
    return campaign


def _open_job(job_id: int) -> JobOpening:
    job = get_job(job_id=job_id)
    if job.status != "open":
        raise InvalidTransition(
            _(
                "Job opening %(job_id)s is %(status)s; only open jobs can be advertised",
                job_id=job_id,
                status=job.status,
            )
        )
    return job


def _add_platform_campaign(
    campaign: Campaign,
    job: JobOpening,
    segments: list[Segment],
    *,
    platform: str,
    weight: float,
    total: int,
    daily: int | None,
) -> None:
    """The campaign on one platform: its budget share, ad groups, creative and checked targeting."""
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


def _check_platforms(platforms: Sequence[str]) -> list[str]:
    cleaned = [p.strip().lower() for p in platforms if p and p.strip()]
    unknown = sorted(set(cleaned) - set(PLATFORMS))
    if not cleaned or unknown:
        raise ValidationFailed(
            _("Choose one or more platforms among %(platforms)s", platforms=", ".join(PLATFORMS)),
            errors={
                "platforms": [
                    _("unknown: %(platforms)s", platforms=", ".join(unknown))
                    if unknown
                    else _("at least one is required")
                ]
            },
        )
    if len(set(cleaned)) != len(cleaned):
        raise ValidationFailed(_("A platform is listed twice"), errors={"platforms": ["duplicates"]})
    return cleaned


def _check_segments(segment_ids: Sequence[int]) -> list[Segment]:
    if not segment_ids:
        return []
    if len(set(segment_ids)) != len(segment_ids):
        raise ValidationFailed(_("A segment is listed twice"), errors={"segment_ids": ["duplicates"]})
    found = {s.id: s for s in db.session.scalars(select(Segment).where(Segment.id.in_(segment_ids)))}
    missing = [sid for sid in segment_ids if sid not in found]
    if missing:
        raise ValidationFailed(
            _("Unknown segment(s): %(value)s", value=", ".join(map(str, missing))),
            errors={"segment_ids": ["unknown ids"]},
        )
    models = {found[sid].model_id for sid in segment_ids}
    active = db.session.scalar(select(SegmentationModel.id).where(SegmentationModel.status == "active"))
    if models != {active}:
        raise ValidationFailed(
            _("Segments must belong to the active segmentation model"),
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
        raise ValidationFailed(_("The campaign's budget or dates are invalid"), errors=errors)


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
            _("Budget weights must be non-negative, name only the chosen platforms and not all be zero"),
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


def _compliance(pc: PlatformCampaign, campaign: Campaign) -> tuple[dict[str, Any], dict[str, Any]]:
    job = campaign.job
    segments = {s.id: s for s in campaign.segments}
    targeting: dict[str, Any] = {}
    report: dict[str, Any] = {}
    for group in pc.live_groups:
        wishes = wishes_for_segment(segments.get(group.segment_id) if group.segment_id else None, job)
        plan = plan_targeting(pc.platform, job_context(job), wishes)
        ref = ad_group_ref(group)
        group.targeting = {"requested": _plain(wishes), "allowed": _plain(plan.targeting)}
        targeting[ref] = group.targeting["allowed"]
        report[ref] = plan.report()
    return targeting, report


def _plain(value: Any) -> Any:
    return _jsonable(asdict(value)) if is_dataclass(value) and not isinstance(value, type) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
