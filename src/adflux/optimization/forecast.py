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
interval is **conformalised** (conformalised quantile regression, Romano et al., 2019) across ten
folds: each training campaign scores how far it fell outside the interval of the fold models
(low, high) that were fitted without it, and a plan's interval is **one fold model's** interval
widened by the 80 % quantile of those scores. The plan is to its fold model what every
calibrating campaign was to its own (unseen by it), so the scores describe the plan's error; the
fold is picked from the plan itself (a hash of its features: the same plan always gets the same
interval). Widening the model fitted on every campaign instead (plain cross-conformal), or taking
CV+'s order statistics over all fold models, mixed models that saw different campaigns and
covered about 82 % (up to 86 %) in the benchmark; one fold model per plan 75.5–84.3 % (12 runs).
Scores are taken **per flight length** (7–14, 15–28, 29+ days: a short flight's total is noisier relative to
its forecast) and only from campaigns whose applications have matured, since a forecast is of
matured applications.

**Reporting lag**: platforms credit applications days after the click, so a campaign that ended
shortly before training has only part of its applications reported. Each history campaign carries
the share of its applications reported so far (the portal's lag distribution, weighted by its
days' spend); the target is corrected by it and it is a feature (a plan's is 1), so the trees can
absorb what the correction leaves. The models predict the log cost per application,
log((budget + 1) / (applications + 1)), which varies far less with the budget than applications
do (so small histories still give sensible trees); applications and their interval follow from
the planned budget (pacing lands campaigns on it).
Plain numpy + scikit-learn, no Flask or database.
"""

from __future__ import annotations

import math
import zlib
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
QUANTILES = ((1 - COVERAGE) / 2, 0.5, (1 + COVERAGE) / 2)
FOLDS = 10  # 5 folds erred wide (models fitted on 80 % of the campaigns): 83 % covered on average
MATURED = 0.95  # a campaign with at least this share of its applications reported calibrates
MIN_GROUP_SCORES = 30  # fewer calibration scores in a flight group: it takes the pooled margin
MIN_CAMPAIGNS = 40
FLIGHTS = {"short": (1, 14), "medium": (15, 28), "long": (29, 10_000)}  # days; calibrated apart
THREADS = 1  # on a loaded machine OpenMP's second thread stalls the fit (20 s -> over 5 min)


@dataclass(frozen=True)
class PlannedCampaign:
    """What is known before a campaign runs."""

    category: str
    city: str
    platforms: tuple[str, ...]
    segments: int
    budget_total: float  # pesos
    days: int
    reported_share: float = 1.0  # of its applications reported so far (history); a plan's is 1


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
    """The quantile models, the category/city codes they learned, and the conformal calibration.

    With ``folds`` a plan's interval is one fold model's widened by ``margins``; without (versions
    trained before the folds were kept) the ``low``/``high`` models' widened by ``margins``.
    """

    low: HistGradientBoostingRegressor | None
    mid: HistGradientBoostingRegressor
    high: HistGradientBoostingRegressor | None
    categories: list[str]
    cities: list[str]
    margins: list[float]  # widening of the interval in log cost per application, per FLIGHTS group
    metrics: dict[str, Any]
    folds: list[tuple[HistGradientBoostingRegressor, HistGradientBoostingRegressor]] | None = None
    calibration: Array | None = None  # matured campaigns: (fold, flight group, score) rows

    def fold_of(self, plans: Sequence[PlannedCampaign]) -> NDArray[np.int64]:
        """The fold model each plan's interval comes from: a hash of the plan (stable across runs)."""
        count = len(self.folds or [])
        keys = [
            repr((p.category, p.city, sorted(p.platforms), p.segments, p.budget_total, p.days)) for p in plans
        ]
        return np.array([zlib.crc32(k.encode()) % max(count, 1) for k in keys], np.int64)

    def margin_of(self, plans: Sequence[PlannedCampaign]) -> Array:
        """Each plan's margin (by its flight length)."""
        return np.array([self.margins[flight_group(p.days)] for p in plans], float)

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
                    p.reported_share,
                ]
            )
        return np.array(rows, float)

    def bounds(self, plans: Sequence[PlannedCampaign]) -> tuple[Array, Array, Array]:
        """Each plan's low end, median and high end in log cost per application."""
        x = self.features(plans)
        with threadpool_limits(limits=THREADS):
            mid = self.mid.predict(x)
            if self.folds:
                low, high = np.empty(len(plans)), np.empty(len(plans))
                fold = self.fold_of(plans)
                for k in np.unique(fold):
                    pick = fold == k
                    fold_low, fold_high = (m.predict(x[pick]) for m in self.folds[k])
                    low[pick], high[pick] = np.minimum(fold_low, fold_high), np.maximum(fold_low, fold_high)
                low, high = low - self.margin_of(plans), high + self.margin_of(plans)
            elif self.low is not None and self.high is not None:
                low, _mid, high = _bounds(self.low, self.mid, self.high, x)
                low, high = low - self.margin_of(plans), high + self.margin_of(plans)
            else:
                raise ValueError("a forecast model needs fold models or low/high models")
        return np.minimum(low, mid), mid, np.maximum(high, mid)

    def predict(self, plans: Sequence[PlannedCampaign]) -> list[Outcome]:
        """Forecasts for the plans."""
        low, mid, high = self.bounds(plans)
        out = []
        for p, lo, m, hi in zip(plans, low, mid, high, strict=True):
            # The models predict log((budget + 1) / (applications + 1)): a cost, flat across budgets.
            apps = [max(0.0, (p.budget_total + 1) / float(np.exp(v)) - 1) for v in (hi, m, lo)]
            cpas = [p.budget_total / a if a > 0 else None for a in apps]
            out.append(Outcome(apps[1], apps[0], apps[2], cpas[1], cpas[2], cpas[0]))
        return out


