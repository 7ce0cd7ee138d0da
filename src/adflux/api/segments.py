"""/api/v1/segments and /api/v1/segmentation: audience segments, model versions, training, drift."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from adflux.api.auth import requires
from adflux.api.tasks import accepted
from adflux.schemas.common import ApiErrorSchema, PageArgsSchema, TaskAcceptedSchema
from adflux.schemas.segments import (
    CandidateSegmentSchema,
    DriftArgsSchema,
    DriftSchema,
    ModelListArgsSchema,
    PcaSchema,
    SegmentationModelPageSchema,
    SegmentationModelSchema,
    SegmentDetailSchema,
    SegmentListArgsSchema,
    SegmentPageSchema,
    TrainRequestSchema,
)
from adflux.services import segmentation as segmentation_service

URL_PREFIX = ""
blp = Blueprint("segments", __name__, description="Audience segments and segmentation models")


@blp.route("/segments")
class SegmentList(MethodView):
    @requires("viewer")
    @blp.arguments(SegmentListArgsSchema(), location="query")
    @blp.response(200, SegmentPageSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="No such version, or no active model")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List the segments of the active model (or of `version`), largest first."""
        return segmentation_service.list_segments(**args).as_dict()


@blp.route("/segments/<int:segment_id>")
class SegmentDetail(MethodView):
    @requires("viewer")
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, SegmentDetailSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, args: dict[str, Any], segment_id: int) -> dict[str, Any]:
        """Get a segment with its profile and a page of its members."""
        return segmentation_service.segment_detail(segment_id=segment_id, **args)


@blp.route("/candidates/<int:candidate_id>/segment")
class CandidateSegmentView(MethodView):
    @requires("viewer")
    @blp.response(200, CandidateSegmentSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="No such candidate, or no active model")
    def get(self, candidate_id: int) -> dict[str, Any]:
        """Get a candidate's segment under the active model (assigned at once if the candidate is new)."""
        return segmentation_service.candidate_segment(candidate_id=candidate_id)


@blp.route("/segmentation/train")
class SegmentationTrain(MethodView):
    @requires("manager")
    @blp.arguments(TrainRequestSchema())
    @blp.response(202, TaskAcceptedSchema)
    @blp.alt_response(503, schema=ApiErrorSchema, description="Task queue unavailable")
    def post(self, data: dict[str, Any]) -> Any:
        """Train a new model version in the background; poll the task for progress (stage, percent)."""
        return accepted(segmentation_service.start_training(**data))


@blp.route("/segmentation/models")
class SegmentationModelList(MethodView):
    @requires("viewer")
    @blp.arguments(ModelListArgsSchema(), location="query")
    @blp.response(200, SegmentationModelPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List model versions, newest first, with their metrics for every k tried."""
        return segmentation_service.list_models(**args).as_dict()


@blp.route("/segmentation/models/<int:version>")
class SegmentationModelDetail(MethodView):
    @requires("viewer")
    @blp.response(200, SegmentationModelSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, version: int) -> Any:
        """Get one model version."""
        return segmentation_service.get_model(version=version)


@blp.route("/segmentation/models/<int:version>/activate")
class SegmentationModelActivate(MethodView):
    # Admin only, like every activation: it re-assigns every candidate and changes targeting.
    @requires("admin")
    @blp.response(200, SegmentationModelSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    @blp.alt_response(409, schema=ApiErrorSchema, description="Already active")
    @blp.alt_response(503, schema=ApiErrorSchema, description="The version's artifact cannot be used")
    def post(self, version: int) -> Any:
        """Activate a version (roll back or forward); every candidate is re-assigned."""
        return segmentation_service.activate_model(version=version)


@blp.route("/segmentation/models/<int:version>/pca")
class SegmentationModelPca(MethodView):
    @requires("viewer")
    @blp.response(200, PcaSchema)
    @blp.alt_response(404, schema=ApiErrorSchema)
    def get(self, version: int) -> dict[str, Any]:
        """Get the 2-D PCA picture: segment centroids and a sample of candidates."""
        return segmentation_service.pca_view(version=version)


@blp.route("/segmentation/drift")
class SegmentationDrift(MethodView):
    @requires("viewer")
    @blp.arguments(DriftArgsSchema(), location="query")
    @blp.response(200, DriftSchema)
    @blp.alt_response(404, schema=ApiErrorSchema, description="No active model")
    @blp.alt_response(409, schema=ApiErrorSchema, description="Nothing to compare")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Get the active model's drift (PSI per feature, segment shares, overall score)."""
        return segmentation_service.get_drift(**args)
