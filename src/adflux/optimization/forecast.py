"""Forecasts for a planned campaign: applications and CPA with an 80 % interval.

Why gradient boosting: the portal's history is a few hundred to a few thousand finished
campaigns described by a handful of mixed features (job category and city, which platforms, how
many segments, budget, flight length), where the effects interact (a platform works for some
categories, a budget saturates small cities) and are not linear in anything. scikit-learn's
HistGradientBoostingRegressor takes categories natively, needs no scaling, trains in seconds, and
with the quantile loss gives the interval's ends directly. A hierarchical model would pool
categories and cities more gracefully with very little data, but needs a sampler (PyMC/Stan) the
service does not carry; the pooling it would add is approximated here by the boosting's shrinkage
and the minimum leaf size.

Quantile models alone cover less than they promise on campaigns they were not trained on, so the
interval is **conformalised** (Romano et al., 2019): a quarter of the training campaigns is held
back, and the interval is widened by the quantile of how far those campaigns fell outside it. The
model predicts the log cost per application, log((budget + 1) / (applications + 1)), which varies
far less with the budget than applications do (so small histories still give sensible trees);
applications and their interval follow from the planned budget (pacing lands campaigns on it).
Plain numpy + scikit-learn, no Flask or database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from adflux.constants import PLATFORMS

Array = NDArray[np.float64]
COVERAGE = 0.8
CALIBRATION_SHARE = 0.25
MIN_CAMPAIGNS = 40
THREADS = 2  # a few thousand campaigns at most: more threads only contend on a shared machine


@dataclass(frozen=True)
class PlannedCampaign:
    """What is known before a campaign runs."""

    category: str
    city: str
    platforms: tuple[str, ...]
    segments: int
    budget_total: float  # pesos
    days: int


@dataclass(frozen=True)
class Outcome:
    """A planned campaign's forecast."""

    applications: float
    applications_low: float
    applications_high: float
    cpa: float | None
    cpa_low: float | None
    cpa_high: float | None


@dataclass
class ForecastModel:
    """The three quantile models, the category/city codes they learned, and the conformal margin."""

    low: HistGradientBoostingRegressor
    mid: HistGradientBoostingRegressor
    high: HistGradientBoostingRegressor
    categories: list[str]
    cities: list[str]
    margin: float  # widening of the interval in log cost per application
    metrics: dict[str, Any]

    def features(self, plans: Sequence[PlannedCampaign]) -> Array:
        """One row per plan: category and city codes (NaN when unknown), platforms, sizes."""
        cat, city = {c: i for i, c in enumerate(self.categories)}, {c: i for i, c in enumerate(self.cities)}
        rows = []
        for p in plans:
            daily = p.budget_total / max(p.days, 1)
            rows.append(
                [
                    cat.get(p.category, math.nan),
                    city.get(p.city, math.nan),
                    *(1.0 if name in p.platforms else 0.0 for name in PLATFORMS),
                    float(len(p.platforms)),
                    float(p.segments),
                    math.log(max(p.budget_total, 1.0)),
                    math.log(max(p.days, 1)),
                    math.log(max(daily, 1.0) / max(len(p.platforms) * p.segments, 1)),
                ]
            )
        return np.array(rows, float)

    def predict(self, plans: Sequence[PlannedCampaign]) -> list[Outcome]:
        """Forecasts for the plans."""
        x = self.features(plans)
        with threadpool_limits(limits=THREADS):
            mid = self.mid.predict(x)
            low = np.minimum(self.low.predict(x), mid) - self.margin
            high = np.maximum(self.high.predict(x), mid) + self.margin
        out = []
        for p, lo, m, hi in zip(plans, low, mid, high, strict=True):
            # The models predict log((budget + 1) / (applications + 1)): a cost, flat across budgets.
            apps = [max(0.0, (p.budget_total + 1) / float(np.exp(v)) - 1) for v in (hi, m, lo)]
            cpas = [p.budget_total / a if a > 0 else None for a in apps]
            out.append(Outcome(apps[1], apps[0], apps[2], cpas[1], cpas[2], cpas[0]))
        return out


