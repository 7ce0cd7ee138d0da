"""The API faces of automation: feeds (register, run now, runs), playbooks (save, dry run,
enable) and approvals, with their roles and their errors."""

from __future__ import annotations

from feed_helpers import feed_jobs, publish_feed


def test_a_manager_registers_a_feed_runs_it_and_reads_the_run(client_as, portal, sandbox):
    manager, viewer = client_as("manager"), client_as("viewer")
    publish_feed(portal, feed_jobs(8))
    body = {"name": "Portal", "location": portal.url, "interval_minutes": 15}
    assert viewer.post("/api/v1/feeds", json=body).status_code == 403
    created = manager.post("/api/v1/feeds", json=body)
    assert created.status_code == 201 and created.get_json()["format"] == "xml"  # guessed from the name
    feed_id = created.get_json()["id"]
    assert manager.post("/api/v1/feeds", json=body).status_code == 409

    ran = manager.post(f"/api/v1/feeds/{feed_id}/run")
    assert ran.status_code == 202
    run = viewer.get(ran.headers["Location"]).get_json()
    assert (run["status"], run["new"], run["trigger"]) == ("succeeded", 8, "manual")
    runs = viewer.get(f"/api/v1/feeds/runs?feed_id={feed_id}").get_json()
    assert runs["total"] == 1 and runs["items"][0]["id"] == run["id"]
    jobs = viewer.get("/api/v1/jobs?status=open").get_json()
    assert jobs["total"] == 8 and all(j["feed_id"] == feed_id for j in jobs["items"])


def test_bad_feeds_and_playbooks_are_clear_4xx(client):
    bad = client.post(
        "/api/v1/feeds", json={"name": "X y", "location": "gopher://x", "mapping": {"cargo": "c"}}
    )
    assert bad.status_code == 422 and "location" in bad.get_json()["errors"]
    unknown = client.post(
        "/api/v1/playbooks",
        json={
            "name": "Mal",
            "platforms": ["meta"],
            "budget_total": 500_000,
            "conditions": {"ciudad": ["Cali"]},
        },
    )
    assert unknown.status_code == 422 and "ciudad" in unknown.get_json()["errors"]["conditions"][0]
    formula = client.post(
        "/api/v1/playbooks", json={"name": "Mal", "platforms": ["meta"], "budget_formula": "salario*2"}
    )
    assert formula.status_code == 422 and "unknown name 'salario'" in formula.get_json()["message"]
    assert client.get("/api/v1/feeds/999").status_code == 404
    assert client.post("/api/v1/approvals/999/approve").status_code == 404


def test_playbooks_dry_run_enable_and_approvals_over_the_api(client_as, portal, sandbox):
    manager, viewer = client_as("manager"), client_as("viewer")
    jobs = feed_jobs(10)
    publish_feed(portal, jobs)
    playbook = manager.post(
        "/api/v1/playbooks",
        json={
            "name": "Todo",
            "platforms": ["meta"],
            "budget_total": 400_000,
            "requires_approval": True,
            "enabled": False,
        },
    ).get_json()
    dry = viewer.get(f"/api/v1/playbooks/dry-run?playbook_id={playbook['id']}").get_json()
    assert dry["playbooks"][0]["openings"] == 0  # disabled
    feed = manager.post("/api/v1/feeds", json={"name": "Portal", "location": portal.url}).get_json()
    manager.post(f"/api/v1/feeds/{feed['id']}/run")
    assert viewer.get("/api/v1/approvals").get_json()["total"] == 0
    assert viewer.patch(f"/api/v1/playbooks/{playbook['id']}", json={"enabled": True}).status_code == 403
    assert manager.patch(f"/api/v1/playbooks/{playbook['id']}", json={"enabled": True}).status_code == 200
    dry = viewer.get("/api/v1/playbooks/dry-run").get_json()
    assert dry["playbooks"][0]["openings"] == 10 and dry["playbooks"][0]["budget_total"] == 4_000_000

    # A new opening in the feed: the playbook makes a campaign that waits for approval.
    publish_feed(portal, [*jobs, feed_jobs(11)[10]])
    manager.post(f"/api/v1/feeds/{feed['id']}/run")
    pending = viewer.get("/api/v1/approvals").get_json()
    assert pending["total"] == 1 and pending["items"][0]["approval_status"] == "pending"
    campaign_id = pending["items"][0]["id"]
    assert manager.post(f"/api/v1/approvals/{campaign_id}/reject", json={"reason": ""}).status_code == 422
    assert viewer.post(f"/api/v1/approvals/{campaign_id}/approve").status_code == 403
    approved = manager.post(f"/api/v1/approvals/{campaign_id}/approve")
    assert approved.status_code == 202
    assert viewer.get(f"/api/v1/campaigns/{campaign_id}").get_json()["status"] == "active"
    assert manager.post(f"/api/v1/approvals/{campaign_id}/approve").status_code == 409


def test_closing_a_job_by_hand_pauses_its_campaigns_on_every_platform(client, app_ctx, sandbox):
    from factories import make_job

    job = make_job()
    campaign = client.post(
        "/api/v1/campaigns", json={"job_id": job.id, "platforms": ["meta", "x"], "budget_total": 2_000_000}
    ).get_json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/publish")
    assert client.post(f"/api/v1/jobs/{job.id}/close").status_code == 200
    detail = client.get(f"/api/v1/campaigns/{campaign['id']}").get_json()
    assert detail["status"] == "paused" and detail["automation_hold"] == "job_closed"
    assert {pc["status"] for pc in detail["platform_campaigns"]} == {"paused"}
    assert client.get(f"/api/v1/jobs/{job.id}").get_json()["close_reason"] == "manual"
