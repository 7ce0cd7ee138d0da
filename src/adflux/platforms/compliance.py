"""Employment-ad compliance: turn a segment's targeting wishes into what each platform allows.

Every criterion that is dropped or widened is written into the report with the reason and
whether the rule is the platform's own (``platform_rule``) or AdFlux's conservative policy where
the platform's rule is unverified (``adflux_policy``). Nothing is dropped silently.

Sources (see research/platform-apis.md): Meta Business Help "About audiences for housing,
employment or financial products" (age fixed 18-65+, no gender, no ZIP, no exclusions, no
lookalikes, cities expanded to a 15-mile radius); Google personalised-ads policy for HEC (no age,
gender, parental, marital or ZIP targeting); TikTok special ad categories (18+ only, no gender,
no postal code, no lookalike, no interest keywords). X and Snapchat publish no verified rule, so
the common conservative rules apply as AdFlux policy.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import asdict, dataclass, field

from adflux.constants import PLATFORMS
from adflux.platforms.geo import Place, find_place
from adflux.platforms.types import JobContext, TargetingSpec

logger = logging.getLogger(__name__)

PLATFORM_RULE = "platform_rule"
ADFLUX_POLICY = "adflux_policy"

# Meta expands city targeting for special ad categories to at least 15 miles (~24.1 km).
META_MIN_RADIUS_KM = 25
DEFAULT_RADIUS_KM = 25
META_AGE_MIN, META_AGE_MAX = 18, 65

# Interest words that stand in for a protected attribute (age, sex, family, religion, ethnicity).
# Targeting by them is discrimination by proxy, whatever the platform would accept.
_PROXY_TERMS = (
    "mujer",
    "hombre",
    "madre",
    "padre",
    "joven",
    "jovenes",
    "adulto mayor",
    "pension",
    "embaraz",
    "bebe",
    "religi",
    "iglesia",
    "etnia",
    "indigena",
    "afro",
    "soltero",
    "casado",
    "women",
    "mother",
    "father",
    "pregnan",
)


@dataclass(frozen=True)
class ComplianceNote:
    """One criterion that was dropped, widened or kept with a caveat."""

    criterion: str
    action: str  # "dropped" | "widened" | "kept" | "added"
    value: str
    reason: str
    source: str  # PLATFORM_RULE | ADFLUX_POLICY


@dataclass(frozen=True)
class CityTarget:
    """A city to target by radius around its centre (and by id where a platform has one)."""

    name: str
    latitude: float
    longitude: float
    radius_km: int
    geonames_id: int


@dataclass(frozen=True)
class AllowedTargeting:
    """Targeting a platform may receive for an employment ad."""

    country: str
    cities: tuple[CityTarget, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    interests: tuple[str, ...] = ()
    custom_audience_id: str | None = None
    languages: tuple[str, ...] = ("es",)
    special_ad_categories: tuple[str, ...] = ()
    special_ad_category_country: tuple[str, ...] = ()


@dataclass
class CompliancePlan:
    """The allowed targeting and the report explaining every change."""

    platform: str
    targeting: AllowedTargeting
    notes: list[ComplianceNote] = field(default_factory=list)

    def report(self) -> list[dict[str, str]]:
        """The notes as plain dicts (for PlatformCampaign.compliance_report)."""
        return [asdict(note) for note in self.notes]

    @property
    def changed(self) -> bool:
        """True when anything was dropped or widened."""
        return any(note.action in ("dropped", "widened") for note in self.notes)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _is_proxy(interest: str) -> bool:
    # Prefix match per word ("mujer" catches "mujeres"); multi-word terms match as phrases.
    text = _fold(interest)
    words = text.split()
    return any(
        term in text if " " in term else any(word.startswith(term) for word in words) for term in _PROXY_TERMS
    )


class _Planner:
    """Collects notes while building one platform's targeting."""

    def __init__(self, platform: str, source: str) -> None:
        self.platform = platform
        self.source = source
        self.notes: list[ComplianceNote] = []

    def note(
        self, criterion: str, action: str, value: object, reason: str, source: str | None = None
    ) -> None:
        self.notes.append(ComplianceNote(criterion, action, str(value), reason, source or self.source))


_RULES: dict[str, dict[str, bool]] = {
    # interests: may interest targeting be sent at all; platform_rules: is the rule the platform's own
    "meta": {"interests": True, "platform_rules": True},
    "google": {"interests": True, "platform_rules": True},
    "tiktok": {"interests": False, "platform_rules": True},
    "x": {"interests": True, "platform_rules": False},
    "snapchat": {"interests": False, "platform_rules": False},
}