def flight_group(days: int) -> int:
    """The index of the FLIGHTS group a flight of ``days`` days belongs to."""
    return next(i for i, (low, high) in enumerate(FLIGHTS.values()) if low <= days <= high)


def _bounds(
    low: HistGradientBoostingRegressor,
    mid: HistGradientBoostingRegressor,
    high: HistGradientBoostingRegressor,
    x: Array,
) -> tuple[Array, Array, Array]:
    centre = mid.predict(x)
    return np.minimum(low.predict(x), centre), centre, np.maximum(high.predict(x), centre)


def _model(quantile: float, categorical: list[bool], seed: int, rows: int) -> HistGradientBoostingRegressor:
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


def _fit(x: Array, y: Array, seed: int, quantiles: tuple[float, ...]) -> list[Any]:
    """Quantile models fitted on (x, y)."""
    categorical = [True, True] + [False] * (x.shape[1] - 2)
    models = [_model(q, categorical, seed, len(y)) for q in quantiles]
    for estimator in models:
        estimator.fit(x, y)
    return models


def _conformal_quantile(scores: Array) -> float:
    level = min(1.0, math.ceil(COVERAGE * (len(scores) + 1)) / len(scores))
    return float(np.quantile(scores, level, method="higher"))


def _cross_fit(
    x: Array, y: Array, seed: int, folds: int
) -> tuple[list[tuple[Any, Any]], NDArray[np.int64], Array]:
    """Fold models (low, high) each fitted without its fold, the fold of each campaign, its score."""
    assigned = np.random.default_rng(seed).permutation(len(y)) % folds
    scores = np.full(len(y), np.nan)
    models = []
    for fold in range(folds):
        inside = assigned == fold
        low_model, high_model = _fit(x[~inside], y[~inside], seed, QUANTILES[::2])
        low, high = low_model.predict(x[inside]), high_model.predict(x[inside])
        scores[inside] = np.maximum(np.minimum(low, high) - y[inside], y[inside] - np.maximum(low, high))
        models.append((low_model, high_model))
    return models, np.asarray(assigned, np.int64), scores


def _calibration(plans: Sequence[PlannedCampaign], assigned: NDArray[np.int64], scores: Array) -> Array:
    """(fold, flight group, score) of the campaigns that calibrate: the matured ones (all if too few)."""
    matured = np.array([p.reported_share >= MATURED for p in plans])
    if matured.sum() < MIN_GROUP_SCORES:
        matured[:] = True  # too little matured history: calibrate on all, corrected for the lag
    groups = np.array([flight_group(p.days) for p in plans])
    return np.column_stack([assigned, groups, scores])[matured].astype(float)


def _margins(calibration: Array) -> list[float]:
    """Conformal margins per flight group (pooled where a group has too few scores)."""
    pooled = _conformal_quantile(calibration[:, 2])
    margins = []
    for group in range(len(FLIGHTS)):
        picked = calibration[calibration[:, 1] == group, 2]
        margins.append(_conformal_quantile(picked) if len(picked) >= MIN_GROUP_SCORES else pooled)
    return margins


def train(
    plans: Sequence[PlannedCampaign], applications: Sequence[float], *, seed: int = 0, folds: int = FOLDS
) -> ForecastModel:
    """Fit the quantile models on every campaign and conformalise them across folds.

    ``applications`` are as reported so far; each plan's ``reported_share`` says how much of its
    applications that is (1 once matured).
    """
    if len(plans) < MIN_CAMPAIGNS:
        raise ValueError(
            f"a forecast needs the history of at least {MIN_CAMPAIGNS} campaigns, not {len(plans)}"
        )
    budgets = np.array([p.budget_total for p in plans], float)
    shares = np.clip([p.reported_share for p in plans], 0.05, 1.0)
    matured = np.maximum(np.asarray(applications, float), 0.0) / shares
    y = np.log((budgets + 1) / (matured + 1))
    model = ForecastModel(
        low=None,
        mid=_model(0, [], seed, 0),
        high=None,
        categories=sorted({p.category for p in plans}),
        cities=sorted({p.city for p in plans}),
        margins=[0.0] * len(FLIGHTS),
        metrics={},
    )
    x = model.features(plans)
    with threadpool_limits(limits=THREADS):
        model.folds, assigned, scores = _cross_fit(x, y, seed, folds)
        (model.mid,) = _fit(x, y, seed, QUANTILES[1:2])
    model.calibration = _calibration(plans, assigned, scores)
    model.margins = _margins(model.calibration)
    model.metrics = {
        "training_campaigns": len(plans),
        "calibration": f"{folds}-fold conformal, one fold model per plan, per flight length, matured",
        "under_reported_campaigns": int((shares < MATURED).sum()),
        "margins": dict(zip(FLIGHTS, model.margins, strict=True)),
        "out_of_fold_coverage_before_margin": float(np.mean(scores <= 0)),
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
