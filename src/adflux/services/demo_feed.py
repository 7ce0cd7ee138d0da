"""The demo's automation part: a simulated portal feed over loopback drives campaigns by playbook.

The feed lists new openings; a playbook (openings that publish a salary → Meta and Google) makes
and publishes their campaigns. Then the feed changes — a salary goes up, an opening is filled,
two openings are new — and a second run follows: the changed opening's campaign gets new ads in place, the
filled one's is paused on every platform, the new ones get campaigns. The feed is left disabled
(its loopback server ends with the demo).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from adflux.constants import STATUS_NAMES_ES
from adflux.extensions import db
from adflux.models import AuditEvent, Campaign, FeedRun
from adflux.services.feeds import registry as feeds
from adflux.services.feeds.runs import run_feed
from adflux.services.playbooks import registry as playbooks
from adflux.simulation.jobs import generate_jobs
from adflux.simulation.portal_feed import PortalFeedServer, render_xml

FIRST_OPENINGS = 12


@dataclass
class FeedDemo:
    runs: list[dict[str, Any]] = field(default_factory=list)
    campaigns: list[dict[str, Any]] = field(default_factory=list)


def run_feed_demo(*, seed: int, first_row: int, say: Callable[[str], None]) -> FeedDemo:
    """Two runs of a simulated portal feed and the campaigns that followed them."""
    jobs = generate_jobs(FIRST_OPENINGS, seed=seed, start=first_row)
    server = PortalFeedServer(render_xml(jobs))
    try:
        playbooks.create_playbook(
            data={
                "name": "Demo: ofertas con salario",
                "conditions": {"salary_min": 1},
                "platforms": ["meta", "google"],
                "budget_formula": "min(salary_max * 0.4, 2000000)",
                "budget_daily": 60_000,
                "flight_days": 30,
                "target_cpa": 30_000,
            }
        )
        feed = feeds.create_feed(
            data={
                "name": "Portal simulado (demo)",
                "location": server.url,
                "format": "xml",
                "interval_minutes": 15,
            }
        )
        result = FeedDemo()
        first = run_feed(feed_id=feed.id, trigger="manual")
        result.runs.append(_summary(first))
        say(_line("Primera lectura del feed", first))
        followed = _followed_refs()
        changed = _change(jobs, followed, seed=seed, first_row=first_row)
        server.publish(render_xml(changed))
        second = run_feed(feed_id=feed.id, trigger="manual")
        result.runs.append(_summary(second))
        say(_line("Segunda lectura (un salario sube, una oferta se cubre, dos nuevas)", second))
        feeds.update_feed(feed_id=feed.id, changes={"enabled": False})
        result.campaigns = _campaigns()
        return result
    finally:
        server.stop()


def _change(
    jobs: list[dict[str, Any]], followed: set[str], *, seed: int, first_row: int
) -> list[dict[str, Any]]:
    """The feed a day later: a raise for one followed opening, another filled, two new ones."""
    changed = [dict(job) for job in jobs]
    with_campaign = [job for job in changed if job["external_ref"] in followed]
    if with_campaign:
        raised = with_campaign[0]
        raised["salary_min"] += 300_000
        raised["salary_max"] += 300_000
    if len(with_campaign) > 1:
        with_campaign[1]["feed_status"] = "filled"
    return changed + generate_jobs(2, seed=seed, start=first_row + len(jobs))


def _followed_refs() -> set[str]:
    return {
        c.job.external_ref
        for c in db.session.scalars(select(Campaign).where(Campaign.playbook_id.is_not(None)))
    }


def _summary(run: FeedRun) -> dict[str, Any]:
    names = ("status", "listed", "new", "changed", "unchanged", "closed", "reopened", "rejected")
    return {"id": run.id, **{name: getattr(run, name) for name in names}}


def _line(title: str, run: FeedRun) -> str:
    return (
        f"{title}: {run.listed} ofertas, {run.new} nuevas, {run.changed} cambiadas, "
        f"{run.closed} cerradas, {run.rejected} rechazadas"
    )


def _campaigns() -> list[dict[str, Any]]:
    """Each campaign the feed made, with its status and the last decision and reason behind it."""
    out = []
    for campaign in db.session.scalars(
        select(Campaign).where(Campaign.playbook_id.is_not(None)).order_by(Campaign.id)
    ):
        decision = db.session.scalar(
            select(AuditEvent)
            .where(
                AuditEvent.entity_type == "campaign",
                AuditEvent.entity_id == str(campaign.id),
                AuditEvent.action.like("automation.%"),
            )
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        out.append(
            {
                "campaign_id": campaign.id,
                "job": campaign.job.title,
                "city": campaign.job.city,
                "status": STATUS_NAMES_ES.get(campaign.status, campaign.status),
                "budget_total": campaign.budget_total,
                "decision": (decision.after or {}).get("reason", "") if decision else "",
            }
        )
    return out
