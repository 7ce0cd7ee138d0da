"""Forecasts for planned campaigns: trained on the portal's finished campaigns, versioned, retrained.

Each version is a skops artifact in the model store (like segmentation versions), with its sha256
and the figures measured on the fifth of campaigns it was not trained on (coverage of the 80 %
interval, CPA error beside the per-category average baseline). A new version becomes active when
there is none, or when its CPA error is no worse than the active one's and its interval covers
70–90 % of the held-out campaigns.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from adflux._lazy import lazy_module
from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.ml.registry import ArtifactError, sha256_hex
from adflux.ml.training import library_versions
from adflux.models import Campaign, ForecastModel, JobOpening, MetricDaily, PlatformCampaign
from adflux.models.base import utcnow
from adflux.optimization import forecast as engine
from adflux.optimization.lag import reported_share
from adflux.services import audit, local_dates
from adflux.services.errors import Conflict, ServiceUnavailable, ValidationFailed
from adflux.services.rules.panels import portfolio_lag_cdf
from adflux.services.segmentation.versions import model_store

logger = logging.getLogger(__name__)
# On first save or load (it imports every scikit-learn module): not when the app starts.
sio = lazy_module("skops.io")
TRUSTED = [
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
]
HELD_OUT_SHARE = 0.2
MIN_DAYS = 5
_CACHE: dict[str, engine.ForecastModel] = {}


def _unreported_spend(today: date) -> dict[int, float]:
    """Per campaign: recent days' spend (micros) times the share of their applications not yet reported."""
    cdf = portfolio_lag_cdf(today=today)
    rows = db.session.execute(
        select(MetricDaily.campaign_id, MetricDaily.date, func.sum(MetricDaily.spend_micros))
        .where(MetricDaily.date >= today - timedelta(days=len(cdf)), MetricDaily.date < today)
        .group_by(MetricDaily.campaign_id, MetricDaily.date)
    ).all()
    out: dict[int, float] = {}
    for campaign_id, day, spend in rows:
        share = float(reported_share(cdf, np.array([(today - day).days]))[0])
        out[campaign_id] = out.get(campaign_id, 0.0) + float(spend or 0) * (1 - share)
    return out


def portal_history(
    today: date | None = None,
) -> tuple[list[engine.PlannedCampaign], list[float], list[float]]:
    """Every finished campaign with at least MIN_DAYS days of metrics: plan, applications, spend.

    Each plan carries the share of its applications reported by ``today`` (recent days are still
    being credited), so training can correct for the lag.
    """
    today = today or local_dates.today()
    totals = db.session.execute(
        select(
            MetricDaily.campaign_id,
            func.sum(MetricDaily.applications),
            func.sum(MetricDaily.spend_micros),
            func.count(func.distinct(MetricDaily.date)),
        ).group_by(MetricDaily.campaign_id)
    ).all()
    found = {cid: (float(a or 0), float(s or 0) / 1_000_000, int(d)) for cid, a, s, d in totals}
    unreported = _unreported_spend(today)
    campaigns = db.session.execute(
        select(Campaign, JobOpening)
        .join(JobOpening, JobOpening.id == Campaign.job_id)
        .where(Campaign.end_date.is_not(None), Campaign.end_date < today, Campaign.id.in_(list(found)))
        .order_by(Campaign.id)
    ).all()
    platforms: dict[int, set[str]] = {}
    for cid, platform in db.session.execute(select(PlatformCampaign.campaign_id, PlatformCampaign.platform)):
        platforms.setdefault(cid, set()).add(platform)
    plans, apps, spend = [], [], []
    for campaign, job in campaigns:
        applications, spent, days = found[campaign.id]
        if days < MIN_DAYS or not platforms.get(campaign.id):
            continue
        flight = ((campaign.end_date or today) - campaign.start_date).days + 1
        share = 1 - unreported.get(campaign.id, 0.0) / 1_000_000 / spent if spent > 0 else 1.0
        plans.append(
            engine.PlannedCampaign(
                job.category,
                job.city,
                tuple(sorted(platforms[campaign.id])),
                max(len(campaign.segments), 1),
                float(campaign.budget_total),
                max(flight, 1),
                reported_share=float(np.clip(share, 0.05, 1.0)),
            )
        )
        apps.append(applications)
        spend.append(spent)
    return plans, apps, spend


def _active() -> ForecastModel | None:
    return db.session.scalar(select(ForecastModel).where(ForecastModel.status == "active"))


