"""Changing a live campaign in place: budgets, end date, ad copy and targeting, in each platform's
own update API (targeting: :mod:`adflux.platforms.targeting_updates`).

:class:`CampaignChange` is the desired state (absolute values, never deltas), so applying the
same change twice, or again after a lost response, leaves the platform exactly as once.
:func:`apply_change` sends it through the platform's real update calls (Meta ``POST /<id>``,
Google ``googleAds:mutate`` ``update`` + ``updateMask``, TikTok ``*/update/``, X ``PUT``,
Snapchat ``PUT`` of the whole entity) and returns the operations it sent. Where a platform
cannot edit an ad's copy in place (Meta, Snapchat, X), a new creative named after the change's
revision is created (or found, after an ambiguous failure) and the existing ads point at it, so
the ads keep their ids and history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from adflux.platforms.base import PlatformAdapter, object_name
from adflux.platforms.errors import PlatformValidationError
from adflux.platforms.google_mutate import _responsive_search_ad as google_ad_copy
from adflux.platforms.money import meta_amount, tiktok_amount, to_micros
from adflux.platforms.targeting_updates import apply_targeting
from adflux.platforms.types import CreativeSpec, JobContext, PublishResult, TargetingSpec
from adflux.platforms.x_cards import card_for
from adflux.platforms.x_cards import copy_title as card_title_for


@dataclass(frozen=True)
class CampaignChange:
    """What a live platform campaign should become (None/empty = leave as it is)."""

    key: str  # the platform campaign's idempotency key (names new creatives)
    revision: int  # bumps with every desired-state change: a new creative per revision
    budget_total: int | None = None  # whole pesos
    budget_daily: int | None = None  # whole pesos, campaign level (X, Google)
    ad_group_budgets: dict[str, int] = field(default_factory=dict)  # ad-group ref -> daily pesos
    end_date: date | None = None
    creative: CreativeSpec | None = None
    job: JobContext | None = None  # the opening the copy is for (Google builds headlines from it)
    # ad-group ref -> what its segment would like to target (compliance decides what is sent)
    targeting: dict[str, TargetingSpec] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (
            self.budget_total
            or self.budget_daily
            or self.ad_group_budgets
            or self.end_date
            or self.creative
            or self.targeting
        )

    def campaign_daily(self) -> int | None:
        if self.budget_daily:
            return self.budget_daily
        return sum(self.ad_group_budgets.values()) or None


Updater = Callable[[Any, PublishResult, CampaignChange], list[str]]
UPDATERS: dict[str, Updater] = {}


def updater(platform: str) -> Callable[[Updater], Updater]:
    def register(function: Updater) -> Updater:
        UPDATERS[platform] = function
        return function

    return register


def apply_change(adapter: PlatformAdapter, result: PublishResult, change: CampaignChange) -> list[str]:
    """Send ``change`` to the platform through its update API; the operations sent, in order."""
    if adapter.platform not in UPDATERS:
        raise PlatformValidationError(f"{adapter.platform} has no update path", platform=adapter.platform)
    sent = UPDATERS[adapter.platform](adapter, result, change)
    if change.targeting:
        if change.job is None:
            raise PlatformValidationError("a targeting change needs its job", platform=adapter.platform)
        sent += apply_targeting(adapter, result, change.targeting, change.job)
    return sent


def _group_ids(result: PublishResult, change: CampaignChange) -> list[tuple[str, int]]:
    """(external ad-group id, daily pesos) for the groups the change names that exist."""
    return [
        (result.ad_groups[ref], daily)
        for ref, daily in change.ad_group_budgets.items()
        if ref in result.ad_groups
    ]


# -- Meta: POST /<id> with the fields to change ---------------------------------------------------


@updater("meta")
def _meta(adapter: Any, result: PublishResult, change: CampaignChange) -> list[str]:
    sent: list[str] = []
    campaign: dict[str, Any] = {}
    if change.budget_total:
        campaign["spend_cap"] = meta_amount(change.budget_total)
    if campaign:
        adapter._post(result.campaign_id, "update_campaign", campaign)
        sent.append("update_campaign")
    for ref, adset_id in result.ad_groups.items():
        adset: dict[str, Any] = {}
        if ref in change.ad_group_budgets:
            adset["daily_budget"] = meta_amount(change.ad_group_budgets[ref])
        if change.end_date:
            adset["end_time"] = (
                datetime.combine(change.end_date, time.max, UTC).replace(microsecond=0).isoformat()
            )
        if adset:
            adapter._post(adset_id, "update_adset", adset)
            sent.append("update_adset")
    if change.creative:
        spec = _spec_for_creative(result, change)
        name = object_name(change.key, "creative", f"r{change.revision}")
        creative_id = adapter._find_by_name(f"{adapter.act}/adcreatives", name, "find_creative")
        if creative_id is None:
            creative_id = adapter._create_creative(spec, name)
            sent.append("create_creative")
        for ad_id in result.ads.values():
            adapter._post(ad_id, "update_ad", {"creative": {"creative_id": creative_id}})
            sent.append("update_ad")
        result.creative_id = creative_id
    return sent


class _CreativeOnly:
    """The part of a CampaignSpec the adapters' creative builders read."""

    def __init__(self, creative: CreativeSpec) -> None:
        self.creative = creative


