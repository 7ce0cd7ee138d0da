"""Builders for operations tests: a model version, a campaign with daily metrics, accounts, alerts.

Rows go straight to the models (not through the services) because these tests need states that
the services reach only after long flows (an active campaign with spend, a drifting model).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from adflux.extensions import db
from adflux.models import (
    AdGroup,
    Campaign,
    JobOpening,
    MetricDaily,
    PlatformAccount,
    PlatformCampaign,
    SegmentationModel,
)

_seq = itertools.count(1)


def now() -> datetime:
    return datetime.now(UTC)


def make_model(
    *, version: int | None = None, status: str = "active", silhouette: float = 0.41, drift: Any = None
):
    n = version or next(_seq)
    model = SegmentationModel(
        version=n,
        status=status,
        k=5,
        features=["age", "city"],
        metrics={},
        silhouette=silhouette,
        training_size=1000,
        sample_size=500,
        library_versions={"scikit-learn": "1.5"},
        artifact_uri=f"file:///models/v{n}.skops",
        artifact_sha256="0" * 64,
        drift=drift,
        activated_at=now() if status == "active" else None,
    )
    db.session.add(model)
    db.session.commit()
    return model


def make_job(*, external_ref: str | None = None) -> JobOpening:
    n = next(_seq)
    job = JobOpening(
        external_ref=external_ref or f"OPS-J-{n}",
        title=f"Analista de datos {n}",
        company="Acme Colombia S.A.S.",
        city="Bogotá",
        department="Bogotá D.C.",
        category="tecnologia",
        modality="hibrido",
        apply_url=f"https://empleos.example.co/{n}",
    )
    db.session.add(job)
    db.session.commit()
    return job


def make_campaign_with_metrics(
    *,
    job: JobOpening | None = None,
    status: str = "active",
    target_cpa: int | None = 50_000,
    platform: str = "meta",
    days: list[tuple[date, int, int]] | None = None,
) -> Campaign:
    """A campaign on one platform with one ad group and daily rows (date, spend pesos, applications)."""
    job = job or make_job()
    n = next(_seq)
    campaign = Campaign(
        job_id=job.id,
        name=f"Campaña {n}",
        budget_total=5_000_000,
        target_cpa=target_cpa,
        start_date=date.today() - timedelta(days=10),
        status=status,
    )
    db.session.add(campaign)
    db.session.flush()
    publication = PlatformCampaign(
        campaign_id=campaign.id, platform=platform, idempotency_key=f"ops-{n}", status="active"
    )
    db.session.add(publication)
    db.session.flush()
    group = AdGroup(platform_campaign_id=publication.id, name=f"grupo {n}")
    db.session.add(group)
    db.session.flush()
    for day, spend_pesos, applications in days or []:
        db.session.add(
            MetricDaily(
                ad_group_id=group.id,
                date=day,
                platform_campaign_id=publication.id,
                campaign_id=campaign.id,
                platform=platform,
                impressions=spend_pesos // 10,
                reach=spend_pesos // 20,
                clicks=spend_pesos // 1000,
                spend_micros=spend_pesos * 1_000_000,
                applications=applications,
            )
        )
    db.session.commit()
    return campaign


def make_account(
    *, platform: str = "meta", token_expires_at: datetime | None = None, api_version: str | None = None
) -> PlatformAccount:
    n = next(_seq)
    account = PlatformAccount(
        platform=platform,
        name=f"Cuenta {platform} {n}",
        external_account_id=f"act_{n}",
        api_version=api_version,
        token_expires_at=token_expires_at,
        is_sandbox=False,
    )
    db.session.add(account)
    db.session.commit()
    return account
