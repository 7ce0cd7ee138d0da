"""Operations: logging, request ids, Prometheus metrics, health checks and alerts."""

from __future__ import annotations

from flask import Flask

from adflux.monitoring import logs, prometheus


def init_app(app: Flask) -> None:
    """Set up logging, per-request context and metrics."""
    logs.init_app(app)
    prometheus.init_app(app)