def _spec_for_creative(result: PublishResult, change: CampaignChange) -> Any:
    """The new copy with the image the campaign was published with (its media ids)."""
    assert change.creative is not None
    media = result.extra.get("media") or {}
    return _CreativeOnly(replace(change.creative, extra={**media, **change.creative.extra}))


# -- Google: googleAds:mutate update operations with an updateMask ----------------------------------


@updater("google")
def _google(adapter: Any, result: PublishResult, change: CampaignChange) -> list[str]:
    operations: list[dict[str, Any]] = []
    daily = change.campaign_daily()
    budget_rn = result.extra.get("budget")
    if daily and budget_rn:
        operations.append(
            {
                "campaignBudgetOperation": {
                    "update": {"resourceName": budget_rn, "amountMicros": str(to_micros(daily))},
                    "updateMask": "amountMicros",  # JSON FieldMask paths are lowerCamelCase
                }
            }
        )
    if change.end_date:
        campaign_rn = f"customers/{adapter.cid}/campaigns/{result.campaign_id}"
        operations.append(
            {
                "campaignOperation": {
                    "update": {
                        "resourceName": campaign_rn,
                        "endDateTime": f"{change.end_date.isoformat()} 23:59:59",
                    },
                    "updateMask": "endDateTime",
                }
            }
        )
    if change.creative:
        ad = google_ad_copy(_spec_for_google(adapter, result, change))
        for ad_id in result.ads.values():
            operations.append(
                {
                    "adOperation": {
                        "update": {"resourceName": f"customers/{adapter.cid}/ads/{ad_id}", **ad},
                        "updateMask": "finalUrls,responsiveSearchAd",
                    }
                }
            )
    if not operations:
        return []
    # One atomic request: every field changes, or none does.
    adapter._mutate(operations, "update_campaign")
    return ["update_campaign"]


def _spec_for_google(adapter: Any, result: PublishResult, change: CampaignChange) -> Any:
    """The parts of a CampaignSpec a responsive search ad is built from (copy and job title)."""
    job = change.job or JobContext(title=change.creative.headline if change.creative else "", category="")
    return SimpleNamespace(creative=change.creative, job=job)


# -- TikTok: campaign/update, adgroup/budget/update, adgroup/update, ad/update ----------------------


@updater("tiktok")
def _tiktok(adapter: Any, result: PublishResult, change: CampaignChange) -> list[str]:
    sent: list[str] = []
    if change.budget_total:
        adapter._post(
            "campaign/update/",
            "update_campaign",
            {"campaign_id": result.campaign_id, "budget": tiktok_amount(change.budget_total)},
        )
        sent.append("update_campaign")
    budgets = [
        {"adgroup_id": group_id, "budget": tiktok_amount(daily)}
        for group_id, daily in _group_ids(result, change)
    ]
    if budgets:
        adapter._post("adgroup/budget/update/", "update_adgroup_budget", {"budget": budgets})
        sent.append("update_adgroup_budget")
    if change.end_date:
        for group_id in result.ad_groups.values():
            adapter._post(
                "adgroup/update/",
                "update_adgroup",
                {
                    "adgroup_id": group_id,
                    "schedule_type": "SCHEDULE_START_END",
                    "schedule_end_time": f"{change.end_date.isoformat()} 23:59:59",
                },
            )
            sent.append("update_adgroup")
    if change.creative:
        spec = _spec_for_creative(result, change)
        for ref, ad_id in result.ads.items():
            creative = adapter._creative(spec, object_name(change.key, "ad", ref))
            creative.pop("operation_status", None)  # ad/update's creatives take no status
            adapter._post(
                "ad/update/",
                "update_ad",
                {"adgroup_id": result.ad_groups[ref], "creatives": [{"ad_id": ad_id, **creative}]},
            )
            sent.append("update_ad")
    return sent


# -- X: PUT accounts/:id/campaigns/:id; a post cannot be edited, so a new one is promoted -----------


@updater("x")
def _x(adapter: Any, result: PublishResult, change: CampaignChange) -> list[str]:
    params: dict[str, Any] = {}
    daily = change.campaign_daily()
    if daily:
        params["daily_budget_amount_local_micro"] = to_micros(daily)
    if change.budget_total:
        params["total_budget_amount_local_micro"] = to_micros(change.budget_total)
    sent: list[str] = []
    if params:
        path = adapter._acc(f"/campaigns/{result.campaign_id}")
        adapter._call("PUT", path, "update_campaign", params=params)
        sent.append("update_campaign")
    if change.end_date:
        # The current API's campaign has no schedule: the end is each line item's end_time.
        end = {"end_time": f"{change.end_date.isoformat()}T23:59:59Z"}
        for line_item in result.ad_groups.values():
            adapter._call("PUT", adapter._acc(f"/line_items/{line_item}"), "update_line_item", params=end)
        sent.append("update_line_item")
    if change.creative:
        sent += _x_new_post(adapter, result, change)
    return sent


