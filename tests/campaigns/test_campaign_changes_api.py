"""PATCH /campaigns/<id> and `adflux update-campaign`: the faces of in-place campaign changes."""

from __future__ import annotations

from datetime import timedelta

from adflux.services.local_dates import today
from factories import make_job


def _published(client, platforms):
    body = {"job_id": make_job().id, "platforms": platforms, "budget_total": 3_000_000}
    campaign = client.post("/api/v1/campaigns", json=body).get_json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/publish").status_code == 202
    return campaign["id"]


def test_patch_changes_the_campaign_and_shows_each_platforms_update_state(client, app_ctx, sandbox):
    campaign_id = _published(client, ["meta", "google"])
    end = (today() + timedelta(days=10)).isoformat()
    answer = client.patch(
        f"/api/v1/campaigns/{campaign_id}", json={"budget_total": 4_000_000, "end_date": end}
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["unchanged"] is False and set(body["queued"]) == {"meta", "google"}
    detail = client.get(f"/api/v1/campaigns/{campaign_id}").get_json()
    assert detail["budget_total"] == 4_000_000 and detail["end_date"] == end
    assert {pc["update_status"] for pc in detail["platform_campaigns"]} == {"applied"}
    again = client.patch(
        f"/api/v1/campaigns/{campaign_id}", json={"budget_total": 4_000_000, "end_date": end}
    )
    assert again.get_json()["unchanged"] is True and again.get_json()["queued"] == {}
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "patch" in spec["paths"]["/api/v1/campaigns/{campaign_id}"]


def test_patch_bad_input_is_a_4xx_json_error_and_changes_nothing(client, app_ctx, sandbox):
    campaign_id = _published(client, ["meta"])
    cases = [
        ({}, 422),
        ({"budget_total": -5}, 422),
        ({"budget": 1}, 422),
        ({"end_date": (today() - timedelta(days=1)).isoformat()}, 422),
        ({"platform_weights": {"google": 1}}, 422),
        ({"budget_daily": 9_000_000}, 422),
    ]
    for body, status in cases:
        answer = client.patch(f"/api/v1/campaigns/{campaign_id}", json=body)
        assert answer.status_code == status, (body, answer.get_json())
        assert answer.get_json()["code"] and answer.get_json()["message"]
    assert client.patch("/api/v1/campaigns/999999", json={"budget_total": 10**6}).status_code == 404
    detail = client.get(f"/api/v1/campaigns/{campaign_id}").get_json()
    assert detail["budget_total"] == 3_000_000
    assert detail["platform_campaigns"][0]["update_status"] is None


def test_cli_update_campaign_speaks_spanish_and_fails_loudly_on_a_refusing_platform(
    client, app_ctx, sandbox, cli
):
    campaign_id = _published(client, ["meta", "tiktok"])
    done = cli("update-campaign", str(campaign_id), "--budget", "5000000", "--weights", "meta=2,tiktok=1")
    assert done.exit_code == 0, done.output
    assert "actualización enviada a: meta, tiktok" in done.output and "aplicada" in done.output
    sandbox.expire_tokens("tiktok")
    partial = cli("update-campaign", str(campaign_id), "--daily-budget", "90000")
    assert partial.exit_code != 0 and "fallida" in partial.output and "falló en: tiktok" in partial.output
    bad = cli("update-campaign", str(campaign_id), "--end-date", "2001-01-01")
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    nothing = cli("update-campaign", str(campaign_id))
    assert nothing.exit_code != 0 and "Indique al menos un cambio" in nothing.output
