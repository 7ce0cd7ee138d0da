"""The OpenAPI document is written when first read, not at every app start, and only once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from adflux.extensions import api


def test_the_document_is_written_on_first_read_once_and_whole(app: Flask):
    # Building the app routed every blueprint but documented none of them yet.
    assert len(api._undocumented) >= 20
    assert app.url_map.bind("localhost").match("/api/v1/jobs", method="GET")
    assert not api._spec.to_dict().get("paths")
    client = app.test_client()
    with ThreadPoolExecutor(max_workers=4) as pool:  # several first readers at once
        answers = list(pool.map(lambda _: client.get("/api/v1/openapi.json"), range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.data for a in answers}) == 1  # documented once: every reader got the same
    document = answers[0].get_json()
    assert not api._undocumented
    assert "/api/v1/jobs" in document["paths"] and "/api/v1/segmentation/train" in document["paths"]
    tags = [t["name"] for t in document["tags"]]
    assert tags[:3] == ["jobs", "candidates", "tasks"] and len(tags) == len(set(tags))
