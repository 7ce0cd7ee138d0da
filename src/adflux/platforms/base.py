"""The interface every platform adapter implements, and the shared publishing skeleton.

:class:`PlatformAdapter` is the interface plus what every platform shares: the transport, the
idempotent :meth:`~PlatformAdapter._ensure` (look up by our ``[adflux:...]`` name after an
ambiguous failure before creating again) and the audience upload preamble. :class:`TreeAdapter`
adds the publish walk for platforms that create a campaign tree object by object (campaign ->
ad groups -> creative -> ads); each such adapter only supplies :class:`Step` hooks with its own
wire format and endpoints.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import httpx

from adflux.platforms.audiences import prepare_hashes
from adflux.platforms.compliance import CompliancePlan, plan_targeting
from adflux.platforms.errors import AmbiguousOutcomeError, AuthError, PlatformError, RetryableError
from adflux.platforms.limiters import limiter_for
from adflux.platforms.media import attach as attach_media
from adflux.platforms.transport import Transport, TransportConfig
from adflux.platforms.types import (
    AccountConfig,
    AdGroupSpec,
    AudienceResult,
    CampaignSpec,
    HealthReport,
    InsightRow,
    PublishResult,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

STATUSES = ("active", "paused", "archived")
# A name prefix the platform keeps verbatim: how we find what an ambiguous failure created.
NAME_LIMIT = 250
AUDIENCE_LABEL = "candidatos con consentimiento"
REPORT_POLLS = 30


def object_name(key: str, label: str, *parts: str) -> str:
    """``[adflux:<key>(:<part>)*] <label>``, truncated in the label only."""
    prefix = "[adflux:" + ":".join((key, *parts)) + "]"
    return f"{prefix} {label}"[:NAME_LIMIT] if label else prefix


def name_prefix(name: str) -> str:
    """The ``[adflux:...]`` part of a name (what lookups compare)."""
    return name.split("]", 1)[0] + "]" if name.startswith("[adflux:") else name


def _never(error: PlatformError) -> bool:
    return False


class PlatformAdapter(ABC):
    """Publish and manage AdFlux campaigns on one ad platform account."""

    platform: ClassVar[str]
    default_base_url: ClassVar[str]
    default_api_version: ClassVar[str]
    # What the platform calls a custom audience (for logs and errors).
    audience_kind: ClassVar[str] = "custom audience"

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
                shared_url=account.rate_limit_shared_url,
                fallback_share=account.rate_limit_fallback_share,
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

    # Platform campaigns one report request may cover (1: the platform is read campaign by campaign).
    report_batch = 1

    def fetch_insights_many(
        self, results: Sequence[PublishResult], since: date, until: date
    ) -> list[InsightRow]:
        """Daily rows per ad group of up to ``report_batch`` campaigns for [since, until]: one
        account-level report filtered to their ids where the platform allows it, else one each."""
        return [row for result in results for row in self.fetch_insights(result, since, until)]

    def upload_audience(
        self, name: str, *, emails: Iterable[str] = (), hashed_emails: Iterable[str] = ()
    ) -> AudienceResult:
        """Create (or reuse, by name) a custom audience and add consented candidates' hashes.

        Raw ``emails`` are normalised and hashed here; ``hashed_emails`` must already be SHA-256
        hex digests of normalised emails. Clear-text emails never leave this process.
        """
        hashes, invalid = prepare_hashes(emails, hashed_emails)
        audience_name = object_name(name, AUDIENCE_LABEL)
        audience, _ = self._ensure(
            self.audience_kind,
            lambda: self._find_audience(audience_name),
            lambda: self._create_audience(audience_name, hashes),
            look_first=True,
        )
        received, rejected = self._fill_audience(audience, hashes)
        return AudienceResult(
            audience_id=self._audience_id(audience),
            name=audience_name,
            received=received,
            invalid=invalid + rejected,
        )

    @abstractmethod
    def health(self) -> HealthReport:
        """Token validity and expiry, throttling headroom and the API version in use."""

    # -- audience hooks --------------------------------------------------------------------

    @abstractmethod
    def _find_audience(self, name: str) -> str | None:
        """The audience called ``name``, if it exists."""

    @abstractmethod
    def _create_audience(self, name: str, hashes: list[str]) -> str:
        """Create the audience (empty, unless the platform creates it from a file)."""

    @abstractmethod
    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        """Add the hashes; return (received, rejected) as the platform counts them."""

    def _audience_id(self, audience: str) -> str:
        """The id reported for what the audience hooks returned (the same, unless overridden)."""
        return audience

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

    # -- shared helpers ----------------------------------------------------------------------

    def _ensure(
        self,
        what: str,
        find: Callable[[], T | None],
        create: Callable[[], T],
        *,
        look_first: bool,
        attempts: int = 3,
        taken: Callable[[PlatformError], bool] = _never,
        failure: str | None = None,
    ) -> tuple[T, bool]:
        """Create an object once: look it up after every ambiguous failure before trying again.

        ``taken`` marks refusals that mean the name already exists (look it up, too); ``failure``
        replaces the message raised when no attempt could be confirmed.
        Returns (the object's id or tree, whether it already existed).
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
            except PlatformError as exc:
                if not taken(exc):
                    raise
                logger.warning("%s create %s: name taken; reusing the existing one", self.platform, what)
            found = find()
            if found:
                return found, True
        raise AmbiguousOutcomeError(
            failure or f"could not confirm creation of {what}", platform=self.platform
        )

    def _published(self, result: PublishResult, plans: dict[str, CompliancePlan]) -> PublishResult:
        """Attach the compliance report to a published tree."""
        result.compliance = {ref: plan.report() for ref, plan in plans.items()}
        logger.info("%s campaign %s published (%d reused)", self.platform, result.campaign_id, result.reused)
        return result

    def _wait_for(self, what: str, poll: Callable[[], T | None]) -> T:
        """Poll an asynchronous report until ``poll`` returns it (``poll`` raises if it failed)."""
        for _ in range(REPORT_POLLS):
            done = poll()
            if done is not None:
                return done
            self.config.sleep(float(self.account.extra.get("report_poll_seconds", 1.0)))
        raise RetryableError(f"{what} did not finish", platform=self.platform)

    def _headroom(self) -> float | None:
        """Our own limiter's headroom, for platforms whose answers carry no usage figures."""
        return self.transport.limiter.headroom() if self.transport.limiter is not None else None

    def _unhealthy(self, exc: AuthError, expires: datetime | None = None) -> HealthReport:
        """The health report of an account whose token the platform refused."""
        return HealthReport(
            self.platform,
            ok=False,
            token_valid=False,
            api_version=self.api_version,
            token_expires_at=expires,
            detail=str(exc),
        )

    def _raise_for_status(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")


@dataclass(frozen=True)
class Step:
    """One object of a campaign tree: how to find it by name and how to create it PAUSED.

    ``look_first`` looks the name up before creating (when an earlier publish may have made it);
    a lookup always follows an ambiguous create.
    """

    what: str
    find: Callable[[], str | None]
    create: Callable[[], str]
    look_first: bool = False


@dataclass
class Tree:
    """One publish in progress: the spec, its compliance plans and the ids so far."""

    spec: CampaignSpec
    plans: dict[str, CompliancePlan]
    result: PublishResult
    campaign_reused: bool = False
    reused_groups: set[str] = field(default_factory=set)  # refs of ad groups that already existed

    @property
    def reused_any(self) -> bool:
        """Whether anything of this tree existed already (then its later objects may, too)."""
        return bool(self.result.reused)


class TreeAdapter(PlatformAdapter):
    """Publish object by object: campaign -> ad groups -> creative -> ads, all PAUSED.

    Every object is found or created through :meth:`_ensure` from the :class:`Step` its hook
    returns. When the campaign already existed, the children listed by :meth:`_existing_groups`
    and :meth:`_existing_ads` are reused without a call each (matched by :meth:`_match_key`).
    """

    # True: each ad group's ad right after it (TikTok); False: every ad after the creative.
    ads_follow_groups: ClassVar[bool] = False

    def publish(self, spec: CampaignSpec) -> PublishResult:
        """Create campaign, ad groups, creative and ads, all PAUSED; reuse any found by name."""
        spec, uploaded = attach_media(self, spec)  # the image first: no image ad goes out without it
        tree = Tree(spec, self.plan(spec), PublishResult(platform=self.platform, campaign_id=""))
        if uploaded:
            tree.result.extra["media"] = uploaded
        campaign = self._campaign_step(tree, object_name(spec.key, spec.name))
        tree.result.campaign_id, tree.campaign_reused = self._take(tree, campaign)
        known_groups = self._known(self._existing_groups(tree)) if tree.campaign_reused else {}
        known_ads = self._known(self._existing_ads(tree)) if tree.campaign_reused else {}
        for group in spec.ad_groups:
            self._place_group(tree, group, known_groups)
            if self.ads_follow_groups:
                self._place_ad(tree, group, known_ads)
        creative = self._creative_step(tree)
        if creative is not None:
            tree.result.creative_id, _ = self._take(tree, creative)
        if not self.ads_follow_groups:
            for group in spec.ad_groups:
                self._place_ad(tree, group, known_ads)
        return self._published(tree.result, tree.plans)

    # -- hooks -------------------------------------------------------------------------------

    @abstractmethod
    def _campaign_step(self, tree: Tree, name: str) -> Step:
        """Find or create the campaign called ``name``."""

    @abstractmethod
    def _group_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        """Find or create one ad group (ad set, line item, ad squad) called ``name``."""

    @abstractmethod
    def _ad_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        """Find or create the ad of one ad group (its id goes into ``result.ads``)."""

    def _creative_step(self, tree: Tree) -> Step | None:
        """Find or create the creative shared by the ads (None: ads carry their own)."""
        return None

    def _existing_groups(self, tree: Tree) -> list[dict[str, Any]]:
        """Rows (``name``, ``id``) of the ad groups of a campaign that already existed."""
        return []

    def _existing_ads(self, tree: Tree) -> list[dict[str, Any]]:
        """Rows (``name``, ``id``) of the ads of a campaign that already existed."""
        return []

    def _match_key(self, name: str) -> str:
        """What two names must share to be the same object (the whole name unless overridden)."""
        return name

    def _ad_name(self, spec: CampaignSpec, group: AdGroupSpec) -> str:
        return object_name(spec.key, spec.creative.headline, group.ref, "ad")

    def _after_group(self, tree: Tree, group: AdGroupSpec, group_id: str) -> None:
        """Anything an ad group needs right after it is created (X: targeting criteria)."""

    # -- the walk ----------------------------------------------------------------------------

    def _take(self, tree: Tree, step: Step) -> tuple[str, bool]:
        found, reused = self._ensure(step.what, step.find, step.create, look_first=step.look_first)
        tree.result.reused += reused
        return found, reused

    def _known(self, rows: list[dict[str, Any]]) -> dict[str, str]:
        return {self._match_key(row["name"]): str(row["id"]) for row in rows}

    def _listed(self, tree: Tree, known: dict[str, str], name: str) -> str | None:
        """The id of an object listed under ``name`` (counted as reused), if there is one."""
        found = known.get(self._match_key(name))
        if found:
            tree.result.reused += 1
        return found

    def _place_group(self, tree: Tree, group: AdGroupSpec, known: dict[str, str]) -> None:
        name = object_name(tree.spec.key, group.name, group.ref)
        listed = self._listed(tree, known, name)
        if listed:
            tree.result.ad_groups[group.ref] = listed
            tree.reused_groups.add(group.ref)
            return
        group_id, reused = self._take(tree, self._group_step(tree, group, name))
        tree.result.ad_groups[group.ref] = group_id
        if reused:
            tree.reused_groups.add(group.ref)
        self._after_group(tree, group, group_id)

    def _place_ad(self, tree: Tree, group: AdGroupSpec, known: dict[str, str]) -> None:
        name = self._ad_name(tree.spec, group)
        listed = self._listed(tree, known, name)
        tree.result.ads[group.ref] = listed or self._take(tree, self._ad_step(tree, group, name))[0]