def plan_targeting(platform: str, job: JobContext, wishes: TargetingSpec) -> CompliancePlan:
    """Translate one segment's wishes into the employment-compliant targeting for ``platform``."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    rules = _RULES[platform]
    source = PLATFORM_RULE if rules["platform_rules"] else ADFLUX_POLICY
    unverified = "" if rules["platform_rules"] else " (AdFlux policy; the platform's own rule is unverified)"
    planner = _Planner(platform, source)

    age_min, age_max = _plan_age(platform, wishes, planner, unverified)
    _drop_forbidden(wishes, planner, unverified)
    country = job.country
    for extra_country in wishes.countries:
        if extra_country != country:
            planner.note(
                "country",
                "dropped",
                extra_country,
                f"the job is in {country}; other countries would advertise it to people who cannot take it",
                ADFLUX_POLICY,
            )
    cities = _plan_cities(platform, wishes, planner)
    interests = _plan_interests(platform, wishes, planner, rules["interests"], unverified)
    if wishes.custom_audience_id:
        planner.note(
            "custom_audience",
            "kept",
            wishes.custom_audience_id,
            "built only from candidates who consented, uploaded as SHA-256 hashes",
            ADFLUX_POLICY,
        )
    special, special_country = _plan_special_category(platform, country, planner)

    targeting = AllowedTargeting(
        country=country,
        cities=cities,
        age_min=age_min,
        age_max=age_max,
        interests=interests,
        custom_audience_id=wishes.custom_audience_id,
        languages=wishes.languages,
        special_ad_categories=special,
        special_ad_category_country=special_country,
    )
    return CompliancePlan(platform=platform, targeting=targeting, notes=planner.notes)


def plan_all(job: JobContext, wishes: TargetingSpec) -> dict[str, CompliancePlan]:
    """Plans for every platform, e.g. to preview before launch."""
    return {platform: plan_targeting(platform, job, wishes) for platform in PLATFORMS}


def _drop_forbidden(wishes: TargetingSpec, planner: _Planner, unverified: str) -> None:
    """Gender, postal codes, exclusions and lookalikes: never sent for an employment ad."""
    if wishes.genders:
        planner.note(
            "gender",
            "dropped",
            ",".join(wishes.genders),
            "employment ads must reach all genders" + unverified,
        )
    forbidden = (
        ("postal_code", wishes.postal_codes, "postal-code targeting is not allowed"),
        ("excluded_location", wishes.excluded_cities, "location exclusions are not allowed"),
        ("excluded_interest", wishes.excluded_interests, "audience exclusions are not allowed"),
        ("lookalike", ("true",) if wishes.lookalike else (), "lookalike audiences are not allowed"),
    )
    for criterion, values, reason in forbidden:
        for value in values:
            planner.note(criterion, "dropped", value, f"{reason} for employment ads{unverified}")


def _plan_special_category(
    platform: str, country: str, planner: _Planner
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The special ad category a platform requires for job ads (and Meta's category country)."""
    if platform == "meta":
        planner.note(
            "special_ad_categories",
            "added",
            "EMPLOYMENT",
            f"required for job ads, with special_ad_category_country={country}",
        )
        return ("EMPLOYMENT",), (country,)
    if platform == "tiktok":
        planner.note("special_industries", "added", "EMPLOYMENT", "required for job ads")
        return ("EMPLOYMENT",), ()
    return (), ()


def _plan_age(
    platform: str, wishes: TargetingSpec, planner: _Planner, unverified: str
) -> tuple[int | None, int | None]:
    wanted = wishes.age_min is not None or wishes.age_max is not None
    label = f"{wishes.age_min or ''}-{wishes.age_max or ''}"
    if platform == "meta":
        if wanted and (wishes.age_min, wishes.age_max) != (META_AGE_MIN, META_AGE_MAX):
            planner.note("age", "widened", label, "Meta fixes employment ads at ages 18-65+")
        return META_AGE_MIN, META_AGE_MAX
    if platform == "tiktok":
        if wanted and (wishes.age_min not in (None, 18) or wishes.age_max is not None):
            planner.note("age", "widened", label, "TikTok allows only 18+ for employment ads")
        return 18, None
    if platform == "google":
        if wanted:
            planner.note("age", "dropped", label, "Google forbids age criteria for employment ads")
        return None, None
    if wanted:
        planner.note("age", "widened", label, "employment ads must reach every adult age" + unverified)
    return None, None


def _plan_cities(platform: str, wishes: TargetingSpec, planner: _Planner) -> tuple[CityTarget, ...]:
    cities: list[CityTarget] = []
    for name in wishes.cities:
        place: Place | None = find_place(name)
        if place is None:
            planner.note(
                "city",
                "widened",
                name,
                "AdFlux has no coordinates/ids for this city; targeting the whole country instead",
                ADFLUX_POLICY,
            )
            continue
        radius = DEFAULT_RADIUS_KM
        if platform == "meta":
            radius = max(radius, META_MIN_RADIUS_KM)
            planner.note(
                "city",
                "widened",
                place.name,
                f"Meta expands cities for employment ads to a radius of at least 15 miles ({radius} km)",
            )
        cities.append(CityTarget(place.name, place.latitude, place.longitude, radius, place.geonames_id))
    return tuple(cities)


def _plan_interests(
    platform: str, wishes: TargetingSpec, planner: _Planner, allowed: bool, unverified: str
) -> tuple[str, ...]:
    kept: list[str] = []
    for interest in wishes.interests:
        if _is_proxy(interest):
            planner.note(
                "interest",
                "dropped",
                interest,
                "the interest stands in for a protected attribute (age, sex, family, religion or ethnicity)",
                ADFLUX_POLICY,
            )
        elif not allowed:
            reason = {
                "tiktok": "TikTok forbids interest keywords for employment ads",
                "snapchat": "Snapchat interests need Snap Lifestyle Category ids, which AdFlux does not "
                "map; dropped rather than guessed" + unverified,
            }.get(platform, "interest targeting is not allowed" + unverified)
            planner.note("interest", "dropped", interest, reason)
        else:
            kept.append(interest)
    if kept and platform == "meta":
        planner.note(
            "interest",
            "kept",
            ",".join(kept),
            "Meta may still limit some detailed-targeting interests for employment ads",
        )
    if kept and platform == "google":
        planner.note("interest", "kept", ",".join(kept), "sent as ad-group keywords, not audience criteria")
    return tuple(kept)
