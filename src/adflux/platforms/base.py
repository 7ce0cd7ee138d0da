"""The interface every platform adapter implements, and the shared publishing helpers."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import date
from types import TracebackType
from typing import ClassVar

import httpx

from adflux.platforms.compliance import CompliancePlan, plan_targeting
from adflux.platforms.errors import AmbiguousOutcomeError, PlatformError
from adflux.platforms.ratelimit import limiter_for
from adflux.platforms.transport import Transport, TransportConfig
from adflux.platforms.types import (
    AccountConfig,
    AudienceResult,
    CampaignSpec,
    HealthReport,
    InsightRow,
    PublishResult,
)

logger = logging.getLogger(__name__)

STATUSES = ("active", "paused", "archived")
# A name prefix the platform keeps verbatim: how we find what an ambiguous failure created.
NAME_LIMIT = 250


def object_name(key: str, label: str, *parts: str) -> str:
    """``[adflux:<key>(:<part>)*] <label>``, truncated in the label only."""
    prefix = "[adflux:" + ":".join((key, *parts)) + "]"
    return f"{prefix} {label}"[:NAME_LIMIT] if label else prefix


def name_prefix(name: str) -> str:
    """The ``[adflux:...]`` part of a name (what lookups compare)."""
    return name.split("]", 1)[0] + "]" if name.startswith("[adflux:") else name


class PlatformAdapter(ABC):
    """Publish and manage AdFlux campaigns on one ad platform account."""

    platform: ClassVar[str]
    default_base_url: ClassVar[str]
    default_api_version: ClassVar[str]

    def __init__(self, account: AccountConfig, *, transport_config: TransportConfig | None = None) -> None:
        self.account = account
        self.api_version = account.api_version or self.default_api_version
        self.base_url = (account.base_url or self.default_base_url).rstrip("/")
        self.config = transport_config or TransportConfig()
        limiter = None
        if account.rate_limit_per_second:
            limiter = limiter_for(
                self.platform,
                account.account_id,
                self.base_url,
                account.rate_limit_per_second,
                account.rate_limit_burst,
                sleep=self.config.sleep,
            )
        self.transport = Transport(
            platform=self.platform,
            base_url=self.base_url,
            classify=self.classify,
            config=self.config,
            limiter=limiter,
            headers=self.default_headers(),
            auth=self.auth(),
        )

    # -- wiring each adapter provides ------------------------------------------------------

    @staticmethod
    @abstractmethod
    def classify(response: httpx.Response, now: float) -> PlatformError | None:
        """Map a response to None (success) or the right error class."""

    def default_headers(self) -> dict[str, str]:
        """Headers sent on every call (auth headers for bearer-token platforms)."""
        return {}

    def auth(self) -> httpx.Auth | None:
        """An httpx auth flow, for platforms that sign requests."""
        return None

    # -- the interface ---------------------------------------------------------------------

    @abstractmethod
    def publish(self, spec: CampaignSpec) -> PublishResult:
        """Create the whole tree PAUSED, reusing objects that already exist under our names."""

    @abstractmethod
    def set_status(self, result: PublishResult, status: str) -> None:
        """Move a published tree to "active", "paused" or "archived"."""

    @abstractmethod
    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        """Daily rows per ad group for [since, until] inclusive."""

    @abstractmethod
    def upload_audience(
        self, name: str, *, emails: Iterable[str] = (), hashed_emails: Iterable[str] = ()
    ) -> AudienceResult:
        """Create (or reuse, by name) a custom audience and add consented candidates' hashes.

        Raw ``emails`` are normalised and hashed here; ``hashed_emails`` must already be SHA-256
        hex digests of normalised emails. Clear-text emails never leave this process.
        """

    @abstractmethod
    def health(self) -> HealthReport:
        """Token validity and expiry, throttling headroom and the API version in use."""

    # -- conveniences ------------------------------------------------------------------------

    def activate(self, result: PublishResult) -> None:
        """Start delivery of a published tree."""
        self.set_status(result, "active")
        result.status = "active"

    def pause(self, result: PublishResult) -> None:
        """Stop delivery, keeping everything for later."""
        self.set_status(result, "paused")
        result.status = "paused"

    def archive(self, result: PublishResult) -> None:
        """Archive or delete the tree (platform's closest equivalent)."""
        self.set_status(result, "archived")
        result.status = "archived"

    def plan(self, spec: CampaignSpec) -> dict[str, CompliancePlan]:
        """Employment-compliant targeting per ad group ref."""
        return {
            group.ref: plan_targeting(self.platform, spec.job, group.targeting) for group in spec.ad_groups
        }

    def close(self) -> None:
        """Release the connection pool."""
        self.transport.close()

    def __enter__(self) -> PlatformAdapter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _ensure(
        self,
        what: str,
        find: Callable[[], str | None],
        create: Callable[[], str],
        *,
        look_first: bool,
        attempts: int = 3,
    ) -> tuple[str, bool]:
        """Create an object once: look it up after every ambiguous failure before trying again.

        Returns (external id, whether it already existed).
        """
        if look_first:
            found = find()
            if found:
                logger.info("%s %s already exists (%s); reusing it", self.platform, what, found)
                return found, True
        for attempt in range(1, attempts + 1):
            try:
                return create(), False
            except AmbiguousOutcomeError:
                logger.warning(
                    "%s create %s: response lost (attempt %d); looking it up", self.platform, what, attempt
                )
                found = find()
                if found:
                    return found, True
        raise AmbiguousOutcomeError(f"could not confirm creation of {what}", platform=self.platform)

    def _raise_for_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
