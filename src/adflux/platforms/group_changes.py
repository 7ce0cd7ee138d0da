"""Segments added to or removed from a live campaign: its ad groups created or paused in place.

Adding: the platform campaign's spec (every ad group still wanted) is published again. Publishing
finds the campaign and the ad groups that exist by their ``[adflux:...]`` names and creates only
the missing ones (PAUSED, with their ads); Google's tree is one mutate, so there the new ad groups,
their ads and keywords are one atomic ``googleAds:mutate`` under the existing campaign. The new
groups are then switched on (children first, the campaign last; a paused campaign stays paused and
its new groups go on with it when it resumes).

Removing: the ad group is paused at the platform (Meta ``POST /<adset>``, Google ``adGroupOperation``
``update`` status, TikTok ``adgroup/status/update/``, Snapchat whole-squad ``PUT``, X ``PUT
line_items/:id``) and moved out of ``result.ad_groups`` into ``result.extra["removed_groups"]``, so
nothing later (a resume, a budget change) switches it on again. Both are idempotent: a group that
exists is found, a paused group paused again is still paused.
"""

from __future__ import annotations

from typing import Any

from adflux.platforms.base import name_prefix, object_name
from adflux.platforms.compliance import plan_targeting
from adflux.platforms.google_mutate import _ad_group, _responsive_search_ad
from adflux.platforms.types import CampaignSpec, PublishResult

REMOVED = "removed_groups"
REMOVED_ADS = "removed_ads"


def add_groups(adapter: Any, result: PublishResult, spec: CampaignSpec, *, live: bool) -> list[str]:
    """Create the spec's ad groups that ``result`` lacks; switch them on if the campaign is ``live``."""
    new = [group.ref for group in spec.ad_groups if group.ref not in result.ad_groups]
    if not new:
        return []
    removed: dict[str, str] = result.extra.setdefault(REMOVED, {})
    removed_ads: dict[str, str] = result.extra.setdefault(REMOVED_ADS, {})
    added = PublishResult(platform=result.platform, campaign_id=result.campaign_id, extra=dict(result.extra))
    for ref in [ref for ref in new if ref in removed]:  # a segment put back: its own ad group again
        added.ad_groups[ref] = removed.pop(ref)
        if ref in removed_ads:
            added.ads[ref] = removed_ads.pop(ref)
    missing = [ref for ref in new if ref not in added.ad_groups]
    if missing and adapter.platform == "google":
        _google_create(adapter, result, spec, missing, added)
    elif missing:
        published = adapter.publish(spec)  # finds what exists by name, creates the rest PAUSED
        for ref in missing:
            added.ad_groups[ref] = published.ad_groups[ref]
            added.ads[ref] = published.ads[ref]
        _current_creative(adapter, result, published, added, missing)
    if adapter.platform == "google":  # created ENABLED under the campaign; a restored one was paused
        for ref in [ref for ref in added.ad_groups if ref not in missing]:
            _set_google_group(adapter, added.ad_groups[ref], "ENABLED")
    if live:
        adapter.set_status(added, "active")
    result.ad_groups.update(added.ad_groups)
    result.ads.update(added.ads)
    return ["add_ad_group"] * len(new)


def _current_creative(
    adapter: Any, result: PublishResult, published: PublishResult, added: PublishResult, refs: list[str]
) -> None:
    """New ads point at the creative the campaign's ads use now (copy changed in place since the
    publish made a newer creative or post than the one publishing finds by its original name)."""
    current = result.creative_id
    if not current or current == published.creative_id:
        return
    for ref in refs:
        ad_id = added.ads[ref]
        if adapter.platform == "meta":
            adapter._post(ad_id, "update_ad", {"creative": {"creative_id": current}})
        elif adapter.platform == "snapchat":
            ad = adapter._read_whole("ads", ad_id)
            ad["creative_id"] = current
            path = f"adsquads/{added.ad_groups[ref]}/ads"
            adapter._call("PUT", path, "update_ad", json={"ads": [ad]})
        elif adapter.platform == "x":
            params = {"line_item_id": added.ad_groups[ref], "tweet_ids": current}
            answer = adapter._call("POST", adapter._acc("/promoted_tweets"), "promote_post", params=params)
            adapter._call("DELETE", adapter._acc(f"/promoted_tweets/{ad_id}"), "unpromote_post")
            added.ads[ref] = str(answer["data"][0]["id"])