def _save(version: int, model: engine.ForecastModel) -> tuple[str, str]:
    data = sio.dumps(
        {
            "low": model.low,
            "mid": model.mid,
            "high": model.high,
            "categories": model.categories,
            "cities": model.cities,
            "margins": model.margins,
            "folds": model.folds,
            "calibration": model.calibration,
        }
    )
    digest = sha256_hex(data)
    uri = model_store().write_bytes(f"forecast-v{version:05d}-{digest[:12]}.skops", data)
    return uri, digest


def _load(row: ForecastModel) -> engine.ForecastModel:
    if row.artifact_sha256 in _CACHE:
        return _CACHE[row.artifact_sha256]
    try:
        data = model_store().read_bytes(row.artifact_uri)
    except ArtifactError as exc:
        raise ServiceUnavailable(
            _("Forecast model v%(version)s is unavailable: %(error)s", version=row.version, error=exc)
        ) from exc
    if sha256_hex(data) != row.artifact_sha256:
        raise ServiceUnavailable(
            _("Forecast model v%(version)s does not match its recorded sha256", version=row.version)
        )
    parts = sio.loads(data, trusted=TRUSTED)
    model = engine.ForecastModel(
        parts["low"],
        parts["mid"],
        parts["high"],
        parts["categories"],
        parts["cities"],
        list(parts["margins"]) if "margins" in parts else [parts["margin"]] * len(engine.FLIGHTS),
        row.metrics,
        folds=parts.get("folds"),
        calibration=parts.get("calibration"),
    )
    _CACHE[row.artifact_sha256] = model
    return model


def _should_activate(metrics: dict[str, float], active: ForecastModel | None) -> bool:
    if not 0.7 <= metrics["coverage"] <= 0.9:
        return active is None
    return active is None or metrics["mape_cpa"] <= active.metrics.get("mape_cpa", float("inf")) * 1.02


def retrain(*, today: date | None = None, seed: int = 0) -> dict[str, Any]:
    """Train a new version on the portal's history; activate it if it is no worse than the active one."""
    plans, apps, spend = portal_history(today)
    if len(plans) < engine.MIN_CAMPAIGNS / (1 - HELD_OUT_SHARE):
        return {"trained": False, "campaigns": len(plans), "reason": "not_enough_history"}
    cut = int(len(plans) * (1 - HELD_OUT_SHARE))
    model = engine.train(plans[:cut], apps[:cut], seed=seed)
    # Held-out campaigns are judged on their applications corrected for the lag (matured, once old).
    matured = [a / p.reported_share for p, a in zip(plans, apps, strict=True)]
    metrics = engine.evaluate(model, plans[cut:], matured[cut:], spend[cut:])
    metrics["baseline_mape_cpa"] = engine.category_baseline_mape(
        plans[:cut], matured[:cut], spend[:cut], plans[cut:], matured[cut:], spend[cut:]
    )
    metrics.update(model.metrics)
    version = (db.session.scalar(select(func.max(ForecastModel.version))) or 0) + 1
    uri, digest = _save(version, model)
    active = _active()
    row = ForecastModel(
        version=version,
        status="candidate",
        metrics=metrics,
        training_size=cut,
        library_versions=library_versions(),
        artifact_uri=uri,
        artifact_sha256=digest,
    )
    activate = _should_activate(metrics, active)
    if activate:
        if active is not None:
            active.status = "retired"
        row.status, row.activated_at = "active", utcnow()
    db.session.add(row)
    audit.record(
        "forecast.train", entity_type="forecast_model", entity_id=version, after={"metrics": metrics}
    )
    db.session.commit()
    return {"trained": True, "version": version, "active": activate, "campaigns": len(plans), **metrics}


def forecast(
    *, category: str, city: str, platforms: list[str], segments: int, budget_total: int, days: int
) -> dict[str, Any]:
    """Applications and CPA with their 80 % interval for a planned campaign."""
    unknown = sorted(set(platforms) - set(engine.PLATFORMS))
    if unknown:
        raise ValidationFailed(
            _("Unknown platform"), errors={"platforms": [f"unknown: {', '.join(unknown)}"]}
        )
    row = _active()
    if row is None:
        raise Conflict(_("No forecast model is trained yet (adflux forecast train)"))
    plan = engine.PlannedCampaign(
        category, city, tuple(sorted(set(platforms))), segments, float(budget_total), days
    )
    outcome = _load(row).predict([plan])[0]
    return {**asdict(outcome), "model_version": row.version}


def versions() -> list[ForecastModel]:
    """Every forecast version, newest first."""
    return list(db.session.scalars(select(ForecastModel).order_by(ForecastModel.version.desc())))
