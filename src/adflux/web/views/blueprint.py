"""The dashboard's blueprint, what every page shares (paging, error pages), language and icon."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from adflux.services.errors import NotFound
from adflux.web import i18n

# /assets, not /static: the app's own (empty) static route already answers /static/.
bp = Blueprint(
    "web",
    __name__.rsplit(".", 2)[0],
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGE_SIZE = 25


def page_number() -> int:
    """The `page` query parameter, kept within 1..10,000."""
    page = request.args.get("page", default=1, type=int) or 1
    return max(1, min(page, 10_000))


@bp.post("/language")
def set_language() -> BaseResponse:
    """Switch the dashboard language (kept in the session), then go back where the person was."""
    if not i18n.remember_locale(request.form.get("locale", "")):
        abort(400)
    return redirect(i18n.same_site_path(request.form.get("next"), url_for("web.index")))


@bp.get("/favicon.ico")
def favicon() -> BaseResponse:
    """The icon browsers ask for on pages that do not name one (e.g. the sign-in page)."""
    return send_from_directory(STATIC_DIR / "img", "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> tuple[str, int]:
    return render_template("error.html", code=404, message=_("That page does not exist.")), 404


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    messages = {
        400: _("The request could not be understood."),
        403: _("Your role does not allow this page or action."),
        404: _("That page does not exist."),
    }
    code = error.code or 500
    if code not in messages:
        return error
    return render_template("error.html", code=code, message=messages[code]), code
