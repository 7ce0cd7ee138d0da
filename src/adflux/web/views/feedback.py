"""Sugerencias: anyone signed in sends a suggestion; admins read them and this week's count."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from adflux.services import feedback as feedback_service
from adflux.services.errors import ValidationFailed
from adflux.services.weekly_report import weekly_report
from adflux.web.auth import current_session_user, login_required
from adflux.web.i18n import same_site_path
from adflux.web.views.blueprint import PAGE_SIZE, bp, page_number

KIND_LABELS: dict[str, Any] = {
    "idea": _l("An idea"),
    "problem": _l("A problem"),
    "other": _l("Something else"),
}


@bp.get("/feedback")
@login_required("viewer")
def feedback() -> str:
    """The suggestion form; for admins, the suggestions received and this week's count."""
    return _render({"kind": "idea", "message": "", "page": request.args.get("from", "")}, {}, 200)[0]


@bp.post("/feedback")
@login_required("viewer")
def feedback_send() -> BaseResponse | tuple[str, int]:
    """Store a suggestion; a mistake re-shows the form with what was typed."""
    form = {name: (request.form.get(name) or "").strip() for name in ("kind", "message", "page")}
    user = current_session_user()
    try:
        feedback_service.submit_feedback(
            kind=form["kind"],
            message=form["message"][: feedback_service.MAX_MESSAGE + 1],
            page=same_site_path(form["page"], ""),
            user_id=user.id if user else None,
        )
    except ValidationFailed as exc:
        errors = {
            "kind": _("Choose what kind of suggestion it is."),
            "message": _("Write between 5 and 2,000 characters."),
        }
        return _render(form, {name: errors[name] for name in exc.errors if name in errors}, 400)
    flash(_("Thank you: your suggestion reached the team."), "success")
    return redirect(url_for("web.feedback"))


@bp.post("/feedback/<int:feedback_id>/read")
@login_required("admin")
def feedback_read(feedback_id: int) -> BaseResponse:
    """Mark a suggestion as read."""
    feedback_service.mark_read(feedback_id=feedback_id)  # NotFound → the 404 page
    return redirect(url_for("web.feedback"))


def _render(form: dict[str, str], errors: dict[str, str], status: int) -> tuple[str, int]:
    user = current_session_user()
    received = week = None
    if user is not None and user.has_role("admin"):
        received = feedback_service.list_feedback(page=page_number(), page_size=PAGE_SIZE)
        week = weekly_report()
    return (
        render_template(
            "feedback.html",
            form=form,
            errors=errors,
            kinds=KIND_LABELS,
            received=received,
            week=week,
            max_message=feedback_service.MAX_MESSAGE,
        ),
        status,
    )
