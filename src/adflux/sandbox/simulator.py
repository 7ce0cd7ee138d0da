"""The deterministic performance simulator: budget -> impressions -> clicks -> applications.

It reads what an ad group targets and advertises (its audience profile and job category) and asks
the market (:mod:`adflux.sandbox.market`) under the active scenario (:mod:`adflux.sandbox.scenario`)
what a day delivers: the scenario's affinities, saturation, lag and noise are the sandbox's hidden
truth, which AdFlux never sees. Applications are reported as credited by the day of the report
(platforms restate recent days as late applications arrive). Same scenario, seed and inputs
always give the same numbers.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from adflux.constants import JOB_CATEGORIES
from adflux.sandbox.market import GroupTraits, deliver, stable_unit
from adflux.sandbox.scenario import DEFAULT, Scenario
from adflux.sandbox.units import Unit

# The market every sandbox in this process simulates (set once at start-up by `adflux sandbox`).
_market: dict[str, object] = {"scenario": DEFAULT, "seed": 0}


def use_market(scenario: Scenario, seed: int = 0) -> None:
    """Make ``scenario`` with ``seed`` the market this process's sandbox simulates."""
    _market["scenario"] = scenario
    _market["seed"] = seed


def current_market() -> tuple[Scenario, int]:
    """The active scenario and seed."""
    scenario, seed = _market["scenario"], _market["seed"]
    assert isinstance(scenario, Scenario) and isinstance(seed, int)
    return scenario, seed


# Audience profiles the simulator recognises from what an ad group targets.
PROFILE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "joven_digital": (
        "tecnolog",
        "programa",
        "software",
        "digital",
        "redes",
        "diseno",
        "gaming",
        "startup",
        "datos",
    ),
    "operativo": (
        "logist",
        "bodega",
        "conduc",
        "produccion",
        "operari",
        "construc",
        "manufact",
        "montacarga",
        "transporte",
    ),
    "profesional": (
        "finanz",
        "contab",
        "admin",
        "gerencia",
        "derecho",
        "ingenier",
        "salud",
        "enfermer",
        "docen",
        "educa",
    ),
    "comercial": (
        "ventas",
        "comercial",
        "atencion",
        "servicio",
        "call center",
        "retail",
        "hotel",
        "turismo",
        "mercadeo",
    ),
}

CATEGORY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "tecnologia": ("desarroll", "software", "programador", "tecnolog", "datos", "sistemas", "devops"),
    "ventas": ("ventas", "vendedor", "asesor comercial", "comercial"),
    "servicio_cliente": ("servicio al cliente", "call center", "agente", "atencion"),
    "administracion": ("administra", "asistente", "recepcion", "secretari"),
    "contabilidad_finanzas": ("contab", "contador", "finanz", "tesorer", "auditor"),
    "salud": ("enfermer", "medic", "salud", "auxiliar de enfermeria", "odont"),
    "logistica_transporte": ("logist", "bodega", "conductor", "transporte", "despach"),
    "produccion_operarios": ("operari", "produccion", "planta", "ensambl", "manufact"),
    "educacion": ("docente", "profesor", "educa", "tutor"),
    "ingenieria": ("ingenier",),
    "construccion": ("construc", "obra", "maestro de obra", "albanil"),
    "mercadeo_publicidad": ("mercadeo", "marketing", "publicidad", "community"),
    "recursos_humanos": ("recursos humanos", "talento humano", "seleccion", "nomina"),
    "hoteleria_turismo": ("hotel", "turismo", "mesero", "cocin", "barista"),
    "legal": ("abogad", "juridic", "legal", "derecho"),
}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def profile_of(unit: Unit) -> str:
    """The hidden audience profile an ad group reaches, from its interests (else broad)."""
    text = _fold(" ".join(unit.interests))
    scores = {name: sum(word in text for word in words) for name, words in PROFILE_KEYWORDS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else "amplio"


def category_of(unit: Unit) -> str | None:
    """The job category the ads are about, read from campaign and creative text."""
    text = _fold(" ".join(unit.texts))
    scores = {name: sum(word in text for word in words) for name, words in CATEGORY_KEYWORDS.items()}
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] else None


