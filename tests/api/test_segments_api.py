"""/api/v1/segments and /api/v1/segmentation: train in the background, read, roll back, drift."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adflux.services.seeding import seed_database

N_CANDIDATES = 1200


@pytest.fixture
def seeded(app: Flask) -> None:
    with app.app_context():
        seed_database(candidates=N_CANDIDATES, jobs=0, seed=5)


def _train(client: FlaskClient, **body: object) -> dict:
    response = client.post("/api/v1/segmentation/train", json={"k_min": 7, "k_max": 9, **body})
    assert response.status_code == 202, response.json
    task = response.json
    run = client.get(task["status_url"]).json  # the embedded default runs the task inline
    assert run["status"] == "succeeded", run
    return run


def test_training_answers_202_with_a_task_whose_progress_reaches_100(
    client: FlaskClient, seeded: None
) -> None:
    run = _train(client)
    assert run["kind"] == "segmentation.train"
    assert run["progress"] == 100.0 and run["stage"] == "done"
    assert run["result"]["version"] == 1 and run["result"]["status"] == "active"
    assert run["params"] == {"k_min": 7, "k_max": 9, "force": False, "seed": 0}


def test_segments_models_members_and_a_candidates_segment(client: FlaskClient, seeded: None) -> None:
    _train(client)
    segments = client.get("/api/v1/segments").json
    assert segments["total"] == 8
    sizes = [s["size"] for s in segments["items"]]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == N_CANDIDATES
    first = segments["items"][0]
    assert first["model_version"] == 1 and " · " in first["name"] and first["profile"]["top_cities"]

    detail = client.get(f"/api/v1/segments/{first['id']}?page_size=5").json
    assert detail["segment"]["id"] == first["id"]
    assert detail["members"]["total"] == first["size"] and len(detail["members"]["items"]) == 5
    assert "email" not in detail["members"]["items"][0]

    member = detail["members"]["items"][0]["id"]
    mine = client.get(f"/api/v1/candidates/{member}/segment").json
    assert mine == {"candidate_id": member, "model_version": 1, "segment": first}

    models = client.get("/api/v1/segmentation/models").json
    assert models["total"] == 1
    model = models["items"][0]
    assert model["status"] == "active" and model["k"] == 8
    assert [row["k"] for row in model["metrics"]["k_search"]] == [7, 8, 9]
    assert "points" not in model["metrics"]["pca"]  # the PCA sample has its own endpoint
    assert model["persona_ari"] >= 0.9

    pca = client.get("/api/v1/segmentation/models/1/pca").json
    assert len(pca["centroids"]) == 8 and len(pca["points"]) == N_CANDIDATES
    assert len(pca["explained_variance_ratio"]) == 2


def test_rollback_through_the_api(client: FlaskClient, seeded: None) -> None:
    _train(client)
    _train(client, k_min=3, k_max=3, force=True)
    assert client.post("/api/v1/segmentation/models/2/activate").status_code == 409
    response = client.post("/api/v1/segmentation/models/1/activate")
    assert response.status_code == 200 and response.json["status"] == "active"
    assert client.get("/api/v1/segments").json["total"] == 8
    assert client.get("/api/v1/segments?version=2").json["total"] == 3
    missing = client.post("/api/v1/segmentation/models/42/activate")
    assert missing.status_code == 404 and set(missing.json) == {"code", "message", "errors"}


def test_drift_endpoint(client: FlaskClient, seeded: None) -> None:
    _train(client)
    report = client.get("/api/v1/segmentation/drift?refresh=true").json
    assert report["model_version"] == 1 and report["status"] == "stable"
    assert report["features"]["age"]["psi"] < 0.1
    assert client.get("/api/v1/segmentation/drift").json["computed_at"] == report["computed_at"]


def test_roles_validation_and_empty_state(client_as: Callable[..., FlaskClient], app: Flask) -> None:
    viewer = client_as("viewer")
    assert viewer.post("/api/v1/segmentation/train", json={}).status_code == 403
    assert viewer.get("/api/v1/segmentation/models").json["total"] == 0
    none = viewer.get("/api/v1/segments")
    assert none.status_code == 404 and none.json["code"] == "not_found"
    manager = client_as("manager")
    bad = manager.post("/api/v1/segmentation/train", json={"k_min": 6, "k_max": 3})
    assert bad.status_code == 422 and "k_min" in bad.json["errors"]
    too_few = manager.post("/api/v1/segmentation/train", json={})
    assert too_few.status_code == 202
    run = manager.get(too_few.json["status_url"]).json
    assert run["status"] == "failed" and "candidatos" in run["error"]
