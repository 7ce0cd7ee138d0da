"""Campaigns end to end through the API: create, preview, publish (inline), manage."""

from __future__ import annotations

from adflux.extensions import db
from adflux.models import PlatformCampaign
from factories import make_job, make_segments


def _create(client, job_id, **overrides):
    body = {"job_id": job_id, "platforms": ["meta", "google"], "budget_total": 3_000_001}
    body.update(overrides)
    return client.post("/api/v1/campaigns", json=body)


def test_create_splits_the_budget_exactly_and_generates_creatives(client, app_ctx):
    job = make_job()
    segments = make_segments(2)
    response = _create(
        client,
        job.id,
        segment_ids=[s.id for s in segments],
        weights={"meta": 2, "google": 1},
        budget_daily=100_000,
    )
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert campaign["status"] == "draft"
    budgets = {p["platform"]: p["budget_total"] for p in campaign["platform_campaigns"]}
    assert budgets == {"meta": 2_000_001, "google": 1_000_000}
    assert sum(budgets.values()) == 3_000_001
    for pc in campaign["platform_campaigns"]:
        assert [g["segment_id"] for g in pc["ad_groups"]] == [s.id for s in segments]
        assert sum(g["budget_daily"] for g in pc["ad_groups"]) == pc["budget_daily"]


def test_preview_shows_creatives_platform_units_and_compliance(client, app_ctx):
    job = make_job()
    segments = make_segments(1)
    campaign = _create(client, job.id, segment_ids=[segments[0].id]).get_json()
    preview = client.get(f"/api/v1/campaigns/{campaign['id']}/preview").get_json()
    by_platform = {p["platform"]: p for p in preview["platforms"]}
    assert (
        by_platform["google"]["platform_budget"]["value"] == by_platform["google"]["budget_total"] * 1_000_000
    )
    assert by_platform["meta"]["platform_budget"]["value"] == by_platform["meta"]["budget_total"]
    meta_notes = by_platform["meta"]["ad_groups"][0]["compliance"]
    # The segment asked for ages 25–34: employment rules forbid narrowing age, and the report says so.
    assert any(n["criterion"].startswith("age") and n["action"] in ("dropped", "widened") for n in meta_notes)
    assert by_platform["meta"]["creatives"][0]["link_url"].count("utm_source=meta") == 1


def test_create_validates_input(client, app_ctx):
    job = make_job()
    assert _create(client, job.id, platforms=["myspace"]).status_code == 422
    assert _create(client, job.id, platforms=[]).status_code == 422
    assert _create(client, job.id, budget_total=5).status_code == 422
    assert _create(client, job.id, segment_ids=[999]).status_code == 422
    assert _create(client, job.id, start_date="2030-01-10", end_date="2030-01-01").status_code == 422
    assert _create(client, 424242).status_code == 404
    closed = make_job()
    client.post(f"/api/v1/jobs/{closed.id}/close")
    assert _create(client, closed.id).status_code == 409


def test_segments_of_a_retired_model_are_refused(client, app_ctx):
    job = make_job()
    old = make_segments(1, status="retired", version=1)
    make_segments(1, status="active", version=2)
    response = _create(client, job.id, segment_ids=[old[0].id])
    assert response.status_code == 422 and "activo" in response.get_json()["message"]


def test_publish_creates_one_tree_per_platform_and_goes_active(client, app_ctx, sandbox):
    job = make_job()
    segments = make_segments(2)
    campaign = _create(client, job.id, segment_ids=[s.id for s in segments]).get_json()
    accepted = client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    assert accepted.status_code == 202
    task = client.get(accepted.get_json()["status_url"]).get_json()
    assert task["status"] == "succeeded" and task["progress"] == 100.0
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active"
    for pc in detail["platform_campaigns"]:
        assert pc["status"] == "active" and pc["external_campaign_id"] and pc["attempts"] == 1
        assert all(g["external_id"] for g in pc["ad_groups"])
    assert sandbox.object_counts("meta").get("campaign") == 1
    assert sandbox.object_counts("meta").get("adset") == 2


def test_publishing_twice_is_refused_and_creates_nothing_more(client, app_ctx, sandbox):
    job = make_job()
    campaign = _create(client, job.id).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    again = client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_transition"
    assert sandbox.object_counts("meta").get("campaign") == 1


def test_a_lost_response_does_not_duplicate_the_campaign(client, app_ctx, sandbox):
    # The platform creates the campaign but the answer never arrives; the retry must find it.
    sandbox.set_faults("meta", drop_after_commit=1, drop_match="campaigns")
    job = make_job()
    campaign = _create(client, job.id, platforms=["meta"], budget_total=1_000_000).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active"
    assert sandbox.object_counts("meta").get("campaign") == 1


def test_one_platform_failing_does_not_hold_back_the_other_and_retry_fixes_it(client, app_ctx, sandbox):
    sandbox.expire_tokens("google")
    job = make_job()
    campaign = _create(client, job.id).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "partially_active"
    by_platform = {p["platform"]: p for p in detail["platform_campaigns"]}
    assert by_platform["meta"]["status"] == "active"
    assert by_platform["google"]["status"] == "failed" and by_platform["google"]["error_class"] == "auth"
    assert by_platform["google"]["last_error"]

    sandbox.state.expire_all["google"] = False
    retry = client.post(f"/api/v1/campaigns/{campaign['id']}/retry-failed")
    assert retry.status_code == 202
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "active"
    assert {p["platform"]: p["attempts"] for p in detail["platform_campaigns"]} == {"meta": 1, "google": 2}
    assert sandbox.object_counts("meta").get("campaign") == 1


