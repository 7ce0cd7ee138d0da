"""The audit trail in the API: who changed what and when, filterable, admins only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories import job_data


def test_changes_are_listed_newest_first_with_who_and_before_after(client):
    job = client.post("/api/v1/jobs", json=job_data(title="Auxiliar contable")).get_json()
    client.patch(f"/api/v1/jobs/{job['id']}", json={"title": "Auxiliar contable senior"})
    me = client.get("/api/v1/me").get_json()

    page = client.get("/api/v1/audit-events", query_string={"entity_type": "job"}).get_json()
    assert page["total"] == 2
    update, create = page["items"]
    assert (update["action"], create["action"]) == ("job.update", "job.create")
    assert update["actor"] == me["email"] and update["actor_id"] == me["id"]
    assert (
        update["before"]["title"] == "Auxiliar contable"
        and update["after"]["title"] == "Auxiliar contable senior"
    )
    assert update["entity_id"] == str(job["id"]) and update["request_id"]


def test_filters_by_entity_actor_action_prefix_and_time(client, client_as):
    client.post("/api/v1/users", json={"email": "ana@portal.co", "role": "viewer"})
    manager = client_as("manager")
    job = manager.post("/api/v1/jobs", json=job_data()).get_json()
    manager.post(f"/api/v1/jobs/{job['id']}/close")
    manager_email = manager.get("/api/v1/me").get_json()["email"]

    def actions(**query):
        return [
            e["action"] for e in client.get("/api/v1/audit-events", query_string=query).get_json()["items"]
        ]

    assert actions(actor=manager_email) == ["job.close", "job.create"]
    assert actions(action="user.*") == ["user.create"]
    assert actions(action="job.close") == ["job.close"]
    assert actions(entity_type="job", entity_id=str(job["id"])) == ["job.close", "job.create"]
    assert actions(action="job_*") == []  # the prefix is literal: _ is not a wildcard
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert actions(since=later) == []
    assert len(actions(until=later.replace("+00:00", ""))) == 3  # zone-less times are UTC


def test_pagination_has_a_total(client):
    for n in range(5):
        client.post("/api/v1/jobs", json=job_data(title=f"Cargo número {n}"))
    page = client.get("/api/v1/audit-events", query_string={"page": 2, "page_size": 2}).get_json()
    assert page["total"] == 5 and page["pages"] == 3 and len(page["items"]) == 2


def test_only_admins_read_the_audit_trail(client_as):
    assert client_as("manager").get("/api/v1/audit-events").status_code == 403
