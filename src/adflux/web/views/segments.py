"""The segment explorer: PCA picture, profiles and every model version's k search."""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from adflux.services import dashboard
from adflux.services import reports as reports_service
from adflux.services import segmentation as segmentation_service
from adflux.web import charts
from adflux.web.auth import login_required
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
    return render_template(
        "segments.html",
        model=model,
        models=models,
        k_search=dashboard.k_search(model) if model is not None else [],
        charts=chart_specs,
        ranking=ranking,
    )
