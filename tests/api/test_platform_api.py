"""What every client relies on: OpenAPI, Swagger UI served locally, the error shape."""

from __future__ import annotations


def test_openapi_document_lists_the_endpoints_and_security_scheme(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/candidates", "/api/v1/jobs/import"} <= set(
        spec["paths"]
    )
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_swagger_ui_and_its_assets_are_served_without_a_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
    asset.close()


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["code"] == "not_found"


def test_unexpected_errors_are_500_without_a_traceback(app, client, monkeypatch):
    from adflux.services import jobs

    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(jobs, "list_jobs", boom)
    response = client.get("/api/v1/jobs")
    assert response.status_code == 500
    body = response.get_json()
    assert body == {"code": "internal_error", "message": "Error interno del servidor", "errors": {}}
    assert "secret internals" not in response.get_data(as_text=True)


def test_request_id_is_echoed(client):
    response = client.get("/api/v1/jobs", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
