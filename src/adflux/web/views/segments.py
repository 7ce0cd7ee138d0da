"""The segment explorer: PCA picture, profiles and every model version's k search."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from adflux.services import dashboard
from adflux.services import reports as reports_service
from adflux.services import segmentation as segmentation_service
from adflux.services.errors import DomainError, NotFound
from adflux.web import charts
from adflux.web.auth import current_session_user, login_required
from adflux.web.formatting import status_label
from adflux.web.views.blueprint import bp

# The segment explorer compares at most this many model versions (newest first).
MAX_MODEL_VERSIONS = 50


@bp.get("/segments")
@login_required("viewer")
def segments() -> str:
    """The segment explorer: PCA picture, profiles and every model version's k search."""
    version = request.args.get("version", type=int)
    model = dashboard.pick_model(version=version)
    models = segmentation_service.list_models(page_size=MAX_MODEL_VERSIONS).items
    searches = [(m.version, m.k, dashboard.k_search(m)) for m in models]
    searches = [s for s in searches if s[2]]
    chart_specs: dict[str, Any] = {}
    if model is not None and model.segments:
        pca = segmentation_service.pca_view(version=model.version)
        chart_specs["segment-scatter"] = charts.segment_scatter(
            pca["centroids"], pca["points"], pca["explained_variance_ratio"]
        )
    if searches:
        chart_specs["k-silhouette"] = charts.k_search_curves(searches, "silhouette")
        chart_specs["k-inertia"] = charts.k_search_curves(searches, "inertia")
    ranking = reports_service.segment_comparison()
    principal = current_session_user()
    return render_template(
        "segments.html",
        is_admin=principal is not None and principal.is_admin,
        rollback_to=_rollback_target(models),
        model=model,
        models=models,
        k_search=dashboard.k_search(model) if model is not None else [],
        charts=chart_specs,
        ranking=ranking,
    )


def _rollback_target(models: list[Any]) -> Any:
    """The newest retired version older than the active one: what "roll back" would activate."""
    active = next((m for m in models if m.status == "active"), None)
    if active is None:
        return None
    return next((m for m in models if m.status == "retired" and m.version < active.version), None)


@bp.post("/segments/train")
@login_required("admin")
def segments_train() -> BaseResponse:
    """Start a training; the new version is activated only if it is at least as good."""
    try:
        run = segmentation_service.start_training()
    except DomainError as exc:
        flash(_("Could not start the training: %(reason)s", reason=exc.message), "error")
    else:
        flash(
            _("Training started; follow it in Tasks (%(status)s).", status=status_label(run.status)),
            "success",
        )
    return redirect(url_for("web.segments"))


@bp.post("/segments/activate")
@login_required("admin")
def segments_activate() -> BaseResponse:
    """Activate a version (forward or roll back): every candidate is re-assigned."""
    version = request.form.get("version", type=int)
    if version is None:
        abort(400)
    try:
        model = segmentation_service.activate_model(version=version)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(_("Could not activate: %(reason)s", reason=exc.message), "error")
        return redirect(url_for("web.segments", version=version))
    flash(_("Version %(version)s is now active.", version=model.version), "success")
    return redirect(url_for("web.segments", version=model.version))
