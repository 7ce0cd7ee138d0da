"""The dashboard: Jinja pages and local static assets, served by the same app, calling services."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale

from adflux.services import dashboard
from adflux.web import auth, formatting, i18n
from adflux.web.chart_tables import chart_table
from adflux.web.segment_traits import segment_traits
from adflux.web.views import bp


def init_app(app: Flask) -> None:
    """Register the dashboard pages, languages and template helpers."""
    i18n.init_app(app)
    formatting.init_app(app)
    app.jinja_env.filters["segment_traits"] = segment_traits
    app.jinja_env.filters["chart_table"] = chart_table
    app.register_blueprint(bp)
    auth.init_app(app)  # /login, /logout, CSRF for forms, login_required(role)

    @app.context_processor
    def _dashboard_globals() -> dict[str, Any]:
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        return {
            "languages": i18n.LANGUAGES,
            "current_locale": locale,
            "html_lang": i18n.html_lang(locale),
            "current_path": i18n.current_path,
            # Called by the layout only for signed-in people: one small query per page.
            "open_alert_count": dashboard.open_alert_count,
        }
