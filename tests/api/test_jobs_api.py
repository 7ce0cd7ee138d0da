"""The job openings API."""

from __future__ import annotations

from factories import job_data, make_job


def test_create_then_get_returns_the_job(client):
    created = client.post("/api/v1/jobs", json=job_data(title="Analista de datos"))
    assert created.status_code == 201
    body = created.get_json()
    assert body["title"] == "Analista de datos" and body["status"] == "open"
    fetched = client.get(f"/api/v1/jobs/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.get_json()["external_ref"] == body["external_ref"]


def test_list_filters_and_paginates_with_total(client, app_ctx):
    for i in range(5):
        make_job(city="Cali", department="Valle del Cauca", category="ventas", title=f"Asesor comercial {i}")
    make_job(city="Bogotá", category="tecnologia", title="Ingeniero de software")
    page = client.get("/api/v1/jobs?city=Cali&page=2&page_size=2").get_json()
    assert page["total"] == 5 and page["pages"] == 3 and page["page"] == 2
    assert len(page["items"]) == 2 and all(j["city"] == "Cali" for j in page["items"])
    search = client.get("/api/v1/jobs?q=software").get_json()
    assert [j["title"] for j in search["items"]] == ["Ingeniero de software"]
    by_category = client.get("/api/v1/jobs?category=tecnologia").get_json()
    assert by_category["total"] == 1


def test_text_search_treats_wildcards_literally(client, app_ctx):
    make_job(title="Auxiliar 100% remoto")
    make_job(title="Auxiliar contable")
    assert client.get("/api/v1/jobs?q=100%25").get_json()["total"] == 1
    assert client.get("/api/v1/jobs?q=_").get_json()["total"] == 0


def test_update_and_close(client, app_ctx):
    job = make_job()
    patched = client.patch(f"/api/v1/jobs/{job.id}", json={"salary_max": 12_000_000})
    assert patched.status_code == 200 and patched.get_json()["salary_max"] == 12_000_000
    closed = client.post(f"/api/v1/jobs/{job.id}/close")
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    again = client.post(f"/api/v1/jobs/{job.id}/close")
    assert again.status_code == 409 and again.get_json()["code"] == "invalid_transition"
    edit_closed = client.patch(f"/api/v1/jobs/{job.id}", json={"title": "Otro"})
    assert edit_closed.status_code == 409


def test_invalid_job_gets_422_with_per_field_messages(client):
    response = client.post("/api/v1/jobs", json=job_data(category="astronauta", salary_min=9, salary_max=1))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error"
    assert "category" in body["errors"]


def test_salary_range_is_checked_on_update(client, app_ctx):
    job = make_job(salary_min=2_000_000, salary_max=3_000_000)
    response = client.patch(f"/api/v1/jobs/{job.id}", json={"salary_min": 5_000_000})
    assert response.status_code == 422 and "salary_max" in response.get_json()["errors"]


def test_duplicate_external_ref_is_a_conflict(client):
    assert client.post("/api/v1/jobs", json=job_data(external_ref="X-1")).status_code == 201
    response = client.post("/api/v1/jobs", json=job_data(external_ref="X-1"))
    assert response.status_code == 409 and "X-1" in response.get_json()["message"]


def test_unknown_job_is_404_in_the_error_shape(client):
    response = client.get("/api/v1/jobs/999999")
    assert response.status_code == 404
    assert set(response.get_json()) == {"code", "message", "errors"}


def test_wrong_method_is_405_json(client):
    response = client.delete("/api/v1/jobs")
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"


def test_malformed_json_is_400_not_500(client):
    response = client.post("/api/v1/jobs", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["code"] in ("bad_request", "validation_error")


def test_bad_query_args_are_422(client):
    response = client.get("/api/v1/jobs?page=0&page_size=100000")
    assert response.status_code == 422
    assert {"page", "page_size"} <= set(response.get_json()["errors"])