def _x_new_post(adapter: Any, result: PublishResult, change: CampaignChange) -> list[str]:
    """A post cannot be edited: promote a new one on each line item, then stop promoting the old."""
    sent: list[str] = []
    name = object_name(change.key, "post", f"r{change.revision}")
    post_id = adapter._find(
        adapter._acc("/tweets"), name, "find_post", tweet_type="PUBLISHED", timeline_type="NULLCAST"
    )
    if post_id is None:
        spec = _spec_for_creative(result, change)
        # The new copy gets its own card (the title is the copy's), showing the same image.
        card_name = object_name(change.key, "card", f"r{change.revision}")
        card_uri = card_for(adapter, spec.creative, card_name, card_title_for(spec.creative))
        params = {
            "text": adapter._post_text(spec, with_link=card_uri is None),
            "nullcast": "true",
            "name": name,
            "as_user_id": adapter._as_user(),
            **({"card_uri": card_uri} if card_uri else {}),
        }
        answer = adapter._call("POST", adapter._acc("/tweet"), "create_post", params=params)
        post_id = str(answer["data"]["id_str"])
        sent.append("create_post")
    for ref, item_id in result.ad_groups.items():
        promoted = adapter._all(adapter._acc("/promoted_tweets"), "list_promoted", line_item_ids=item_id)
        current = [row for row in promoted if str(row["tweet_id"]) == post_id]
        if current:
            result.ads[ref] = str(current[0]["id"])
        else:
            params = {"line_item_id": item_id, "tweet_ids": post_id}
            answer = adapter._call("POST", adapter._acc("/promoted_tweets"), "promote_post", params=params)
            result.ads[ref] = str(answer["data"][0]["id"])
            sent.append("promote_post")
        for row in promoted:
            if str(row["tweet_id"]) != post_id and not row.get("deleted"):
                adapter._call("DELETE", adapter._acc(f"/promoted_tweets/{row['id']}"), "unpromote_post")
                sent.append("unpromote_post")
    result.creative_id = post_id
    return sent


# -- Snapchat: PUT carries the whole entity -------------------------------------------------------


def _snap_midnight(day: date) -> str:
    return datetime.combine(day, time.min, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@updater("snapchat")
def _snapchat(adapter: Any, result: PublishResult, change: CampaignChange) -> list[str]:
    sent: list[str] = []
    account = adapter.account.account_id
    if change.budget_total or change.end_date:
        campaign = _snap_read(adapter, f"campaigns/{result.campaign_id}", "campaigns")
        if change.budget_total:
            campaign["lifetime_spend_cap_micro"] = to_micros(change.budget_total)
        if change.end_date:
            campaign["end_time"] = _snap_midnight(change.end_date + timedelta(days=1))
        adapter._call(
            "PUT", f"adaccounts/{account}/campaigns", "update_campaign", json={"campaigns": [campaign]}
        )
        sent.append("update_campaign")
    for group_id, daily in _group_ids(result, change):
        squad = _snap_read(adapter, f"adsquads/{group_id}", "adsquads")
        squad["daily_budget_micro"] = to_micros(daily)
        adapter._call(
            "PUT", f"campaigns/{result.campaign_id}/adsquads", "update_adsquad", json={"adsquads": [squad]}
        )
        sent.append("update_adsquad")
    if change.creative:
        spec = _spec_for_creative(result, change)
        name = object_name(change.key, "creative", f"r{change.revision}")
        path = f"adaccounts/{account}/creatives"
        creative_id = adapter._find(path, "creatives", name, "find_creative")
        if creative_id is None:
            creative_id = adapter._create(path, "creatives", adapter._creative(spec, name), "create_creative")
            sent.append("create_creative")
        for ref, ad_id in result.ads.items():
            ad = _snap_read(adapter, f"ads/{ad_id}", "ads")
            ad["creative_id"] = creative_id
            squad_id = result.ad_groups[ref]
            adapter._call("PUT", f"adsquads/{squad_id}/ads", "update_ad", json={"ads": [ad]})
            sent.append("update_ad")
        result.creative_id = creative_id
    return sent


# What Snapchat returns but does not take back on PUT.
SNAP_READ_ONLY = ("created_at", "updated_at", "delivery_status", "review_status", "review_status_reasons")


def _snap_read(adapter: Any, path: str, key: str) -> dict[str, Any]:
    answer = adapter._call("GET", path, f"get_{key[:-1]}")
    entity = dict(answer[key][0][key[:-1]])
    for read_only in SNAP_READ_ONLY:
        entity.pop(read_only, None)
    return entity
