"""Attribution lag: how much of a day's applications are reported by each age, and CPA corrected for it.

Platforms credit applications up to a week or two after the click, so the last days' CPA looks
worse than it will be. The share reported by each age (the lag's cumulative distribution) is
estimated from history alone, with one snapshot: applications per peso of days of each age against
those of days old enough to have matured. A window's CPA is then corrected by dividing its
exposure (spend weighted by the share reported) by its applications, with a Gamma–Poisson
interval so a decision can ask how sure the estimate is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Array = NDArray[np.float64]

DEFAULT_HORIZON = 21  # days after which a day's applications are taken as matured
MATURED_SHARE = 0.95  # a day whose expected reported share is at least this counts as matured


def estimate_lag_cdf(
    spend: Array, applications: Array, ages: NDArray[np.int64], horizon: int = DEFAULT_HORIZON
) -> Array:
    """Share of applications reported by each age (index = age in days; [0] = 0, [horizon:] = 1).

    ``spend``, ``applications`` and ``ages`` are flat and aligned (one entry per ad group-day).
    Without matured history the answer is "all reported at once" (no correction) — callers that
    care check :func:`has_matured_history` first.
    """
    spend, applications = np.asarray(spend, float), np.asarray(applications, float)
    ages = np.asarray(ages, int)
    cdf = np.ones(horizon + 1)
    cdf[0] = 0.0
    mature = ages >= horizon
    if spend[mature].sum() <= 0 or applications[mature].sum() <= 0:
        return cdf
    mature_rate = applications[mature].sum() / spend[mature].sum()
    for age in range(1, horizon):
        at = ages == age
        if spend[at].sum() > 0:
            cdf[age] = applications[at].sum() / spend[at].sum() / mature_rate
        else:
            cdf[age] = cdf[age - 1]
    cdf[1:] = np.clip(np.maximum.accumulate(np.clip(cdf[1:], 1e-3, 1.0)), 1e-3, 1.0)
    return cdf


def has_matured_history(ages: NDArray[np.int64], horizon: int = DEFAULT_HORIZON) -> bool:
    """Whether there are matured days to estimate the lag from."""
    return bool((np.asarray(ages) >= horizon).any())


def reported_share(cdf: Array, ages: NDArray[np.int64]) -> Array:
    """The expected share of applications already reported for days of these ages."""
    ages = np.clip(np.asarray(ages, int), 0, len(cdf) - 1)
    return np.asarray(cdf[ages], float)


def maturity_age(cdf: Array) -> int:
    """The first age at which a day counts as matured."""
    return int(np.argmax(cdf >= MATURED_SHARE))


@dataclass(frozen=True)
class CpaEstimate:
    """Per entity: CPA point estimate and interval, and the applications expected once matured."""

    point: Array
    low: Array
    high: Array
    applications: Array  # lag-corrected (expected matured) applications in the window
    spend: Array


def corrected_cpa(
    spend: Array, applications: Array, ages: NDArray[np.int64], cdf: Array, level: float = 0.8
) -> CpaEstimate:
    """Lag-corrected CPA over the columns of (entities x days) arrays, with a ``level`` interval.

    Applications are Poisson with rate θ per peso of exposure, exposure being spend times the
    share reported so far; θ has a Gamma(applications + ½, exposure) posterior (Jeffreys prior),
    and CPA = 1/θ. With no applications the point is infinite and the low end still says how
    cheap it could be.
    """
    spend, applications = np.atleast_2d(spend).astype(float), np.atleast_2d(applications).astype(float)
    share = reported_share(cdf, ages)
    exposure = (spend * share).sum(axis=1)
    observed = applications.sum(axis=1)
    total_spend = spend.sum(axis=1)
    tail = (1 - level) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(exposure > 0, 1 / np.maximum(exposure, 1e-12), np.inf)
        rate_high = stats.gamma.ppf(1 - tail, observed + 0.5, scale=scale)
        rate_low = stats.gamma.ppf(tail, observed + 0.5, scale=scale)
        point = np.where(observed > 0, exposure / np.maximum(observed, 1e-12), np.inf)
        low = np.where(exposure > 0, 1 / rate_high, np.nan)
        high = np.where(exposure > 0, 1 / np.maximum(rate_low, 1e-300), np.nan)
        corrected = np.where(exposure > 0, observed * total_spend / np.maximum(exposure, 1e-12), 0.0)
    return CpaEstimate(point=point, low=low, high=high, applications=corrected, spend=total_spend)


def raw_cpa(spend: Array, applications: Array) -> Array:
    """CPA as reported: spend over applications credited so far (infinite with none)."""
    spend_total = np.atleast_2d(spend).sum(axis=1)
    apps_total = np.atleast_2d(applications).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(apps_total > 0, spend_total / np.maximum(apps_total, 1e-12), np.inf)
