"""Issue 17 item 4: what each platform reads is what the adapters now send (seen in sandbox state)."""

from __future__ import annotations

import dataclasses


def test_tiktok_ads_are_created_disabled_per_creative(sandbox, adapter_for, make_spec):
    adapter_for("tiktok").publish(make_spec())

    ads = sandbox.state.all("tiktok", "ad")
    assert len(ads) == 2 and {ad["operation_status"] for ad in ads} == {"DISABLE"}


def test_google_campaign_carries_start_date_time(sandbox, adapter_for, make_spec):
    adapter_for("google").publish(make_spec())

    (campaign,) = sandbox.state.all("google", "campaign")
    assert campaign["startDateTime"] == "2025-03-03 00:00:00" and "startDate" not in campaign


def test_meta_leads_without_a_pixel_publishes_as_traffic_and_with_one_as_leads(
    sandbox, adapter_for, make_spec
):
    leads = dataclasses.replace(make_spec("no-pixel"), objective="leads")
    adapter_for("meta").publish(leads)
    pixel = {"page_id": "1122334455", "report_poll_seconds": 0.01, "pixel_id": "998877"}
    adapter_for("meta", extra=pixel).publish(dataclasses.replace(make_spec("pixel"), objective="leads"))

    objectives = sorted(c["objective"] for c in sandbox.state.all("meta", "campaign"))
    goals = sorted({s["optimization_goal"] for s in sandbox.state.all("meta", "adset")})
    assert objectives == ["OUTCOME_LEADS", "OUTCOME_TRAFFIC"]
    assert goals == ["LINK_CLICKS", "OFFSITE_CONVERSIONS"]
