"""What a playbook would do with an opening: the first enabled playbook whose conditions it meets,
and the campaign that follows (platforms, segments, money, flight) — or why none does.

"The best k segments" ranks the active model's segments by what they achieved on openings of the
same category over the last 90 days (lowest cost per application first, then most applications);
with no results yet, the largest segments go first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Campaign, JobOpening, Playbook, Segment, SegmentationModel
from adflux.services.local_dates import today
from adflux.services.playbooks.policy import formula_budget, matches
from adflux.services.playbooks.registry import get_playbook, list_playbooks
from adflux.services.reports import performance_report
from adflux.services.segmentation.reach import reachable_segments

LOOK_BACK_DAYS = 90
FINISHED = ("completed", "archived", "partially_archived", "failed")


@dataclass
class CampaignPlan:
    """The campaign a playbook makes for one opening (or, with `skip`, why it makes none)."""

    job_id: int
    playbook_id: int | None = None
    playbook_name: str | None = None
    platforms: list[str] = field(default_factory=list)
    segment_ids: list[int] = field(default_factory=list)
    budget_total: int = 0
    budget_daily: int | None = None
    end_date: date | None = None
    target_cpa: int | None = None
    objective: str = "traffic"
    requires_approval: bool = False
    skip: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}


def plan_for(job: JobOpening, playbooks: list[Playbook] | None = None) -> CampaignPlan:
    """The first enabled playbook that takes the opening, and what it would launch."""
    for playbook in playbooks if playbooks is not None else list_playbooks():
        if playbook.enabled and matches(playbook.conditions or {}, job):
            return plan_with(playbook, job)
    return CampaignPlan(job_id=job.id, skip="no playbook takes this opening")


def plan_with(playbook: Playbook, job: JobOpening) -> CampaignPlan:
    plan = CampaignPlan(
        job_id=job.id,
        playbook_id=playbook.id,
        playbook_name=playbook.name,
        platforms=list(playbook.platforms),
        budget_daily=playbook.budget_daily,
        target_cpa=playbook.target_cpa,
        objective=playbook.objective,
        requires_approval=playbook.requires_approval,
    )
    if playbook.flight_days:
        plan.end_date = today() + timedelta(days=playbook.flight_days - 1)
    if playbook.budget_formula:
        try:
            plan.budget_total = formula_budget(playbook.budget_formula, job)
        except ValueError as exc:
            plan.skip = f"the budget formula {playbook.budget_formula!r} fails for this opening: {exc}"
            return plan
    else:
        plan.budget_total = playbook.budget_total or 0
    if plan.budget_daily is not None and plan.budget_daily > plan.budget_total:
        plan.budget_daily = plan.budget_total
    plan.segment_ids = list(playbook.segment_ids or []) or best_segments(
        job.category, playbook.best_segments or 0, platforms=plan.platforms
    )
    return plan


def best_segments(category: str, k: int, *, platforms: Sequence[str] = ()) -> list[int]:
    """The k segments of the active model that did best on openings of this category, among
    those large enough for every one of `platforms` (smaller ones are not offered there)."""
    if k <= 0:
        return []
    model_id = db.session.scalar(select(SegmentationModel.id).where(SegmentationModel.status == "active"))
    if model_id is None:
        return []
    found = db.session.scalars(select(Segment).where(Segment.model_id == model_id))
    segments = {s.id: s for s in reachable_segments(found, platforms)}
    report = performance_report(
        group_by=("segment",),
        category=category,
        since=today() - timedelta(days=LOOK_BACK_DAYS),
        until=today(),
    )
    results = {r["segment"]: r for r in report["rows"] if r["segment"] in segments}

    def rank(segment_id: int) -> tuple[int, float, float, float]:
        row = results.get(segment_id)
        if row and row["applications"]:
            return (0, float(row["cpa"] or 0), -float(row["applications"]), 0.0)
        return (1, 0.0, 0.0, -float(segments[segment_id].size))

    return sorted(segments, key=rank)[:k]


def followed_events(events: list[Any]) -> list[Any]:
    """The feed events the campaign loop has work for: new (or reopened without campaigns)
    openings that an enabled playbook takes, and openings that have campaigns. Matching is done
    here in memory, so a 100,000-opening feed with no playbook for most of it sends few tasks."""
    if not events:
        return []
    ids = [e.job_id for e in events]
    with_campaigns: set[int] = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        with_campaigns.update(db.session.scalars(select(Campaign.job_id).where(Campaign.job_id.in_(chunk))))
    playbooks = [p for p in list_playbooks() if p.enabled]
    unfollowed = [
        e.job_id for e in events if e.kind in ("new", "reopened") and e.job_id not in with_campaigns
    ]
    taken: set[int] = set()
    if playbooks and unfollowed:
        for start in range(0, len(unfollowed), 1000):
            chunk = unfollowed[start : start + 1000]
            for job in db.session.scalars(select(JobOpening).where(JobOpening.id.in_(chunk))):
                if any(matches(p.conditions or {}, job) for p in playbooks):
                    taken.add(job.id)
    return [e for e in events if e.job_id in with_campaigns or e.job_id in taken]


def dry_run(*, playbook_id: int | None = None, limit: int = 50) -> dict[str, Any]:
    """Which open openings with no live campaign each playbook would take (what the loop would
    launch if they were new in the feed), and what it would spend. Nothing is created."""
    playbooks = list_playbooks()
    only = get_playbook(playbook_id=playbook_id) if playbook_id is not None else None
    followed = select(Campaign.job_id).where(Campaign.status.not_in(FINISHED))
    jobs = db.session.scalars(
        select(JobOpening)
        .where(JobOpening.status == "open", JobOpening.id.not_in(followed))
        .order_by(JobOpening.id.desc())
        .limit(5000)
    )
    taken: list[dict[str, Any]] = []
    per_playbook: dict[int, dict[str, Any]] = {
        p.id: {"playbook_id": p.id, "name": p.name, "openings": 0, "budget_total": 0, "skipped": 0}
        for p in playbooks
    }
    for job in jobs:
        plan = plan_for(job, playbooks)
        if plan.playbook_id is None or (only is not None and plan.playbook_id != only.id):
            continue
        summary = per_playbook[plan.playbook_id]
        if plan.skip:
            summary["skipped"] += 1
        else:
            summary["openings"] += 1
            summary["budget_total"] += plan.budget_total
        if len(taken) < limit:
            taken.append({"job_id": job.id, "title": job.title, "city": job.city, **plan.as_dict()})
    summaries = [s for s in per_playbook.values() if only is None or s["playbook_id"] == only.id]
    return {"playbooks": summaries, "openings": taken}
