"""Plain typed values passed into and out of the adapters (no Flask, no ORM)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from adflux.constants import COUNTRY


@dataclass(frozen=True)
class AccountConfig:
    """One ad account: where to call, as whom, and how fast."""

    account_id: str
    credentials: dict[str, str]
    base_url: str | None = None
    api_version: str | None = None
    # Calls per second allowed by our client-side limiter (None = no client-side limit).
    rate_limit_per_second: float | None = None
    rate_limit_burst: float | None = None
    # A Redis URL: the rate is one budget for the account shared by every process (else per process).
    rate_limit_shared_url: str | None = None
    # While that Redis does not answer, this process paces itself at this share of the rate.
    rate_limit_fallback_share: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JobContext:
    """The job opening a campaign advertises, as far as targeting rules care."""

    title: str
    category: str
    city: str | None = None
    department: str | None = None
    country: str = COUNTRY


@dataclass(frozen=True)
class TargetingSpec:
    """What a segment would like to target; compliance decides what each platform may use."""

    age_min: int | None = None
    age_max: int | None = None
    genders: tuple[str, ...] = ()
    countries: tuple[str, ...] = (COUNTRY,)
    cities: tuple[str, ...] = ()
    postal_codes: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    excluded_interests: tuple[str, ...] = ()
    excluded_cities: tuple[str, ...] = ()
    lookalike: bool = False
    # External audience id on this platform, built from consented candidates' hashed emails.
    custom_audience_id: str | None = None
    languages: tuple[str, ...] = ("es",)


@dataclass(frozen=True)
class AdGroupSpec:
    """One ad set / ad group / line item / ad squad, aimed at one segment (or broad)."""

    ref: str
    name: str
    daily_budget: int  # whole COP pesos
    targeting: TargetingSpec = field(default_factory=TargetingSpec)
    segment_label: str | None = None


@dataclass(frozen=True)
class CreativeSpec:
    """Ad copy for one platform (already within its length limits)."""

    headline: str
    primary_text: str
    link_url: str
    call_to_action: str = "APPLY_NOW"
    description: str | None = None
    # Platform-specific extras, e.g. {"headlines": [...], "descriptions": [...]} for Google.
    extra: dict[str, Any] = field(default_factory=dict)
    # The ad image (PNG) in the platform's size; uploaded through the platform's media API when
    # `extra` does not already name it (platforms/media.py).
    image: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CampaignSpec:
    """Everything needed to publish one campaign on one platform."""

    key: str  # AdFlux's idempotency key, carried in every object name
    name: str
    objective: str  # "traffic" | "leads"
    budget_total: int  # whole COP pesos
    start_date: date
    job: JobContext
    ad_groups: tuple[AdGroupSpec, ...]
    creative: CreativeSpec
    budget_daily: int | None = None
    end_date: date | None = None

    def __post_init__(self) -> None:
        if self.objective not in ("traffic", "leads"):
            raise ValueError(f"unknown objective {self.objective!r}")
        if not self.ad_groups:
            raise ValueError("a campaign needs at least one ad group")
        refs = [group.ref for group in self.ad_groups]
        if len(set(refs)) != len(refs):
            raise ValueError("ad group refs must be unique within a campaign")


@dataclass
class PublishResult:
    """Every external id a publish produced, keyed by our refs where there are several."""

    platform: str
    campaign_id: str
    ad_groups: dict[str, str] = field(default_factory=dict)  # our ad-group ref -> external id
    ads: dict[str, str] = field(default_factory=dict)  # our ad-group ref -> external ad id
    creative_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # budget id, tweet id, funding instrument...
    status: str = "paused"
    # Per ad-group ref: the compliance report of what was dropped or widened and why.
    compliance: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # How many objects already existed (found by name) instead of being created.
    reused: int = 0

    def group_refs(self) -> dict[str, str]:
        """External ad-group id -> our ref (to label insight rows)."""
        return {external: ref for ref, external in self.ad_groups.items()}

    def to_dict(self) -> dict[str, Any]:
        """Serialise for PlatformCampaign.external_ids."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PublishResult:
        """Rebuild from :meth:`to_dict` output."""
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class InsightRow:
    """One day of delivery for one ad group."""

    ad_group_ref: str | None
    ad_group_id: str
    date: date
    impressions: int
    reach: int | None
    clicks: int
    engagements: int | None
    spend_micros: int  # COP micros
    applications: int


@dataclass(frozen=True)
class AudienceResult:
    """A custom audience after an upload."""

    audience_id: str
    name: str
    received: int
    invalid: int = 0


@dataclass(frozen=True)
class HealthReport:
    """Whether an account can be used right now, and how close to its limits it is."""

    platform: str
    ok: bool
    token_valid: bool
    api_version: str
    token_expires_at: datetime | None = None
    throttle_headroom: float | None = None  # 0..1, fraction of the rate budget left
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
