"""Segments smaller than a platform's minimum custom audience are flagged and not offered there:
in the API's segment list, on campaign creation (API and CLI, with the reason in Spanish), in the
playbooks' "best k segments" and on a model trained on a skewed base."""

from __future__ import annotations

import json

from adflux.constants import MIN_CUSTOM_AUDIENCE
from adflux.extensions import db
from adflux.models import Segment
from adflux.services.playbooks.planning import best_segments
from factories import make_job, make_segments


def _sized(*sizes: int) -> list[Segment]:
    segments = make_segments(len(sizes))
    for segment, size in zip(segments, sizes, strict=True):
        segment.size = size
    db.session.commit()
    return segments


def _create(client, job_id: int, platforms: list[str], segment_ids: list[int]):  # type: ignore[no-untyped-def]
    body = {"job_id": job_id, "platforms": platforms, "budget_total": 3_000_000, "segment_ids": segment_ids}
    return client.post("/api/v1/campaigns", json=body)


def test_the_minimums_are_the_platforms_documented_ones() -> None:
    assert MIN_CUSTOM_AUDIENCE == {"meta": 100, "google": 100, "x": 100, "tiktok": 1000, "snapchat": 1000}


def test_the_segment_list_names_the_platforms_a_small_segment_is_not_offered_on(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    tiny, small, large = _sized(80, 640, 5_000)
    items = {s["id"]: s for s in client.get("/api/v1/segments").get_json()["items"]}
    assert items[large.id]["unavailable_platforms"] == []
    flagged = items[small.id]["unavailable_platforms"]
    assert [(u["platform"], u["minimum"]) for u in flagged] == [("tiktok", 1000), ("snapchat", 1000)]
    assert flagged[0]["reason"] == (
        "640 candidatos; TikTok exige al menos 1.000 personas en una audiencia personalizada"
    )
    assert [u["platform"] for u in items[tiny.id]["unavailable_platforms"]] == [
        "meta",
        "google",
        "x",
        "tiktok",
        "snapchat",
    ]
    detail = client.get(f"/api/v1/segments/{small.id}").get_json()
    assert [u["platform"] for u in detail["segment"]["unavailable_platforms"]] == ["tiktok", "snapchat"]


def test_a_campaign_refuses_a_segment_below_a_chosen_platforms_minimum_in_spanish(client, app_ctx) -> None:  # type: ignore[no-untyped-def]
    job = make_job()
    small, large = _sized(640, 5_000)
    refused = _create(client, job.id, ["meta", "tiktok", "snapchat"], [small.id, large.id])
    assert refused.status_code == 422
    body = refused.get_json()
    expected = f"El segmento «{small.name}» (#{small.id}) no está disponible en TikTok"
    assert body["message"].startswith(expected)
    assert "Snapchat exige al menos 1.000 personas" in body["message"]
    assert len(body["errors"]["segment_ids"]) == 2  # one reason per platform, none for the large one
    # The same segment is fine where its size is enough, and the large one everywhere.
    assert _create(client, job.id, ["meta", "google", "x"], [small.id]).status_code == 201
    assert _create(client, job.id, ["tiktok", "snapchat"], [large.id]).status_code == 201


def test_the_cli_flags_small_segments_and_refuses_them_in_one_line(cli, app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        job_id = make_job().id
        small, _large = (s.id for s in _sized(640, 5_000))
    listed = cli("view-segments")
    assert listed.exit_code == 0, listed.output
    assert "No disponible en" in listed.output and "TikTok, Snapchat" in listed.output
    assert "mínimos: TikTok 1.000, Snapchat 1.000 personas" in listed.output
    refused = cli(
        "create-campaign",
        "--job-id",
        str(job_id),
        "--platforms",
        "google,tiktok",
        "--segment-ids",
        str(small),
        "--budget",
        "2000000",
    )
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "no está disponible en TikTok" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    flagged = json.loads(cli("--json", "view-segments").output)["items"]
    assert any(u["platform"] == "snapchat" for s in flagged for u in s["unavailable_platforms"])


def test_a_playbooks_best_segments_skip_those_too_small_for_its_platforms(app_ctx) -> None:  # type: ignore[no-untyped-def]
    small, large = _sized(640, 5_000)
    # With no results yet the largest come first; a TikTok playbook never gets the small one.
    assert best_segments("tecnologia", 2, platforms=["meta"]) == [large.id, small.id]
    assert best_segments("tecnologia", 2, platforms=["meta", "tiktok"]) == [large.id]
