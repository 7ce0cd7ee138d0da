"""Forecasts: trained on the portal's finished campaigns, versioned in the model store, served by the API."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
import pytest

from adflux.extensions import db
from adflux.models import ForecastModel, JobOpening
from adflux.optimization.forecast import PlannedCampaign, evaluate, train
from adflux.services import forecasts
from adflux.services.errors import Conflict
from adflux.services.segmentation.versions import model_store
from ops_data import make_campaign_with_metrics

TODAY = date(2026, 6, 1)
CPA = {"logistica": 8_000, "salud": 30_000}


def _job(n: int, category: str) -> JobOpening:
    job = JobOpening(
        external_ref=f"F-{n}",
        title=f"Cargo {n}",
        description="Cargo de prueba",
        company="Acme Colombia S.A.S.",
        city="Cali",
        department="Valle del Cauca",
        category=category,
        modality="presencial",
        apply_url=f"https://empleos.example.co/f{n}",
    )
    db.session.add(job)
    db.session.flush()
    return job


def _history(count: int = 52) -> None:
    rng = random.Random(3)
    for n in range(count):
        category = "logistica" if n % 2 else "salud"
        job = _job(n, category)
        daily = rng.choice((50_000, 100_000, 200_000))
        days = rng.randint(5, 12)
        start = TODAY - timedelta(days=40 + n % 10)
        rows = [
            (
                start + timedelta(days=d),
                daily,
                int(np.random.default_rng(n * 100 + d).poisson(daily / CPA[category])),
            )
            for d in range(days)
        ]
        campaign = make_campaign_with_metrics(job=job, status="completed", days=rows)
        campaign.start_date, campaign.end_date = start, start + timedelta(days=days - 1)
        campaign.budget_total = daily * days
    db.session.commit()


def test_not_enough_history_trains_nothing_and_forecasts_refuse_until_a_model_exists(app_ctx, client):
    assert forecasts.retrain(today=TODAY)["trained"] is False
    with pytest.raises(Conflict):
        forecasts.forecast(
            category="salud", city="Cali", platforms=["meta"], segments=1, budget_total=1, days=1
        )
    body = {"category": "salud", "city": "Cali", "platforms": ["meta"], "budget_total": 1_000_000, "days": 10}
    assert client.post("/api/v1/forecasts", json=body).status_code == 409
    assert client.post("/api/v1/forecasts", json={**body, "days": 0}).status_code == 422


def test_a_trained_version_is_stored_activated_and_forecasts_by_category(app_ctx, client):
    _history()
    result = forecasts.retrain(today=TODAY)
    assert result["trained"] and result["version"] == 1 and result["active"]
    assert 0.5 <= result["coverage"] <= 1 and result["mape_cpa"] < 0.35 and "baseline_mape_cpa" in result
    row = db.session.query(ForecastModel).one()
    assert row.status == "active" and row.training_size == int(result["campaigns"] * 0.8)
    assert (
        row.artifact_uri.startswith("forecast-v00001-")
        and len(model_store().read_bytes(row.artifact_uri)) > 1000
    )
    cheap = forecasts.forecast(
        category="logistica", city="Cali", platforms=["meta"], segments=1, budget_total=1_000_000, days=10
    )
    dear = forecasts.forecast(
        category="salud", city="Cali", platforms=["meta"], segments=1, budget_total=1_000_000, days=10
    )
    assert cheap["model_version"] == 1
    assert cheap["applications_low"] <= cheap["applications"] <= cheap["applications_high"]
    assert cheap["cpa_low"] <= cheap["cpa"] <= cheap["cpa_high"]
    assert cheap["cpa"] < 15_000 < dear["cpa"]  # the history's CPAs were 8.000 and 30.000
    body = {"category": "salud", "city": "Cali", "platforms": ["meta"], "budget_total": 1_000_000, "days": 10}
    api = client.post("/api/v1/forecasts", json=body)
    assert api.status_code == 200 and api.get_json()["cpa"] == pytest.approx(dear["cpa"])
    bad = client.post("/api/v1/forecasts", json={**body, "platforms": ["myspace"]})
    assert bad.status_code == 422
    again = forecasts.retrain(today=TODAY, seed=1)
    assert again["version"] == 2 and [v.version for v in forecasts.versions()] == [2, 1]


def test_the_interval_is_conformalised_to_cover_about_80_percent_of_unseen_campaigns() -> None:
    rng = np.random.default_rng(0)

    def plans(n: int) -> tuple[list[PlannedCampaign], list[float], list[float]]:
        out, apps, spend = [], [], []
        for _ in range(n):
            category = str(rng.choice(["a", "b", "c"]))
            budget, days = float(rng.integers(5, 50) * 100_000), int(rng.integers(7, 40))
            mean = budget / {"a": 5_000, "b": 12_000, "c": 25_000}[category]
            out.append(PlannedCampaign(category, "Cali", ("meta",), 1, budget, days))
            apps.append(float(rng.poisson(mean * rng.lognormal(0, 0.35))))
            spend.append(budget)
        return out, apps, spend

    train_plans, train_apps, _ = plans(400)
    test_plans, test_apps, test_spend = plans(400)
    model = train(train_plans, train_apps)
    scores = evaluate(model, test_plans, test_apps, test_spend)
    assert 0.74 <= scores["coverage"] <= 0.86
    with pytest.raises(ValueError, match="at least"):
        train(train_plans[:10], train_apps[:10])


def test_applications_still_being_reported_are_corrected_for_the_lag_and_margins_go_by_flight() -> None:
    rng = np.random.default_rng(1)
    plans, reported = [], []
    for n in range(240):
        budget, days = float(rng.integers(5, 50) * 100_000), int(rng.integers(7, 45))
        matured = rng.poisson(budget / 10_000 * rng.lognormal(0, 0.2))
        share = 0.3 if n % 2 else 1.0  # half ended lately: 30 % of their applications reported so far
        plans.append(PlannedCampaign("a", "Cali", ("meta",), 1, budget, days, reported_share=share))
        reported.append(float(round(matured * share)))
    model = train(plans, reported)
    assert len(model.margins) == 3 and all(m > 0 for m in model.margins)
    assert model.metrics["under_reported_campaigns"] == 120
    outcome = model.predict([PlannedCampaign("a", "Cali", ("meta",), 1, 2_000_000.0, 20)])[0]
    assert outcome.cpa is not None and 8_500 <= outcome.cpa <= 11_500  # the median of the raw CPAs is ~18.000
    assert outcome.applications_low < outcome.applications < outcome.applications_high


def test_a_plans_interval_is_one_fold_models_widened_and_old_versions_still_forecast() -> None:
    rng = np.random.default_rng(5)
    plans, apps = [], []
    for _ in range(200):
        budget, days = float(rng.integers(5, 50) * 100_000), int(rng.integers(7, 45))
        plans.append(PlannedCampaign("a", "Cali", ("meta",), 1, budget, days))
        apps.append(float(rng.poisson(budget / 10_000 * rng.lognormal(0, 0.3))))
    model = train(plans, apps, folds=5)
    assert model.folds is not None and len(model.folds) == 5 and model.low is None and model.high is None
    assert model.calibration is not None and model.calibration.shape == (200, 3)  # all matured
    # Every calibrating campaign was scored by the fold model fitted without it: out of fold.
    fold = model.calibration[:, 0].astype(int)
    assert sorted(np.bincount(fold).tolist()) == [40] * 5
    planned = [PlannedCampaign("a", "Cali", ("meta",), 1, 1_000_000.0 + 100_000 * n, 20) for n in range(30)]
    chosen = model.fold_of(planned)
    assert len(set(chosen.tolist())) >= 3  # plans spread over the fold models
    assert (model.fold_of(planned) == chosen).all()  # and the same plan always gets the same one
    low, mid, high = model.bounds(planned)
    x = model.features(planned)
    for i, k in enumerate(chosen):
        fold_low, fold_high = (m.predict(x[i : i + 1])[0] for m in model.folds[k])
        margin = model.margins[1]  # 20 days: the 15-28-day flight group
        assert low[i] == pytest.approx(min(min(fold_low, fold_high) - margin, mid[i]))
        assert high[i] == pytest.approx(max(max(fold_low, fold_high) + margin, mid[i]))
    # A version saved before the folds were kept (low/high models widened by margins) still forecasts.
    old = train(plans, apps, folds=5)
    old.low, old.high = old.folds[0]  # any low/high pair stands in for the old served models
    old.folds, old.calibration = None, None
    plan = planned[0]
    old_low, old_mid, old_high = (float(v[0]) for v in old.bounds([plan]))
    x0 = old.features([plan])
    assert old_low == pytest.approx(min(min(old.low.predict(x0)[0], old_mid) - old.margins[1], old_mid))
    assert old_high == pytest.approx(max(max(old.high.predict(x0)[0], old_mid) + old.margins[1], old_mid))
