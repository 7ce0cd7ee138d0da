"""Response curves with diminishing returns, learned per ad group and pooled across similar ones.

An ad group's matured applications on a day it spent ``s`` pesos are Poisson with mean
``theta · (s / REFERENCE)^beta``: ``theta`` is what it buys a day at REFERENCE pesos, ``beta < 1``
the diminishing return (doubling the budget buys 2^beta as much). Reported applications of a day
of age ``a`` are the matured ones thinned by the lag's CDF F(a), so a young day counts as a
fraction F(a) of a day of exposure — the Gamma–Poisson update stays exact.

``theta`` has a Gamma prior pooled from the history of similar ad groups (same platform and
audience profile, then job category and city — the finest pool with enough history wins), with a
shape from how much those groups differ from each other. ``beta`` has a discrete prior on a grid
and a posterior from the Gamma–Poisson marginal likelihood at each grid point. A Thompson draw
samples ``beta`` then ``theta``; the posterior mean gives the expected curve the explanations and
the doubly robust estimate use. Pure numpy/scipy: nothing here knows Flask or the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

Array = NDArray[np.float64]

REFERENCE = 100_000.0  # pesos a day at which theta is read
BETAS = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.98])
BETA_PRIOR = np.array([0.08, 0.12, 0.2, 0.25, 0.2, 0.15])
MIN_POOL_GROUPS = 3  # a pool needs this many ad groups with history to set a prior
DEFAULT_PRIOR = (1.0, 1.0)  # shape, mean applications a day at REFERENCE when nothing is known


@dataclass(frozen=True)
class GroupHistory:
    """One ad group's days: spend (pesos), applications as reported, and the lag share reported."""

    spend: Array
    applications: Array
    reported_share: Array  # F(age) of each day, 1 for matured days

    @classmethod
    def empty(cls) -> GroupHistory:
        """No days yet."""
        zero = np.zeros(0)
        return cls(zero, zero, zero)


@dataclass(frozen=True)
class PoolKey:
    """What makes ad groups alike enough to share a prior."""

    platform: str
    profile: str
    category: str | None = None
    city: str | None = None

    def coarser(self) -> list[PoolKey]:
        """This key and the ones it falls back to, finest first."""
        keys = [
            self,
            PoolKey(self.platform, self.profile, self.category),
            PoolKey(self.platform, self.profile),
            PoolKey(self.platform, ""),
        ]
        return list(dict.fromkeys(keys))


@dataclass(frozen=True)
class Prior:
    """Gamma prior on theta (shape, mean) and where it came from."""

    shape: float
    mean: float
    pool: str = "default"

    @property
    def rate(self) -> float:
        """The Gamma rate (exposure-days of pseudo-evidence)."""
        return self.shape / max(self.mean, 1e-9)


def exposure(history: GroupHistory, beta: float | Array) -> Array:
    """Days of exposure at REFERENCE for each beta: sum of F(age)·(spend/REFERENCE)^beta."""
    betas = np.atleast_1d(np.asarray(beta, float))
    scaled = np.maximum(history.spend, 0.0)[None, :] / REFERENCE
    with np.errstate(divide="ignore"):
        powered = np.where(scaled > 0, scaled ** betas[:, None], 0.0)
    return np.asarray((powered * history.reported_share[None, :]).sum(axis=1), float)


def pool_priors(histories: dict[PoolKey, list[GroupHistory]], beta: float = 0.8) -> dict[PoolKey, Prior]:
    """A Gamma prior for every pool key (at every coarseness) with enough ad groups behind it."""
    rates: dict[PoolKey, list[tuple[float, float]]] = {}
    for key, groups in histories.items():
        for history in groups:
            days = float(exposure(history, beta)[0])
            if days <= 0:
                continue
            for coarse in key.coarser():
                rates.setdefault(coarse, []).append((float(history.applications.sum()), days))
    priors: dict[PoolKey, Prior] = {}
    for key, rows in rates.items():
        if len(rows) < MIN_POOL_GROUPS:
            continue
        apps, days = np.array(rows).T
        mean = apps.sum() / days.sum()
        per_group = apps / days
        # Between-group variance beyond Poisson noise sets how far one group may be from the pool.
        spread = max(per_group.var() - (mean / days).mean(), (0.25 * mean) ** 2)
        shape = float(np.clip(mean**2 / spread, 0.5, 30.0))
        label = "/".join(part for part in (key.platform, key.profile, key.category, key.city) if part)
        priors[key] = Prior(shape, max(float(mean), 1e-6), label)
    return priors


def prior_for(key: PoolKey, priors: dict[PoolKey, Prior]) -> Prior:
    """The finest pooled prior for the key, or a vague default."""
    for coarse in key.coarser():
        if coarse in priors:
            return priors[coarse]
    return Prior(*DEFAULT_PRIOR)


@dataclass(frozen=True)
class Posterior:
    """Posterior over (beta on the grid, theta | beta) for one ad group."""

    beta_weights: Array  # probability of each grid beta
    shapes: Array  # Gamma shape of theta at each grid beta
    rates: Array  # Gamma rate of theta at each grid beta

    def samples(self, rng: np.random.Generator, count: int) -> tuple[Array, Array]:
        """``count`` Thompson draws: (thetas, betas)."""
        index = rng.choice(len(BETAS), size=count, p=self.beta_weights)
        return rng.gamma(self.shapes[index], 1 / self.rates[index]), BETAS[index]

    def mean_curve(self) -> tuple[float, float]:
        """(theta, beta) of the most probable beta with theta's posterior mean there."""
        index = int(np.argmax(self.beta_weights))
        return float(self.shapes[index] / self.rates[index]), float(BETAS[index])

    def expected(self, budget: float | Array) -> Array:
        """Expected matured applications a day at ``budget`` pesos, averaged over beta."""
        scaled = np.maximum(np.atleast_1d(np.asarray(budget, float)), 0.0) / REFERENCE
        thetas = self.shapes / self.rates
        curves = thetas[:, None] * scaled[None, :] ** BETAS[:, None]
        return np.asarray(self.beta_weights @ curves, float)


def posterior(history: GroupHistory, prior: Prior) -> Posterior:
    """Gamma–Poisson update at every grid beta, with beta weighted by its marginal likelihood."""
    apps = float(np.asarray(history.applications).sum())
    exposures = exposure(history, BETAS)
    shapes = prior.shape + apps + np.zeros(len(BETAS))
    rates = prior.rate + exposures
    # log p(y | beta) up to terms free of beta: sum y·log(F·x^beta) + Gamma–Poisson normaliser.
    scaled = np.maximum(history.spend, 1.0) / REFERENCE
    log_x = np.log(scaled)
    per_day = BETAS[:, None] * log_x[None, :] * history.applications[None, :]
    log_lik = (
        per_day.sum(axis=1) + gammaln(shapes) - shapes * np.log(rates) + prior.shape * np.log(prior.rate)
    )
    log_post = np.log(BETA_PRIOR) + log_lik - gammaln(prior.shape)
    weights = np.exp(log_post - log_post.max())
    return Posterior(weights / weights.sum(), shapes, rates)


def posteriors(
    histories: Sequence[GroupHistory], keys: Sequence[PoolKey], priors: dict[PoolKey, Prior]
) -> list[Posterior]:
    """One posterior per ad group of a campaign."""
    return [posterior(h, prior_for(k, priors)) for h, k in zip(histories, keys, strict=True)]