def remove_groups(adapter: Any, result: PublishResult, refs: list[str]) -> list[str]:
    """Pause the ad groups of ``refs`` and keep their ids aside (never switched on again)."""
    sent: list[str] = []
    for ref in refs:
        group_id = result.ad_groups.get(ref)
        if group_id is None:
            continue
        _pause_group(adapter, result, group_id)
        result.extra.setdefault(REMOVED, {})[ref] = result.ad_groups.pop(ref)
        if ref in result.ads:
            result.extra.setdefault(REMOVED_ADS, {})[ref] = result.ads.pop(ref)
        sent.append("pause_ad_group")
    return sent


def _pause_group(adapter: Any, result: PublishResult, group_id: str) -> None:
    platform = adapter.platform
    if platform == "meta":
        adapter._post(group_id, "pause_adset", {"status": "PAUSED"})
    elif platform == "tiktok":
        body = {"adgroup_ids": [group_id], "operation_status": "DISABLE"}
        adapter._post("adgroup/status/update/", "pause_adgroup", body)
    elif platform == "snapchat":
        adapter._put_whole("adsquads", group_id, f"campaigns/{result.campaign_id}/adsquads", "PAUSED")
    elif platform == "x":
        path = adapter._acc(f"/line_items/{group_id}")
        adapter._call("PUT", path, "pause_line_item", params={"entity_status": "PAUSED"})
    else:
        _set_google_group(adapter, group_id, "PAUSED")


def _set_google_group(adapter: Any, group_id: str, status: str) -> None:
    resource = f"customers/{adapter.cid}/adGroups/{group_id}"
    update = {"update": {"resourceName": resource, "status": status}, "updateMask": "status"}
    adapter._mutate([{"adGroupOperation": update}], f"set_ad_group_{status.lower()}")


def _google_create(
    adapter: Any, result: PublishResult, spec: CampaignSpec, refs: list[str], added: PublishResult
) -> None:
    """New ad groups (with their ad and keywords) under the existing campaign, in one atomic mutate.

    The groups are looked up by their ``[adflux:...]`` names first and after a lost answer (GAQL
    search), so a mutate that committed before its answer was lost, or a task that died after it,
    is adopted instead of creating the groups twice.
    """
    groups = [group for group in spec.ad_groups if group.ref in refs]
    found, _ = adapter._ensure(
        "ad groups",
        lambda: _google_find(adapter, result, spec, refs),
        lambda: _google_mutate(adapter, result, spec, groups),
        look_first=True,
        failure="could not confirm the new ad groups were created",
    )
    for ref, (group_id, ad_id) in found.items():
        added.ad_groups[ref] = group_id
        added.ads[ref] = ad_id


def _google_mutate(
    adapter: Any, result: PublishResult, spec: CampaignSpec, groups: list[Any]
) -> dict[str, tuple[str, str]]:
    campaign_rn = f"customers/{adapter.cid}/campaigns/{result.campaign_id}"
    ad = _responsive_search_ad(spec)
    operations: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        group_rn = f"customers/{adapter.cid}/adGroups/{-(index + 1)}"
        plan = plan_targeting("google", spec.job, group.targeting)
        operations += _ad_group(adapter.cid, spec, group, group_rn, campaign_rn, ad, plan)
    group_ids: dict[str, str] = {}
    ad_ids: dict[str, str] = {}
    order = iter(group.ref for group in groups)
    ad_order = iter(group.ref for group in groups)
    for response in adapter._mutate(operations, "add_ad_groups"):
        ((key, value),) = response.items()
        last = value["resourceName"].rsplit("/", 1)[-1]
        if key == "adGroupResult":
            group_ids[next(order)] = last
        elif key == "adGroupAdResult":
            ad_ids[next(ad_order)] = last.split("~", 1)[1]
    return {ref: (group_ids[ref], ad_ids[ref]) for ref in group_ids}


def _google_find(
    adapter: Any, result: PublishResult, spec: CampaignSpec, refs: list[str]
) -> dict[str, tuple[str, str]] | None:
    """The groups of ``refs`` already under the campaign, by name, with their ads; None if absent.

    The mutate is atomic, so either all of them exist or none does."""
    by_prefix = {object_name(spec.key, "", ref): ref for ref in refs}
    rows = adapter.search(
        "SELECT ad_group.id, ad_group.name, ad_group_ad.ad.id FROM ad_group_ad "
        f"WHERE campaign.id = {int(result.campaign_id)} AND ad_group.status != 'REMOVED'",
        "find_ad_groups",
    )
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        ref = by_prefix.get(name_prefix(row["adGroup"]["name"]))
        if ref:
            found[ref] = (str(row["adGroup"]["id"]), str(row["adGroupAd"]["ad"]["id"]))
    return found if found and set(found) == set(refs) else None
