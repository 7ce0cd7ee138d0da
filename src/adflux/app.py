"""The application factory: a readable list of init_app calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from types import FunctionType
from typing import Any

from flask import Flask
from sqlalchemy.exc import OperationalError as DatabaseUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from adflux import (
    __version__,
    api,
    cookie_sessions,
    extensions,
    json_answers,
    monitoring,
    pool,
    security_headers,
    tasks,
    web,
)
from adflux.settings import EXTENSION_KEY, Settings

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the AdFlux Flask app from `settings` (default: read from the environment)."""
    settings = settings or Settings.from_env()
    settings.validate()
    if not settings.database_url:
        # The embedded default keeps its SQLite file under the instance folder.
        Path(settings.instance_path).mkdir(parents=True, exist_ok=True)

    app = AdFluxFlask("adflux", instance_path=str(Path(settings.instance_path).resolve()))
    app.config.from_mapping(_flask_config(settings))
    json_answers.init_app(app)  # orjson: the same text as Flask's encoder, a fraction of the CPU
    cookie_sessions.init_app(app)  # no session serializer built for requests without the cookie
    app.extensions[EXTENSION_KEY] = settings
    monitoring.init_app(app)
    security_headers.init_app(app)
    extensions.db.init_app(app)
    _end_sessions_quietly(app)
    _check_connections(app, settings)
    extensions.migrate.init_app(
        app, extensions.db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    api.init_app(app)
    tasks.init_app(app)
    web.init_app(app)
    if not settings.platform_base_url:
        # The embedded default: adapters talk to a sandbox in this process. Imported here, not at
        # the top, so that an installation with platforms configured never loads the emulator.
        from adflux import embedded

        embedded.init_app(app)
    if settings.proxy_hops:
        # The client's address from X-Forwarded-For, as appended by our own proxies only (outermost,
        # so the tracking redirect's WSGI fast path sees the client's address too).
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class AdFluxFlask(Flask):
    """Flask, with each hook's "is it a coroutine?" answered once instead of on every request.

    Flask asks `ensure_sync` for every before/after/teardown hook and view it calls, ~20 times an
    API request, and each answer inspects the function's code flags (~7 % of a trivial API
    request's CPU in cProfile). A plain function's answer never changes, so it is kept; anything
    else (bound methods, made anew per request) is asked as before; the first 2,000 functions are
    kept (AdFlux has a few dozen hooks and views, and no async ones).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        known = self._sync_functions.get(func)
        if known is None:
            known = super().ensure_sync(func)
            # Bounded: a function made per request (after_this_request, say) is not kept forever.
            if len(self._sync_functions) < SYNC_FUNCTIONS_KEPT:
                self._sync_functions[func] = known
        return known


SYNC_FUNCTIONS_KEPT = 2_000


def _end_sessions_quietly(app: Flask) -> None:
    """End each request's database session even when its connection died under it.

    Flask-SQLAlchemy's own teardown rolls the session back; on a connection the server has just
    terminated (a PostgreSQL restart) that rollback raises, after the answer (a 503) was decided,
    and nothing could handle it. Registered after Flask-SQLAlchemy, so it runs first (teardowns
    run in reverse order) and leaves nothing for the other to roll back.
    """

    @app.teardown_appcontext
    def end_session(exc: BaseException | None) -> None:
        try:
            extensions.db.session.remove()
        except DatabaseUnavailable as error:
            logger.warning("database session ended on a dead connection: %s", str(error).splitlines()[0])
            extensions.db.session.registry.clear()


def _check_connections(app: Flask, settings: Settings) -> None:
    if pool.checks_sockets(settings.database_uri):
        with app.app_context():
            pool.install_liveness_check(extensions.db.engine)  # created by init_app; nothing connects yet


def _flask_config(settings: Settings) -> dict[str, object]:
    is_sqlite = settings.database_uri.startswith("sqlite")
    # psycopg (PostgreSQL): a socket check on checkout (adflux.pool) instead of a SELECT 1 round
    # trip per request; any other driver keeps SQLAlchemy's ping (free on SQLite).
    engine_options: dict[str, object] = {"pool_pre_ping": not pool.checks_sockets(settings.database_uri)}
    if not is_sqlite:
        engine_options |= {"pool_size": settings.database_pool_size, "max_overflow": 10, "pool_recycle": 1800}
    return {
        "SECRET_KEY": settings.secret_key,
        "TESTING": settings.env == "testing",
        "SQLALCHEMY_DATABASE_URI": settings.database_uri,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "SQLALCHEMY_ECHO": settings.database_echo,
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        "JSON_SORT_KEYS": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.is_production,
        # flask-smorest / OpenAPI
        "API_TITLE": "AdFlux API",
        "API_VERSION": __version__,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served locally: these machines have no internet, so no CDN.
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    }
