"""The deterministic performance simulator: budget -> impressions -> clicks -> applications.

The affinities below (platform x audience profile, profile x job category, platform x category)
are the sandbox's hidden truth: AdFlux never sees them and has to discover from the metrics
which platform and segment work for which jobs. Same inputs always give the same numbers.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from adflux.constants import JOB_CATEGORIES
from adflux.sandbox.units import Unit

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

# Cost per thousand impressions in COP (Google search is bought per click instead).
CPM = {"meta": 9_000, "google": 0, "x": 14_000, "tiktok": 7_000, "snapchat": 8_000}
GOOGLE_CPC = 1_400
BASE_CTR = {"meta": 0.011, "google": 0.045, "x": 0.008, "tiktok": 0.009, "snapchat": 0.007}
BASE_CVR = {"meta": 0.06, "google": 0.09, "x": 0.03, "tiktok": 0.045, "snapchat": 0.035}
ENGAGEMENT_RATE = {"meta": 0.004, "google": 0.0, "x": 0.012, "tiktok": 0.02, "snapchat": 0.015}

PLATFORM_PROFILE: dict[str, dict[str, float]] = {
    "meta": {"joven_digital": 0.9, "operativo": 1.35, "profesional": 0.95, "comercial": 1.3, "amplio": 1.0},
    "google": {"joven_digital": 1.1, "operativo": 0.85, "profesional": 1.4, "comercial": 1.0, "amplio": 1.0},
    "x": {"joven_digital": 1.3, "operativo": 0.6, "profesional": 1.1, "comercial": 0.8, "amplio": 0.9},
    "tiktok": {"joven_digital": 1.6, "operativo": 1.1, "profesional": 0.6, "comercial": 1.2, "amplio": 1.0},
    "snapchat": {"joven_digital": 1.4, "operativo": 0.9, "profesional": 0.5, "comercial": 1.0, "amplio": 0.8},
}
PROFILE_FIT: dict[str, dict[str, float]] = {
    "joven_digital": {"tecnologia": 1.8, "mercadeo_publicidad": 1.5, "servicio_cliente": 1.1, "legal": 0.5},
    "operativo": {
        "logistica_transporte": 1.9,
        "produccion_operarios": 1.9,
        "construccion": 1.6,
        "tecnologia": 0.4,
    },
    "profesional": {
        "contabilidad_finanzas": 1.7,
        "salud": 1.5,
        "ingenieria": 1.6,
        "legal": 1.6,
        "educacion": 1.4,
    },
    "comercial": {"ventas": 1.9, "servicio_cliente": 1.6, "hoteleria_turismo": 1.5, "ingenieria": 0.6},
    "amplio": {},
}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _unit_hash(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from the parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


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


def platform_category(platform: str, category: str | None) -> float:
    """Hidden platform x category affinity, 0.8-1.25."""
    if category is None:
        return 1.0
    return 0.8 + 0.45 * _unit_hash("platform-category", platform, JOB_CATEGORIES.index(category))


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


def _round(value: float, *key: object) -> int:
    """Round using a stable random threshold, so small expected values still average right."""
    whole = int(value)
    return whole + (1 if value - whole > _unit_hash("round", *key) else 0)


def simulate_day(unit: Unit, day: date, budget_left: float | None = None) -> DayMetrics:
    """Metrics for one active day; ``budget_left`` caps spend in pesos."""
    platform = unit.platform
    noise = 0.85 + 0.3 * _unit_hash(platform, unit.group_id, day)
    weekend = 0.85 if day.weekday() >= 5 else 1.0
    pacing = 0.92 + 0.08 * _unit_hash("pace", unit.group_id, day)
    spend = unit.daily_budget * pacing * weekend
    if budget_left is not None:
        spend = min(spend, max(0, budget_left))
    if spend <= 0:
        return DayMetrics.zero()
    profile = profile_of(unit)
    category = category_of(unit)
    reach_affinity = PLATFORM_PROFILE[platform][profile]
    fit = PROFILE_FIT[profile].get(category or "", 1.0)
    platform_fit = platform_category(platform, category)
    ctr = BASE_CTR[platform] * reach_affinity * (0.7 + 0.3 * fit) * platform_fit * noise
    cvr = BASE_CVR[platform] * fit * platform_fit * (1.3 if unit.objective == "leads" else 1.0)
    if unit.custom_audience:
        # Candidates who already know the portal convert better.
        cvr *= 1.6
    key = (unit.group_id, day)
    if platform == "google":
        clicks = _round(spend / (GOOGLE_CPC / (reach_affinity * noise)), "clicks", *key)
        impressions = max(clicks, _round(clicks / min(0.5, ctr), "imp", *key))
    else:
        impressions = _round(spend / CPM[platform] * 1000 * noise, "imp", *key)
        clicks = min(impressions, _round(impressions * ctr, "clicks", *key))
    frequency = 1.15 + 0.6 * _unit_hash("freq", *key)
    reach = min(impressions, _round(impressions / frequency, "reach", *key))
    engagements = clicks + _round(impressions * ENGAGEMENT_RATE[platform] * reach_affinity, "eng", *key)
    applications = min(clicks, _round(clicks * cvr, "apps", *key))
    return DayMetrics(impressions, reach, clicks, engagements, round(spend * 1_000_000), applications)


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
            metrics = simulate_day(unit, day, left)
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
