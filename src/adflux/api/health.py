"""Health: `/healthz` and `/readyz` for probes, `/api/v1/status` for people and the CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.monitoring import ops_access
from adflux.schemas.health import StatusArgsSchema, StatusSchema
from adflux.services import health as health_service
from adflux.settings import current_settings

URL_PREFIX = "/status"
blp = Blueprint("status", __name__, description="Service health at a glance")


@blp.route("")
class Status(MethodView):
    @requires("viewer")
    @blp.arguments(StatusArgsSchema(), location="query")
    @blp.response(200, StatusSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Every dependency's health, workers, queues, the active model, open alerts, last backup."""
        return health_service.status_summary(**args)


def healthz() -> Response:
    """Alive: the process answers. Checks nothing else, so a slow database cannot get it killed."""
    response = jsonify(health_service.liveness())
    response.headers["Cache-Control"] = "no-store"
    return response


def readyz() -> Response:
    """Ready: the database and broker answer (200), or not (503), with each check's latency.

    Anonymous callers (probes) get statuses and latencies only; details are in /api/v1/status.
    With ADFLUX_READYZ_TOKEN or ADFLUX_OPS_ALLOWED_ADDRESSES set, only those callers get an answer.
    """
    settings = current_settings()
    refused = ops_access.refusal(settings, settings.readyz_token)
    if refused is not None:
        return refused
    report = health_service.readiness()
    body = {
        "status": report.status,
        "ready": report.ready,
        "version": report.version,
        "checks": [
            {"name": c.name, "status": c.status, "critical": c.critical, "latency_ms": c.latency_ms}
            for c in report.checks
        ],
    }
    response = jsonify(body)
    response.status_code = 200 if report.ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def init_probes(app: Flask) -> None:
    """Register the probe endpoints outside /api (no token: load balancers do not have one)."""
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "readyz", readyz, methods=["GET"])