def test_pause_resume_complete_archive(client, app_ctx, sandbox):
    job = make_job()
    campaign = _create(client, job.id).get_json()
    cid = campaign["id"]
    assert client.post(f"/api/v1/campaigns/{cid}/resume").status_code == 409
    client.post(f"/api/v1/campaigns/{cid}/publish")
    paused = client.post(f"/api/v1/campaigns/{cid}/pause").get_json()
    assert paused["status"] == "paused" and {p["status"] for p in paused["platform_campaigns"]} == {"paused"}
    assert client.post(f"/api/v1/campaigns/{cid}/pause").status_code == 409
    assert client.post(f"/api/v1/campaigns/{cid}/resume").get_json()["status"] == "active"
    assert client.post(f"/api/v1/campaigns/{cid}/complete").get_json()["status"] == "completed"
    archived = client.post(f"/api/v1/campaigns/{cid}/archive").get_json()
    assert archived["status"] == "archived"
    assert client.post(f"/api/v1/campaigns/{cid}/archive").status_code == 409
    assert {pc.status for pc in db.session.query(PlatformCampaign)} == {"archived"}


def test_list_filters_by_status(client, app_ctx, sandbox):
    job = make_job()
    first = _create(client, job.id).get_json()
    _create(client, job.id)
    client.post(f"/api/v1/campaigns/{first['id']}/publish")
    page = client.get("/api/v1/campaigns?status=draft").get_json()
    assert page["total"] == 1 and page["items"][0]["status"] == "draft"
    assert client.get("/api/v1/campaigns?status=bogus").status_code == 422


def test_list_items_are_the_campaigns_as_the_detail_shows_them(client, app_ctx):
    jobs = [make_job(), make_job()]
    segments = make_segments(3)
    ids = []
    for n, platforms in enumerate((["meta", "google", "tiktok"], ["x"], ["snapchat", "meta"])):
        created = _create(
            client,
            jobs[n % 2].id,
            platforms=platforms,
            segment_ids=[s.id for s in segments[: n + 1]],
            budget_daily=90_000,
        ).get_json()
        ids.append(created["id"])
    pc = db.session.query(PlatformCampaign).filter_by(campaign_id=ids[0], platform="google").one()
    pc.last_error, pc.external_ids = "cuota agotada", {"campaign": "customers/1/campaigns/9"}
    db.session.commit()

    page = client.get("/api/v1/campaigns").get_json()
    assert [c["id"] for c in page["items"]] == ids[::-1]  # newest first
    assert (page["total"], page["pages"]) == (3, 1)
    for item in page["items"]:
        detail = client.get(f"/api/v1/campaigns/{item['id']}").get_json()
        detail.pop("segment_ids")
        assert item == detail  # same values, same nesting, platform campaigns and ad groups by id
    first = page["items"][-1]
    assert [p["platform"] for p in first["platform_campaigns"]] == ["meta", "google", "tiktok"]
    assert all(len(p["ad_groups"]) == 1 for p in first["platform_campaigns"])
    assert first["platform_campaigns"][1]["last_error"] == "cuota agotada"

    by_job = client.get(f"/api/v1/campaigns?job_id={jobs[1].id}").get_json()
    assert [c["id"] for c in by_job["items"]] == [ids[1]]
    second_page = client.get("/api/v1/campaigns?page=2&page_size=2").get_json()
    assert ([c["id"] for c in second_page["items"]], second_page["total"]) == ([ids[0]], 3)
    past_end = client.get("/api/v1/campaigns?page=5&page_size=2").get_json()
    assert (past_end["items"], past_end["total"]) == ([], 3)


def test_every_page_of_the_list_reads_its_children_with_the_same_statements(client, app_ctx):
    """On PostgreSQL the page's ids travel as one array: one statement text, prepared once."""
    from sqlalchemy import event

    job = make_job()
    for platforms in (["meta"], ["meta", "google"], ["x", "tiktok", "snapchat"]):
        assert _create(client, job.id, platforms=platforms).status_code == 201
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().startswith("SELECT") and (
            "ad_groups" in statement or "platform_campaigns" in statement
        ):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        counts = []
        for page_size in (1, 2, 3):
            page = client.get(f"/api/v1/campaigns?page_size={page_size}").get_json()
            counts.append(sum(len(c["platform_campaigns"]) for c in page["items"]))
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert counts == [3, 5, 6]  # newest first: x/tiktok/snapchat, then meta/google, then meta
    if db.engine.dialect.name == "postgresql":
        # The platform campaigns with their ad groups (a JSON array each): one statement a page.
        assert len(seen) == 3
        assert len(set(seen)) == 1, "statement text varies with the number of ids"
        assert all("= ANY (" in statement for statement in seen)
    else:
        assert len(seen) == 6  # platform campaigns and ad groups, for each of the three pages
        assert len(set(seen)) > 2  # SQLite keeps the expanding IN: one text per number of ids
