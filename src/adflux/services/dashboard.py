"""Small reads the dashboard needs that no other service offers (counts, latest runs, model curves)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select

from adflux.constants import CAMPAIGN_STATUSES
from adflux.extensions import db
from adflux.models import (
    Alert,
    AuditEvent,
    Campaign,
    CampaignMetricDaily,
    DailyMetricTotal,
    PlatformCampaign,
    SegmentationModel,
    TaskRun,
)
from adflux.services import segmentation
from adflux.services.campaign_states import ACTIONS

# The campaign actions the dashboard offers, in the order their buttons appear.
DASHBOARD_ACTIONS: tuple[str, ...] = (
    "publish",
    "pause",
    "resume",
    "retry_failed",
    "retry_action",
    "complete",
    "archive",
)
K_SEARCH_FIELDS: tuple[str, ...] = ("silhouette", "davies_bouldin", "calinski_harabasz", "inertia")


# -- campaigns ----------------------------------------------------------------------------------


def campaign_status_counts() -> dict[str, int]:
    """How many campaigns are in each status (every status present, zero included)."""
    counts = dict.fromkeys(CAMPAIGN_STATUSES, 0)
    rows = db.session.execute(select(Campaign.status, func.count()).group_by(Campaign.status))
    for status, count in rows:
        counts[status] = count
    return counts


def available_actions(campaign: Campaign) -> list[str]:
    """The dashboard actions the campaign's state machine allows right now."""
    has_failed = any(pc.status == "failed" for pc in campaign.platform_campaigns)
    return [
        action
        for action in DASHBOARD_ACTIONS
        if campaign.status in ACTIONS[action]
        and (action != "retry_failed" or has_failed)
        and (action != "retry_action" or campaign.pending_action is not None)
    ]


def platform_objects(platform_campaign: PlatformCampaign) -> list[tuple[str, str, str]]:
    """(kind, name, id) of every object the platform created for `platform_campaign`.

    Kinds: campaign, ad_group and ad (named as the ad group in AdFlux), creative; anything else
    the adapter recorded comes with its own name as the kind.
    """
    ids = platform_campaign.external_ids or {}
    names = {f"s{g.segment_id}" if g.segment_id else "broad": g.name for g in platform_campaign.ad_groups}
    rows: list[tuple[str, str, str]] = []
    campaign_id = ids.get("campaign_id") or platform_campaign.external_campaign_id
    if campaign_id:
        rows.append(("campaign", "", str(campaign_id)))
    for kind, key in (("ad_group", "ad_groups"), ("ad", "ads")):
        for ref, value in (ids.get(key) or {}).items():
            rows.append((kind, names.get(ref, ref), str(value)))
    if ids.get("creative_id"):
        rows.append(("creative", "", str(ids["creative_id"])))
    for name, value in (ids.get("extra") or {}).items():
        if isinstance(value, (str, int)) and value != "":
            rows.append((str(name), str(name), str(value)))
    return rows


def latest_metric_day(*, campaign_id: int | None = None) -> date | None:
    """The newest day with synced metrics (for one campaign, or any), from the rollups.

    One campaign's: its rows read by their (campaign, platform, date) key. `GROUP BY` keeps
    PostgreSQL from its min/max shortcut down the date index of every campaign's rows, newest
    first, until one of this campaign's, which it takes when few campaigns share the table (300
    campaigns of a year: 240 ms for one that stopped 11 months before the rest, the whole index
    for one without metrics); by the key, 0.2 ms for a year on three platforms."""
    if campaign_id is None:
        return db.session.scalar(select(func.max(DailyMetricTotal.date)))
    return db.session.scalar(campaign_last_day(campaign_id))


def campaign_last_day(campaign_id: int) -> Select[Any]:
    """The statement of `latest_metric_day(campaign_id=)` (no row: no metrics)."""
    m = CampaignMetricDaily
    return select(func.max(m.date)).where(m.campaign_id == campaign_id).group_by(m.campaign_id)


# -- background work ----------------------------------------------------------------------------


