"""Every adapter against the loopback sandbox: real HTTP, each platform's own wire format."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date, timedelta

import pytest
from prometheus_client import REGISTRY

from adflux.constants import PLATFORMS
from adflux.platforms import AuthError, FatalError, PlatformValidationError

START = date(2025, 3, 3)  # the sandbox clock at the start of each test (see conftest)
GROUP_KIND = {
    "meta": "adset",
    "google": "ad_group",
    "x": "line_item",
    "tiktok": "adgroup",
    "snapchat": "adsquad",
}
AUDIENCE_KIND = {
    "meta": "audience",
    "google": "user_list",
    "x": "custom_audience",
    "tiktok": "audience",
    "snapchat": "segment",
}
CAMPAIGN_CREATE = {
    "meta": "/campaigns",
    "google": "googleAds:mutate",
    "x": "/campaigns",
    "tiktok": "campaign/create",
    "snapchat": "/campaigns",
}
GROUP_CREATE = {
    "meta": "/adsets",
    "google": "googleAds:mutate",
    "x": "/line_items",
    "tiktok": "adgroup/create",
    "snapchat": "/adsquads",
}


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_full_flow_publishes_paused_then_delivers_only_while_active(
    platform, sandbox, adapter_for, make_spec
):
    adapter = adapter_for(platform)
    result = adapter.publish(make_spec())

    assert set(result.ad_groups) == set(result.ads) == {"seg-1", "broad"}
    assert sandbox.object_counts(platform)[GROUP_KIND[platform]] == 2
    assert any(
        note["criterion"] == "gender" and note["action"] == "dropped" for note in result.compliance["seg-1"]
    )
    sandbox.advance_days(2)
    assert adapter.fetch_insights(result, START, START + timedelta(days=5)) == []  # created paused

    adapter.activate(result)
    sandbox.advance_days(7)
    rows = adapter.fetch_insights(result, START + timedelta(days=2), START + timedelta(days=8))
    assert {row.ad_group_ref for row in rows} == {"seg-1", "broad"}
    assert len(rows) == 14
    for row in rows:
        assert row.impressions >= row.clicks >= row.applications >= 0
        assert 0 < row.spend_micros <= 50_000 * 1_000_000
        assert row.reach is None or row.reach <= row.impressions

    adapter.pause(result)
    sandbox.advance_days(3)
    assert adapter.fetch_insights(result, START + timedelta(days=9), START + timedelta(days=11)) == []
    adapter.archive(result)
    assert result.status == "archived"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_publish_is_not_repeated_after_worker_crash(platform, sandbox, adapter_for, make_spec):
    adapter = adapter_for(platform)
    first = adapter.publish(make_spec())
    counts = sandbox.object_counts(platform)

    second = adapter.publish(make_spec())

    assert sandbox.object_counts(platform) == counts
    assert (second.campaign_id, second.ad_groups, second.ads) == (
        first.campaign_id,
        first.ad_groups,
        first.ads,
    )
    assert second.reused >= 5


@pytest.mark.parametrize("stage", ["campaign", "ad_group"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_no_duplicates_after_response_dropped_once_committed(
    platform, stage, sandbox, adapter_for, make_spec
):
    adapter = adapter_for(platform)
    match = (CAMPAIGN_CREATE if stage == "campaign" else GROUP_CREATE)[platform]
    sandbox.set_faults(platform, drop_after_commit=1, drop_match=match)

    result = adapter.publish(make_spec())

    assert sandbox.state.dropped[platform] == 1
    counts = sandbox.object_counts(platform)
    assert counts["campaign"] == 1
    assert counts[GROUP_KIND[platform]] == 2
    assert len(result.ads) == 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_expired_token_surfaces_as_auth_error(platform, sandbox, adapter_for, make_spec):
    adapter = adapter_for(platform)
    sandbox.expire_tokens(platform, adapter.account.credentials["access_token"])
    before = _sample("adflux_platform_api_errors_total", {"platform": platform, "error_class": "auth"})

    with pytest.raises(AuthError):
        adapter.publish(make_spec())
    health = adapter.health()

    assert not health.token_valid and not health.ok
    assert _sample("adflux_platform_api_errors_total", {"platform": platform, "error_class": "auth"}) > before


@pytest.mark.parametrize("platform", PLATFORMS)
def test_validation_error_carries_the_platform_message(platform, sandbox, adapter_for, make_spec):
    spec = make_spec()
    spec = dataclasses.replace(
        spec, ad_groups=tuple(dataclasses.replace(g, daily_budget=0) for g in spec.ad_groups)
    )

    with pytest.raises(PlatformValidationError) as caught:
        adapter_for(platform).publish(spec)

    assert "budget" in caught.value.message.lower() or "amount" in caught.value.message.lower()


EXPECTED_WAIT = {
    "meta": (120, 120),
    "google": (1.5, 1.5),
    "x": (2.0, 4.0),
    "tiktok": (0.5, 0.5),
    "snapchat": (0.5, 0.5),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_throttling_waits_as_long_as_the_platform_hint_says(
    platform, sandbox, adapter_for, sleeps, make_spec
):
    retry_after = {"meta": 120, "google": 1.5, "x": 3}.get(platform, 1.0)
    sandbox.set_faults(platform, throttle_next=1, throttle_retry_after=retry_after)
    before = _sample("adflux_platform_throttles_total", {"platform": platform})

    assert adapter_for(platform).health().token_valid

    low, high = EXPECTED_WAIT[platform]
    assert len(sleeps.calls) == 1
    assert low <= sleeps.calls[0] <= high
    assert _sample("adflux_platform_throttles_total", {"platform": platform}) == before + 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_transient_errors_are_retried_with_backoff(platform, sandbox, adapter_for, sleeps, make_spec):
    sandbox.set_faults(platform, error_next=2)

    result = adapter_for(platform).publish(make_spec())

    assert result.campaign_id
    assert sleeps.calls[:2] == [0.5, 1.0]
    assert sandbox.object_counts(platform)["campaign"] == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_audience_upload_sends_only_normalised_sha256_hashes(platform, sandbox, adapter_for, make_spec):
    pre_hashed = hashlib.sha256(b"c@example.com").hexdigest()
    adapter = adapter_for(platform)

    result = adapter.upload_audience(
        "seg-7",
        emails=[" Ana@Example.com", "ana@example.com ", "not-an-email"],
        hashed_emails=[pre_hashed, "xyz"],
    )
    again = adapter.upload_audience("seg-7", emails=["b@example.com"])

    assert again.audience_id == result.audience_id
    assert (result.received, result.invalid) == (2, 2)
    stored = sandbox.state.get(platform, AUDIENCE_KIND[platform], result.audience_id.rsplit("/", 1)[-1])
    assert stored is not None
    assert stored["_hashes"] >= {hashlib.sha256(b"ana@example.com").hexdigest(), pre_hashed}
    assert all(len(value) == 64 for value in stored["_hashes"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_health_reports_token_version_and_headroom(platform, sandbox, adapter_for, make_spec):
    health = adapter_for(platform, rate_limit_per_second=50.0).health()

    assert health.ok and health.token_valid
    assert (
        health.api_version
        == {"meta": "v26.0", "google": "v26", "x": "12", "tiktok": "v1.3", "snapchat": "v1"}[platform]
    )
    assert health.throttle_headroom is not None and 0 <= health.throttle_headroom <= 1


def test_unknown_object_is_a_fatal_error(sandbox, adapter_for, make_spec):
    adapter = adapter_for("meta")
    result = adapter.publish(make_spec())
    result.campaign_id = "999999999"

    with pytest.raises(FatalError):
        adapter.pause(result)


def test_meta_ads_wait_for_review_and_discriminatory_text_is_disapproved(sandbox, adapter_for, make_spec):
    adapter = adapter_for("meta")
    good = adapter.publish(make_spec("ok"))
    bad = adapter.publish(make_spec("bad", discriminatory=True))
    adapter.activate(good)
    adapter.activate(bad)
    ad = sandbox.state.get("meta", "ad", good.ads["seg-1"])
    assert ad is not None and ad["_review"] == "PENDING_REVIEW"

    sandbox.advance_days(3)

    assert ad["_review"] == "APPROVED"
    assert adapter.fetch_insights(good, START, START + timedelta(days=2))
    assert adapter.fetch_insights(bad, START, START + timedelta(days=2)) == []


def test_google_tree_is_one_atomic_mutate_with_temporary_ids(sandbox, adapter_for, make_spec):
    adapter = adapter_for("google")

    result = adapter.publish(make_spec())

    assert sandbox.state.requests["google"] == 2  # one lookup by name, one mutate
    assert result.extra["campaign"] == f"customers/1234567890/campaigns/{result.campaign_id}"
    criteria = sandbox.state.all("google", "ad_group_criterion")
    assert {c["keyword"]["text"] for c in criteria if "keyword" in c} >= {"software", "programación"}
    assert not any(key in c for c in criteria for key in ("ageRange", "gender"))


def test_google_reuses_a_tree_another_publish_created_after_our_lookup(sandbox, adapter_for, make_spec):
    adapter = adapter_for("google")
    first = adapter.publish(make_spec())
    counts = sandbox.object_counts("google")
    real_find = adapter._find_tree
    lookups: list[str] = []

    def find_tree(spec, name):
        lookups.append(name)  # the first lookup misses it, as if the other publish were still running
        return real_find(spec, name) if len(lookups) > 1 else None

    adapter._find_tree = find_tree
    mutates_before = _sample(
        "adflux_platform_api_calls_total", {"platform": "google", "operation": "mutate_campaign_tree"}
    )

    second = adapter.publish(make_spec())  # the mutate is refused with DUPLICATE_CAMPAIGN_NAME

    assert sandbox.object_counts("google") == counts
    assert (second.campaign_id, second.ad_groups, second.ads) == (
        first.campaign_id,
        first.ad_groups,
        first.ads,
    )
    assert len(lookups) == 2  # missed, then found after the refusal
    assert (
        _sample(
            "adflux_platform_api_calls_total", {"platform": "google", "operation": "mutate_campaign_tree"}
        )
        == mutates_before + 1
    )
