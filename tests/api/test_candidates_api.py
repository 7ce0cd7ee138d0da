"""The candidates API."""

from __future__ import annotations

from factories import candidate_data, make_candidate


def test_create_candidate_never_returns_the_email(client):
    response = client.post("/api/v1/candidates", json=candidate_data(email="ana@example.com"))
    assert response.status_code == 201
    body = response.get_json()
    assert "email" not in body
    assert "ana@example.com" not in client.get(f"/api/v1/candidates/{body['id']}").get_data(as_text=True)


def test_list_filters_by_city_education_and_category(client, app_ctx):
    make_candidate(city="Cali", department="Valle del Cauca", education_level="tecnico")
    make_candidate(city="Cali", department="Valle del Cauca", education_level="profesional")
    make_candidate(city="Bogotá", department="Bogotá D.C.", desired_category="salud")
    assert client.get("/api/v1/candidates?city=Cali").get_json()["total"] == 2
    assert client.get("/api/v1/candidates?city=Cali&education_level=tecnico").get_json()["total"] == 1
    assert client.get("/api/v1/candidates?desired_category=salud").get_json()["total"] == 1


def test_unknown_segment_filter_is_404(client):
    response = client.get("/api/v1/candidates?segment_id=12345")
    assert response.status_code == 404


def test_invalid_candidate_is_rejected_with_field_errors(client):
    response = client.post(
        "/api/v1/candidates", json=candidate_data(education_level="kinder", birth_year=1800, email="nope")
    )
    assert response.status_code == 422
    assert {"education_level", "birth_year", "email"} <= set(response.get_json()["errors"])


def test_unknown_fields_are_rejected(client):
    response = client.post("/api/v1/candidates", json=candidate_data(gender="f"))
    assert response.status_code == 422 and "gender" in response.get_json()["errors"]