def latest_task_run(*, subject_type: str, subject_id: int | str) -> TaskRun | None:
    """The newest task run about one subject (e.g. a campaign's last publish), if any."""
    stmt = (
        select(TaskRun)
        .where(TaskRun.subject_type == subject_type, TaskRun.subject_id == str(subject_id))
        .order_by(TaskRun.created_at.desc(), TaskRun.id)
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def task_runs(*, task_ids: Sequence[str]) -> list[TaskRun]:
    """The task runs with these ids (unknown ids are left out), for progress polling."""
    ids = [t for t in dict.fromkeys(task_ids) if t][:100]
    if not ids:
        return []
    return list(db.session.scalars(select(TaskRun).where(TaskRun.id.in_(ids)).order_by(TaskRun.id)))


# -- alerts -------------------------------------------------------------------------------------


def open_alert_count() -> int:
    """Alerts open now (every page's menu shows it): the open ones only, counted in the index
    that keeps them (`uq_alerts_open_rule_key`), not every alert ever grouped by status."""
    return int(db.session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "open")) or 0)


def alert_counts() -> dict[str, int]:
    """Alerts by status: {"open": n, "resolved": m, "total": n + m}."""
    counts = {"open": 0, "resolved": 0}
    for status, count in db.session.execute(select(Alert.status, func.count()).group_by(Alert.status)):
        counts[status] = count
    counts["total"] = sum(counts.values())
    return counts


# -- audit trail --------------------------------------------------------------------------------

# A value in the audit table is cut after this many characters (the API gives it whole).
AUDIT_VALUE_CHARS = 160
EMPTY_VALUE = "—"


@dataclass(frozen=True)
class AuditChange:
    """One field of an audited entity: its value before and after (None: not there)."""

    field: str
    before: str | None
    after: str | None


def audit_entity_types() -> list[str]:
    """The kinds of entity the audit trail has recorded changes to, alphabetically.

    Read as a skip scan of the (entity_type, entity_id) index: one probe per kind, the next kind
    after the last found, however many events there are (a DISTINCT read every event: 130 ms at
    a million)."""
    kinds = select(func.min(AuditEvent.entity_type).label("kind")).cte("kinds", recursive=True)
    after = select(func.min(AuditEvent.entity_type)).where(AuditEvent.entity_type > kinds.c.kind)
    kinds = kinds.union_all(select(after.scalar_subquery()).where(kinds.c.kind.is_not(None)))
    stmt = select(kinds.c.kind).where(kinds.c.kind.is_not(None)).order_by(kinds.c.kind)
    return list(db.session.scalars(stmt))


def audit_changes(event: AuditEvent) -> list[AuditChange]:
    """What an event changed: every field whose value differs between before and after, in the
    order recorded (a creation lists what the entity was created with, a removal what it had)."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    changes = []
    for name in dict.fromkeys([*before, *after]):
        old, new = before.get(name, _ABSENT), after.get(name, _ABSENT)
        if old == new:
            continue
        changes.append(AuditChange(str(name), _audit_text(old), _audit_text(new)))
    return changes


_ABSENT = object()


def _audit_text(value: Any) -> str | None:
    if value is _ABSENT:
        return None
    if value is None:
        return EMPTY_VALUE
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= AUDIT_VALUE_CHARS else text[: AUDIT_VALUE_CHARS - 1] + "…"


# -- segmentation -------------------------------------------------------------------------------


def pick_model(*, version: int | None = None) -> SegmentationModel | None:
    """The model with `version` (NotFound if none), else the active one, else the newest, else None."""
    if version is not None:
        return segmentation.get_model(version=version)
    return segmentation.active_model() or next(iter(segmentation.list_models(page_size=1).items), None)


def k_search(model: SegmentationModel) -> list[dict[str, Any]]:
    """The model's k search (one row per k, ascending), with non-finite scores as None."""
    rows = (model.metrics or {}).get("k_search") or []
    cleaned = []
    for row in rows:
        if not isinstance(row, dict) or "k" not in row:
            continue
        entry: dict[str, Any] = {"k": int(row["k"])}
        for name in K_SEARCH_FIELDS:
            value = row.get(name)
            entry[name] = float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None
        cleaned.append(entry)
    return sorted(cleaned, key=lambda r: r["k"])
