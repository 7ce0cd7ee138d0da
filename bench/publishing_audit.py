"""What the publishing benches count at the sandbox: its objects per platform, the shape of one
campaign tree, duplicates and lost publishes, and the faults it injected.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import publishing_scratch
from publishing_media import MEDIA_KINDS, media_audit, tree_only
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Campaign, PlatformCampaign


def sandbox_counts(control: httpx.Client) -> dict[str, dict[str, int]]:
    return {
        name: control.get("/__sandbox/objects", params={"platform": name}).json()["counts"]
        for name in publishing_scratch.PLATFORMS
    }


def tree_shape(control: httpx.Client) -> dict[str, dict[str, int]]:
    """Objects per kind in one campaign tree on each platform (the sandbox holds exactly one)."""
    return sandbox_counts(control)


def audit_platforms(
    control: httpx.Client, campaign_ids: list[int], shape: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """Duplicates and lost publishes, counted at the sandbox and in the database."""
    rows = db.session.execute(
        select(
            PlatformCampaign.platform, PlatformCampaign.status, PlatformCampaign.external_campaign_id
        ).where(PlatformCampaign.campaign_id.in_(campaign_ids))
    ).all()
    result: dict[str, Any] = {"duplicates": 0, "lost": 0, "platforms": {}}
    openings = len(set(db.session.scalars(select(Campaign.job_id).where(Campaign.id.in_(campaign_ids)))))
    for name in publishing_scratch.PLATFORMS:
        mine = [r for r in rows if r.platform == name]
        listing = control.get("/__sandbox/objects", params={"platform": name}).json()
        counts: dict[str, int] = listing["counts"]
        expected = {kind: per_tree * len(mine) for kind, per_tree in tree_only(shape)[name].items()}
        extra = sum(max(0, counts.get(kind, 0) - want) for kind, want in expected.items())
        extra += sum(
            n for kind, n in counts.items() if kind not in expected and kind not in MEDIA_KINDS[name]
        )
        names = Counter(
            (obj["kind"], obj["name"].split("]", 1)[0]) for obj in listing["objects"] if obj.get("name")
        )
        same_name = sum(n - 1 for n in names.values() if n > 1)
        at_platform = {obj["id"] for obj in listing["objects"] if obj["kind"] == "campaign"}
        not_active = sum(1 for r in mine if r.status != "active")
        missing = sum(1 for r in mine if r.status == "active" and r.external_campaign_id not in at_platform)
        duplicates = max(extra, same_name)
        result["duplicates"] += duplicates
        result["lost"] += not_active + missing
        result["platforms"][name] = {
            "platform_campaigns": len(mine),
            "objects": counts,
            "expected": expected,
            "duplicates": duplicates,
            "not_active": not_active,
            "active_but_missing_at_platform": missing,
            "media": media_audit(name, counts, openings),
        }
    statuses = Counter(db.session.scalars(select(Campaign.status).where(Campaign.id.in_(campaign_ids))).all())
    result["campaign_statuses"] = dict(statuses)
    return result


def _faults_seen(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Injected 5xx answers and connections dropped after a commit, between two /stats reads."""
    return {
        kind: sum(after.get(kind, {}).values()) - sum(before.get(kind, {}).values())
        for kind in ("injected_errors", "dropped")
    }