def platform_category(
    platform: str, category: str | None, scenario: Scenario = DEFAULT, seed: int = 0
) -> float:
    """Hidden platform x category affinity, within the scenario's spread."""
    if category is None:
        return 1.0
    low, high = scenario.platform_category_spread
    return low + (high - low) * stable_unit(
        "platform-category", seed, platform, JOB_CATEGORIES.index(category)
    )


def traits_of(unit: Unit, scenario: Scenario = DEFAULT, seed: int = 0) -> GroupTraits:
    """What the market needs to know about an ad group."""
    profile = profile_of(unit)
    category = category_of(unit)
    return GroupTraits(
        key=unit.group_id,
        platform=unit.platform,
        profile=profile,
        category=category,
        fit=scenario.profile_fit[profile].get(category or "", 1.0),
        platform_fit=platform_category(unit.platform, category, scenario, seed),
        leads=unit.objective == "leads",
        custom_audience=unit.custom_audience,
    )


@dataclass(frozen=True)
class DayMetrics:
    """One simulated day of one ad group."""

    impressions: int
    reach: int
    clicks: int
    engagements: int
    spend_micros: int
    applications: int

    @classmethod
    def zero(cls) -> DayMetrics:
        return cls(0, 0, 0, 0, 0, 0)


def simulate_day(
    unit: Unit, day: date, budget_left: float | None = None, as_of: date | None = None
) -> DayMetrics:
    """Metrics for one active day; ``budget_left`` caps spend in pesos.

    Applications are those credited by the report of ``as_of`` (None: every one, matured).
    """
    scenario, seed = current_market()
    budget = float(unit.daily_budget)
    if budget_left is not None:
        budget = min(budget, max(0.0, budget_left))
    if budget <= 0:
        return DayMetrics.zero()
    delivery = deliver(scenario, seed, traits_of(unit, scenario, seed), day, budget)
    applications = delivery.applications if as_of is None else delivery.reported((as_of - day).days)
    return DayMetrics(
        delivery.impressions,
        delivery.reach,
        delivery.clicks,
        delivery.engagements,
        round(delivery.spend * 1_000_000),
        min(delivery.clicks, applications),
    )


def unit_days(
    unit: Unit, since: date, until: date, today: date, cap_share: int | None
) -> dict[date, DayMetrics]:
    """Daily metrics for [since, until], only for complete days before ``today``.

    Spend is capped by ``cap_share`` pesos across the unit's whole life, so days are simulated
    from the first active day even when the window starts later.
    """
    rows: dict[date, DayMetrics] = {}
    if not unit.history:
        return rows
    day = unit.history[0][0]
    last = min(until, today - timedelta(days=1))
    spent = 0
    while day <= last:
        if unit.active_on(day):
            left = None if cap_share is None else (cap_share * 1_000_000 - spent) / 1_000_000
            metrics = simulate_day(unit, day, left, as_of=today)
            spent += metrics.spend_micros
            if day >= since:
                rows[day] = metrics
        day += timedelta(days=1)
    return rows


def campaign_days(
    units: list[Unit], since: date, until: date, today: date
) -> dict[str, dict[date, DayMetrics]]:
    """Per ad group id, daily metrics, with the campaign cap shared by daily-budget weight."""
    total_daily = sum(unit.daily_budget for unit in units) or 1
    result = {}
    for unit in units:
        share = None if unit.campaign_cap is None else unit.campaign_cap * unit.daily_budget // total_daily
        result[unit.group_id] = unit_days(unit, since, until, today, share)
    return result


def campaign_totals(units: list[Unit], today: date) -> dict[str, dict[str, int]]:
    """Per campaign id, the sums of its daily metrics over every complete day before ``today``."""
    by_campaign: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_campaign[unit.campaign_id].append(unit)
    totals = {}
    for campaign_id, group in by_campaign.items():
        days = [
            metrics
            for per_day in campaign_days(group, date.min, today, today).values()
            for metrics in per_day.values()
        ]
        totals[campaign_id] = {
            "spend_micros": sum(metrics.spend_micros for metrics in days),
            "applications": sum(metrics.applications for metrics in days),
            "clicks": sum(metrics.clicks for metrics in days),
            "impressions": sum(metrics.impressions for metrics in days),
        }
    return totals
