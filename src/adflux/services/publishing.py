"""Publishing one platform campaign, exactly once.

Three guards make duplicates impossible: an advisory lock so only one worker publishes a given
platform campaign at a time (released by PostgreSQL if that worker dies); our reference in every
object name, so a retry finds what an earlier attempt created instead of creating it again; and
the external ids written to the database before the tree is activated.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Literal

from sqlalchemy import select

from adflux.constants import TASK_APPLY_PLATFORM_CHANGE
from adflux.extensions import db
from adflux.models import AdGroup, Campaign, Candidate, CandidateSegment, PlatformCampaign, Segment
from adflux.models.base import utcnow
from adflux.platforms.ad_group_states import without_paused
from adflux.platforms.base import AUDIENCE_LABEL, PlatformAdapter, object_name
from adflux.platforms.errors import (
    AuthError,
    FatalError,
    PlatformError,
    PlatformValidationError,
    RetryableError,
)
from adflux.platforms.media import MEDIA_KEYS, missing_media, without_media
from adflux.platforms.media import attach as attach_media
from adflux.platforms.types import AdGroupSpec, CampaignSpec, CreativeSpec, PublishResult
from adflux.services import creative_images, media_uploads, platform_links, task_queue
from adflux.services.commits import commit_keeping_loaded
from adflux.services.locks import audience_key, hold_lock, media_lock_key, try_lock
from adflux.services.platform_access import adapter_for
from adflux.services.targeting import job_context, wishes_for_segment

logger = logging.getLogger(__name__)

Outcome = Literal["done", "failed", "retry", "busy", "skipped"]
# A platform's Retry-After is honoured at most this far ahead (a longer hint is a platform bug).
MAX_RETRY_AFTER_SECONDS = 24 * 3600


class RetryLater(Exception):
    """The platform asked for a wait longer than a worker should sleep: retry at that time instead.

    The transport waits out short hints itself (up to RetryPolicy.max_wait, 120 s); a longer one
    comes here, the platform campaign goes back to pending, and the task schedules its retry
    `seconds` from now (Celery countdown) rather than holding a worker asleep.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:.0f} s (the platform's Retry-After)")
        self.seconds = min(float(seconds), MAX_RETRY_AFTER_SECONDS)


# Consented members uploaded per segment audience on each publish (platforms take 10k per call).
AUDIENCE_UPLOAD_LIMIT = 10_000
# Platform campaigns whose tree exists at the platform.
LIVE = ("active", "paused")


def publish_platform_campaign(*, platform_campaign_id: int, final_attempt: bool = False) -> Outcome:
    """Create (or find) the tree at the platform, record its ids, then activate it."""
    with try_lock("publish", platform_campaign_id) as acquired:
        if not acquired:
            logger.info("platform campaign %s is being published by another worker", platform_campaign_id)
            return "busy"
        # Fresh (populate_existing: a redelivered task's session may hold an older copy).
        pc = db.session.get(PlatformCampaign, platform_campaign_id, populate_existing=True)
        if pc is None:
            return "skipped"
        _load_for_spec(pc)
        if pc.status in ("active", "paused", "archived") or pc.campaign.status == "archived":
            return "skipped"  # a redelivered or repeated task: already done
        # Read before the state it is the revision of (loaded above, before the spec is built from
        # it): a change committed while the spec is read is sent again after, never lost.
        revision = pc.update_revision
        pc.status = "publishing"
        pc.attempts += 1
        commit_keeping_loaded()  # what build_spec reads stays loaded
        adapter, account_id = adapter_for(pc.platform)
        try:
            with adapter:
                pc.account_id = account_id
                spec = upload_media_once(build_spec(pc, adapter), adapter)
                spec, result = publish_with_media(spec, adapter)
                if spec.creative.image and result.extra.get("media") and not _names_media(spec, pc.platform):
                    # Uploaded by the adapter itself (a media id the spec named is recorded already).
                    media_uploads.remember(
                        pc.platform, adapter.account.account_id, spec.creative.image, result.extra["media"]
                    )
                platform_links.claim(pc, result, account_ref=adapter.account.account_id)
                _record(pc, result)
                db.session.commit()  # ids first: a crash after this point is found, not recreated
                # An ad group paused on its own before the tree went live stays paused.
                paused = {
                    segment_ref(segment_id)
                    for segment_id in db.session.scalars(
                        select(AdGroup.segment_id).where(
                            AdGroup.platform_campaign_id == platform_campaign_id,
                            AdGroup.status.in_(("paused", "removed")),
                        )
                    )
                }
                tree = without_paused(result, paused)
                adapter.activate(tree)
                result.status = tree.status
                pc.external_ids = result.to_dict()
                pc.status, pc.published_at, pc.last_error, pc.error_class = "active", utcnow(), None, None
                _carried(pc, revision)
                db.session.commit()
                logger.info("published %s campaign %s (%s)", pc.platform, pc.campaign_id, result.campaign_id)
                _follow_up(pc)
                return "done"
        except RetryableError as exc:
            outcome = _fail(pc, exc, "retryable", final=final_attempt)
            if outcome == "retry" and exc.retry_after:
                raise RetryLater(exc.retry_after) from exc
            return outcome
        except AuthError as exc:
            return _fail(pc, exc, "auth", final=True)
        except PlatformValidationError as exc:
            return _fail(pc, exc, "validation", final=True)
        except (FatalError, PlatformError) as exc:
            return _fail(pc, exc, "fatal", final=True)
        except platform_links.ObjectOwnedElsewhere as exc:
            return _fail(pc, exc, "duplicate_id", final=True)


def _load_for_spec(pc: PlatformCampaign) -> None:
    """Load what build_spec reads before the "publishing" commit, which keeps it loaded (lazy loads,
    not loader options: those would stay on the instance and run again on every later refresh)."""
    campaign = pc.campaign
    campaign.job, campaign.segments, pc.ad_groups, pc.creatives  # noqa: B018


def _names_media(spec: CampaignSpec, platform: str) -> bool:
    key = MEDIA_KEYS.get(platform)
    return bool(key and spec.creative.extra.get(key))


def _carried(pc: PlatformCampaign, revision: int) -> None:
    """The publish sent the desired state as of ``revision``: any change up to it has landed."""
    db.session.flush()  # our new status first (and its row lock): refresh would discard it
    db.session.refresh(pc)  # a change may have committed (and queued itself) during the publish
    pc.applied_revision = max(pc.applied_revision, revision)
    if pc.update_status == "pending" and pc.applied_revision >= pc.update_revision:
        pc.update_status, pc.update_error, pc.update_fields = "applied", None, None


def _follow_up(pc: PlatformCampaign) -> None:
    """A change made during the publish that the publish did not carry: send it now, once."""
    if pc.update_status != "pending" or pc.applied_revision >= pc.update_revision:
        return
    try:
        task_queue.send(TASK_APPLY_PLATFORM_CHANGE, pc.id, pc.update_revision, queue="publishing")
    except task_queue.QueueUnavailable:
        logger.warning("could not queue the change that followed publishing %s", pc.id)  # the sweep will


def existing_audience(adapter: PlatformAdapter, segment_id: int) -> str | None:
    """The segment's consented audience at the platform, if a publish created one (a lookup only)."""
    found = adapter._find_audience(object_name(f"adflux-segment-{segment_id}", AUDIENCE_LABEL))
    return adapter._audience_id(found) if found else None


def _fail(pc: PlatformCampaign, exc: Exception, error_class: str, *, final: bool) -> Outcome:
    db.session.rollback()
    pc = db.session.get(PlatformCampaign, pc.id)  # type: ignore[assignment]
    pc.last_error = str(exc).removeprefix(f"{pc.platform}: ")[:2000]  # the row already names the platform
    pc.error_class = error_class
    pc.status = "failed" if final else "pending"
    db.session.commit()
    logger.warning("publishing %s campaign %s: %s error: %s", pc.platform, pc.campaign_id, error_class, exc)
    return "failed" if final else "retry"


def _record(pc: PlatformCampaign, result: PublishResult) -> None:
    pc.external_campaign_id = result.campaign_id
    pc.external_ids = result.to_dict()
    for group in pc.live_groups:
        group.external_id = result.ad_groups.get(ad_group_ref(group))
    for creative in pc.creatives:
        creative.external_id = result.creative_id
    # What the adapter actually applied is the compliance report users see.
    if result.compliance:
        pc.compliance_report = {**pc.compliance_report, **result.compliance}


def ad_group_ref(group: object) -> str:
    return segment_ref(getattr(group, "segment_id", None))


def segment_ref(segment_id: int | None) -> str:
    """The ad group ref of a segment's ad group ("broad": the one without a segment)."""
    return f"s{segment_id}" if segment_id else "broad"


def build_spec(pc: PlatformCampaign, adapter: PlatformAdapter) -> CampaignSpec:
    """The adapter's view of a platform campaign: plain values, no ORM objects."""
    campaign: Campaign = pc.campaign
    job = campaign.job
    segments = {s.id: s for s in campaign.segments}
    groups = []
    for group in pc.live_groups:
        segment = segments.get(group.segment_id) if group.segment_id else None
        audience_id = _segment_audience(segment, adapter) if segment else None
        groups.append(
            AdGroupSpec(
                ref=ad_group_ref(group),
                name=group.name,
                daily_budget=group.budget_daily or 0,
                targeting=wishes_for_segment(segment, job, custom_audience_id=audience_id),
                segment_label=segment.name if segment else None,
            )
        )
    creative = pc.creatives[0]
    image = _image(pc) if pc.platform in MEDIA_KEYS else None
    uploaded = media_uploads.known(pc.platform, adapter.account.account_id, image) if image else None
    return CampaignSpec(
        key=pc.idempotency_key,
        name=campaign.name,
        objective=campaign.objective,
        budget_total=pc.budget_total,
        budget_daily=pc.budget_daily,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
        job=job_context(job),
        ad_groups=tuple(groups),
        creative=CreativeSpec(
            headline=creative.headline,
            primary_text=creative.primary_text,
            link_url=creative.link_url,
            call_to_action=creative.call_to_action,
            description=creative.description,
            extra={**(creative.extra or {}), **(uploaded or {})},
            image=image,
        ),
    )


def upload_media_once(spec: CampaignSpec, adapter: PlatformAdapter) -> CampaignSpec:
    """Upload the spec's image unless the account has it, one worker per image at a time: workers
    publishing campaigns of the same opening at once wait for the first upload and reuse it."""
    key = MEDIA_KEYS.get(adapter.platform)
    creative = spec.creative
    if key is None or creative.image is None or creative.extra.get(key):
        return spec
    account = adapter.account.account_id
    with hold_lock("media", media_lock_key(adapter.platform, media_uploads.content_hash(creative.image))):
        uploaded = media_uploads.known(adapter.platform, account, creative.image)
        if uploaded is None:
            spec, uploaded = attach_media(adapter, spec)
            if uploaded:
                media_uploads.remember(adapter.platform, account, creative.image, uploaded)
                db.session.commit()  # visible to the next worker before the lock is released
            return spec
    return replace(spec, creative=replace(creative, extra={**creative.extra, **uploaded}))


def publish_with_media(spec: CampaignSpec, adapter: PlatformAdapter) -> tuple[CampaignSpec, PublishResult]:
    """Publish the tree; when the platform answers that the media id the ad names no longer exists
    (deleted there), upload the image again and try the publish once more (it reuses by name what
    the first attempt created)."""
    key = MEDIA_KEYS.get(adapter.platform)
    try:
        return spec, adapter.publish(spec)
    except PlatformValidationError as exc:
        stale = spec.creative.extra.get(key) if key else None
        if key is None or not spec.creative.image or not stale or not missing_media(adapter.platform, exc):
            raise
        logger.warning("%s no longer has media %s (%s); uploading it again", adapter.platform, stale, exc)
    assert key is not None
    spec = reupload_media(spec, adapter, {key: stale})
    return spec, adapter.publish(spec)


def reupload_media(spec: CampaignSpec, adapter: PlatformAdapter, stale: dict[str, Any]) -> CampaignSpec:
    """Forget the record of media the platform no longer has and upload the image again, one worker
    per image at a time: a worker that finds the record already replaced uses the new media."""
    creative, platform, account = spec.creative, adapter.platform, adapter.account.account_id
    assert creative.image is not None
    with hold_lock("media", media_lock_key(platform, media_uploads.content_hash(creative.image))):
        recorded = media_uploads.known(platform, account, creative.image)
        if recorded is None or recorded == stale:
            media_uploads.forget(platform, account, creative.image, stale)
            spec, uploaded = attach_media(adapter, without_media(spec, platform))
            if uploaded:
                media_uploads.remember(platform, account, creative.image, uploaded)
            db.session.commit()  # visible to the next worker before the lock is released
            return spec
    return replace(spec, creative=replace(creative, extra={**creative.extra, **recorded}))


def _image(pc: PlatformCampaign) -> bytes:
    """The job's ad image in the platform's size (the adapter uploads it unless already uploaded)."""
    return creative_images.image_for(pc.campaign.job, pc.platform)


def _segment_audience(segment: Segment, adapter: PlatformAdapter) -> str | None:
    """Upload the segment's consented members as hashed emails; None if it has none."""
    found = db.session.scalars(
        select(Candidate.email)
        .join(CandidateSegment, CandidateSegment.candidate_id == Candidate.id)
        .where(
            CandidateSegment.segment_id == segment.id,
            Candidate.marketing_consent.is_(True),
            Candidate.email.is_not(None),
        )
        .order_by(Candidate.last_active_at.desc().nulls_last(), Candidate.id)
        .limit(AUDIENCE_UPLOAD_LIMIT)
    ).all()
    emails = [email for email in found if email]
    if not emails:
        return None
    # Workers publishing two campaigns for one segment at once must converge on one audience:
    # the second waits here, then finds the audience the first created (by its name).
    try:
        with hold_lock("audience", audience_key(adapter.platform, segment.id)):
            result = adapter.upload_audience(f"adflux-segment-{segment.id}", emails=emails)
    except PlatformValidationError as exc:
        # The ad group still runs on location and interests; the report says why no audience.
        logger.warning("audience upload for segment %s refused: %s", segment.id, exc)
        return None
    return result.audience_id
