"""Deeply nested or oversized JSON is refused in the API's error shape before anything parses it."""

from __future__ import annotations

import json

import pytest

from adflux.api.input_guards import json_depth


@pytest.mark.parametrize("role,path", [("viewer", "/api/v1/tokens"), ("manager", "/api/v1/jobs")])
def test_5000_levels_of_nested_json_is_a_400_not_a_500(client_as, role, path):
    body = "[" * 5000 + "]" * 5000
    response = client_as(role).post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "bad_request" and "deeper than 64" in response.get_json()["message"]


def test_nesting_inside_strings_does_not_count(client_as):
    job = {
        "title": "[[[[[[[[[[" * 20,
        "company": "Acme",
        "city": "Bogotá",
        "department": "Cundinamarca",
        "description": "{" * 500,
        "category": "tecnologia",
    }
    response = client_as("manager").post("/api/v1/jobs", json=job)
    assert response.status_code != 400 or "deeper" not in response.get_json()["message"]


def test_a_body_over_the_json_size_limit_is_a_413_in_the_error_shape(client_as):
    body = json.dumps({"title": "x" * (1024 * 1024 + 10)})
    response = client_as("manager").post("/api/v1/jobs", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["code"] == "payload_too_large"


def test_depth_is_measured_outside_strings_and_escapes():
    assert json_depth(b'{"a": "[[[[[[[[", "b": [1]}', 5) <= 5
    assert json_depth(b'["\\\\", [[[]]]]', 3) == 4
    assert json_depth(json.dumps({"a": [1, {"b": [2]}]}).encode(), 3) == 4
