"""The market's response to one ad group's budget on one day, under a scenario.

Diminishing returns: each ad group reaches an audience of a size; buying more impressions raises
the CPM (cpm·(1 + saturation·I/A)) and the frequency, and CTR falls as frequency^-decay. A budget
larger than the audience can absorb (max_frequency impressions per person per day) under-delivers.
Applications are credited over the following days by the scenario's lag, so a day's applications
as reported grow with its age. Every draw comes from a generator seeded by (seed, ad group, day):
the same inputs always give the same numbers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from adflux.sandbox.scenario import Scenario


@dataclass(frozen=True)
class GroupTraits:
    """What decides an ad group's response: where it runs, whom it reaches, what it advertises."""

    key: str  # stable id of the ad group (seeds its quality and its days)
    platform: str
    profile: str
    category: str | None
    fit: float  # profile x category
    platform_fit: float  # platform x category
    leads: bool = False
    custom_audience: bool = False


@dataclass(frozen=True)
class Delivery:
    """One ad group's day: what was bought and the applications by days after the click."""

    impressions: int
    reach: int
    clicks: int
    engagements: int
    spend: float  # pesos
    lagged_applications: tuple[int, ...]  # credited 0, 1, 2... days after the day

    @property
    def applications(self) -> int:
        """Every application the day will ever be credited with (matured)."""
        return sum(self.lagged_applications)

    def reported(self, age: int) -> int:
        """Applications credited by ``age`` days after the day (age 1 = the next day's report)."""
        return sum(self.lagged_applications[: max(0, age)])


def stable_unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from the parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _generator(*parts: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _gauss(*parts: object) -> float:
    """A stable standard-normal number from the parts."""
    return float(_generator("gauss", *parts).standard_normal())


def quality(scenario: Scenario, seed: int, traits: GroupTraits) -> float:
    """The ad group's hidden quality multiplier on CTR (log-normal, fixed for its life)."""
    return math.exp(scenario.quality_spread * _gauss("quality", seed, traits.key))


def _audience(scenario: Scenario, traits: GroupTraits, day: date) -> float:
    market = scenario.platforms[traits.platform]
    return market.audience * scenario.audience_profile[traits.profile] * scenario.weekday[day.weekday()]


def impressions_for(scenario: Scenario, traits: GroupTraits, day: date, budget: float) -> tuple[float, float]:
    """Impressions a budget buys and what they cost, capped by what the audience can absorb."""
    market = scenario.platforms[traits.platform]
    audience = _audience(scenario, traits, day)
    slope = market.saturation / audience
    thousand_at = market.cpm / 1000
    # budget = I·cpm/1000·(1 + s·I/A): the positive root of a quadratic in I.
    wanted = budget / thousand_at
    bought = wanted if slope == 0 else (math.sqrt(1 + 4 * slope * wanted) - 1) / (2 * slope)
    bought = min(bought, audience * market.max_frequency)
    return bought, bought * thousand_at * (1 + slope * bought)


def expected_rates(
    scenario: Scenario, seed: int, traits: GroupTraits, day: date, impressions: float
) -> tuple[float, float, float]:
    """Noise-free reach, CTR and conversion rate at that many impressions."""
    market = scenario.platforms[traits.platform]
    audience = _audience(scenario, traits, day)
    reach = audience * (1 - math.exp(-impressions / audience)) if impressions > 0 else 0.0
    frequency = max(1.0, impressions / reach) if reach else 1.0
    affinity = scenario.platform_profile[traits.platform][traits.profile]
    ctr = market.ctr * affinity * (0.7 + 0.3 * traits.fit) * traits.platform_fit
    ctr *= quality(scenario, seed, traits) * frequency ** (-market.frequency_decay)
    cvr = market.cvr * traits.fit * traits.platform_fit * (1.3 if traits.leads else 1.0)
    if traits.custom_audience:
        cvr *= 1.6  # candidates who already know the portal convert better
    return reach, min(0.5, ctr), min(0.9, cvr)


def deliver(scenario: Scenario, seed: int, traits: GroupTraits, day: date, budget: float) -> Delivery:
    """One day of one ad group with ``budget`` pesos available."""
    if budget <= 0:
        return Delivery(0, 0, 0, 0, 0.0, (0,) * len(scenario.lag))
    rng = _generator("day", seed, traits.key, day.isoformat())
    noise = math.exp(scenario.noise * rng.standard_normal())
    pace = 0.92 + 0.08 * rng.random()  # platforms rarely spend the last peso of a daily budget
    bought, cost = impressions_for(scenario, traits, day, budget * pace)
    impressions = int(rng.poisson(bought)) if bought > 0 else 0
    reach, ctr, cvr = expected_rates(scenario, seed, traits, day, bought)
    clicks = int(rng.binomial(impressions, min(0.95, ctr * noise)))
    applications = int(rng.binomial(clicks, cvr))
    lagged = rng.multinomial(applications, np.asarray(scenario.lag) / sum(scenario.lag))
    rate = scenario.platforms[traits.platform].engagement_rate
    engagements = clicks + int(rng.binomial(impressions, rate)) if rate else clicks
    spend = cost * impressions / bought if bought else 0.0
    return Delivery(
        impressions=impressions,
        reach=min(impressions, round(reach)),
        clicks=clicks,
        engagements=engagements,
        spend=min(spend, budget),
        lagged_applications=tuple(int(count) for count in lagged),
    )


def expected_cpa(scenario: Scenario, seed: int, traits: GroupTraits, day: date, budget: float) -> float:
    """The noise-free, matured CPA at that daily budget (the truth a benchmark judges against)."""
    bought, cost = impressions_for(scenario, traits, day, budget)
    _reach, ctr, cvr = expected_rates(scenario, seed, traits, day, bought)
    applications = bought * ctr * cvr
    return cost / applications if applications > 0 else math.inf
