"""The REST API under /api/v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Flask, Response, send_from_directory, url_for
from markupsafe import escape

from adflux.api import (
    accounts,
    alerts,
    allocation,
    audit,
    auth,
    cached_list_hits,
    campaigns,
    candidates,
    feeds,
    health,
    input_guards,
    jobs,
    jobs_fast_path,
    playbooks,
    reports,
    response_cache,
    rules,
    segments,
    tasks,
    tokens,
    tracking,
    users,
)
from adflux.api.converters import DatabaseIntConverter
from adflux.api.errors import register_error_handlers
from adflux.extensions import api as smorest_api
from adflux.settings import current_settings

SWAGGER_ASSETS = Path(flask_swagger_ui.__file__).resolve().parent / "dist"


def init_app(app: Flask) -> None:
    """Register every API blueprint, the error handlers and the local Swagger UI assets."""

    # Before any rule is added: ids past what the database holds are 404s, not database errors.
    app.url_map.converters["int"] = DatabaseIntConverter
    smorest_api.init_app(app)
    smorest_api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "An AdFlux API token"}
    )
    for module in (jobs, candidates, tasks, campaigns, users, tokens, reports, accounts, audit, segments):
        smorest_api.register_blueprint(module.blp, url_prefix=f"/api/v1{module.URL_PREFIX}")
    smorest_api.register_blueprint(health.blp, url_prefix=f"/api/v1{health.URL_PREFIX}")
    smorest_api.register_blueprint(alerts.blp, url_prefix=f"/api/v1{alerts.URL_PREFIX}")
    smorest_api.register_blueprint(feeds.blp, url_prefix=f"/api/v1{feeds.URL_PREFIX}")
    smorest_api.register_blueprint(playbooks.blp, url_prefix=f"/api/v1{playbooks.URL_PREFIX}")
    smorest_api.register_blueprint(playbooks.approvals_blp, url_prefix="/api/v1/approvals")
    smorest_api.register_blueprint(rules.blp, url_prefix=f"/api/v1{rules.URL_PREFIX}")
    smorest_api.register_blueprint(rules.pacing_blp, url_prefix="/api/v1/pacing")
    smorest_api.register_blueprint(allocation.blp, url_prefix=f"/api/v1{allocation.URL_PREFIX}")
    smorest_api.register_blueprint(allocation.forecast_blp, url_prefix="/api/v1/forecasts")
    smorest_api.register_blueprint(tracking.blp, url_prefix=f"/api/v1{tracking.URL_PREFIX}")
    tracking.init_redirect(app)  # /r/<code>, outside /api: public, no token
    health.init_probes(app)  # /healthz and /readyz, outside /api: probes carry no token
    register_error_handlers(app)
    auth.init_app(app)  # default deny: every /api/ request is authenticated and authorised
    input_guards.init_app(app)  # input no field can hold (NUL characters) is a 422, not a 500
    response_cache.init_app(app, current_settings(app).response_cache_entries)
    # In plain WSGI before Flask when they can (api/fast_path): GET /api/v1/jobs, and the cache
    # hits of the campaign, candidate and report lists.
    jobs_fast_path.install(app)
    cached_list_hits.install(app)

    # flask-smorest's page starts Swagger UI with an inline script, which the Content-Security-Policy
    # forbids: the same page with its start-up in a file (web/static/js/swagger-init.js).
    app.view_functions["api-docs.openapi_swagger_ui"] = swagger_ui_page

    @app.get("/api/v1/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Response:
        return send_from_directory(SWAGGER_ASSETS, filename, max_age=86400)


SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link href="/api/v1/docs/assets/swagger-ui.css" rel="stylesheet" type="text/css">
</head>
<body>
  <div id="swagger-ui-container" data-spec-url="{spec_url}"></div>
  <script src="/api/v1/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
  <script src="{init_url}"></script>
</body>
</html>
"""


def swagger_ui_page() -> Response:
    """Swagger UI for /api/v1/openapi.json, without inline script."""
    page = SWAGGER_PAGE.format(
        title=escape("AdFlux API"),
        spec_url=escape(url_for("api-docs.openapi_json")),
        init_url=escape(url_for("web.static", filename="js/swagger-init.js")),
    )
    return Response(page, mimetype="text/html")