def _model(
    quantile: float, categorical: list[bool], seed: int, rows: int = 400
) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(
        loss="quantile",
        quantile=quantile,
        categorical_features=categorical,
        max_iter=200,
        learning_rate=0.06,
        min_samples_leaf=int(np.clip(rows // 20, 5, 20)),
        l2_regularization=1.0,
        random_state=seed,
    )


def train(plans: Sequence[PlannedCampaign], applications: Sequence[float], *, seed: int = 0) -> ForecastModel:
    """Fit the quantile models on most campaigns and conformalise on the rest."""
    if len(plans) < MIN_CAMPAIGNS:
        raise ValueError(
            f"a forecast needs the history of at least {MIN_CAMPAIGNS} campaigns, not {len(plans)}"
        )
    budgets = np.array([p.budget_total for p in plans], float)
    y = np.log((budgets + 1) / (np.maximum(np.asarray(applications, float), 0.0) + 1))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(plans))
    cut = int(len(plans) * (1 - CALIBRATION_SHARE))
    fit, calibrate = order[:cut], order[cut:]
    model = ForecastModel(
        low=_model(0, [], seed),
        mid=_model(0, [], seed),
        high=_model(0, [], seed),
        categories=sorted({p.category for p in plans}),
        cities=sorted({p.city for p in plans}),
        margin=0.0,
        metrics={},
    )
    x = model.features(plans)
    categorical = [True, True] + [False] * (x.shape[1] - 2)
    alpha = (1 - COVERAGE) / 2
    model.low, model.mid, model.high = (
        _model(q, categorical, seed, len(fit)) for q in (alpha, 0.5, 1 - alpha)
    )
    with threadpool_limits(limits=THREADS):
        for estimator in (model.low, model.mid, model.high):
            estimator.fit(x[fit], y[fit])
        low, high = model.low.predict(x[calibrate]), model.high.predict(x[calibrate])
    scores = np.maximum(low - y[calibrate], y[calibrate] - high)
    level = min(1.0, COVERAGE * (1 + 1 / len(calibrate)))
    model.margin = float(np.quantile(scores, level))
    model.metrics = {
        "training_campaigns": len(fit),
        "calibration_campaigns": len(calibrate),
        "margin": model.margin,
    }
    return model


def evaluate(
    model: ForecastModel,
    plans: Sequence[PlannedCampaign],
    applications: Sequence[float],
    spend: Sequence[float],
) -> dict[str, float]:
    """Coverage of the 80 % interval and CPA error (MAPE) on campaigns the model did not see."""
    outcomes = model.predict(plans)
    apps = np.asarray(applications, float)
    inside = [o.applications_low <= a <= o.applications_high for o, a in zip(outcomes, apps, strict=True)]
    real_cpa = np.asarray(spend, float) / np.maximum(apps, 1.0)
    predicted = np.array(
        [p.budget_total / max(o.applications, 1.0) for p, o in zip(plans, outcomes, strict=True)]
    )
    return {
        "coverage": float(np.mean(inside)),
        "mape_cpa": float(np.mean(np.abs(predicted - real_cpa) / real_cpa)),
        "held_out": float(len(plans)),
    }


def category_baseline_mape(
    train_plans: Sequence[PlannedCampaign],
    train_apps: Sequence[float],
    train_spend: Sequence[float],
    plans: Sequence[PlannedCampaign],
    applications: Sequence[float],
    spend: Sequence[float],
) -> float:
    """CPA error of the per-category average CPA (the baseline a planner would use without a model)."""
    totals: dict[str, list[float]] = {}
    for p, a, s in zip(train_plans, train_apps, train_spend, strict=True):
        pair = totals.setdefault(p.category, [0.0, 0.0])
        pair[0] += s
        pair[1] += a
    overall = sum(train_spend) / max(sum(train_apps), 1.0)
    errors = []
    for p, a, s in zip(plans, applications, spend, strict=True):
        spent, apps = totals.get(p.category, [0.0, 0.0])
        guess = spent / apps if apps else overall
        real = s / max(a, 1.0)
        errors.append(abs(guess - real) / real)
    return float(np.mean(errors))
