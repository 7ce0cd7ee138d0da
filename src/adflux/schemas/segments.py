"""Segmentation schemas: segments, model versions, training requests, drift and the PCA picture."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adflux.constants import (
    MIN_CUSTOM_AUDIENCE,
    SEGMENTATION_MODEL_STATUSES,
    audience_shortfall,
    too_small_for,
)
from adflux.schemas.candidates import CandidatePageSchema
from adflux.schemas.common import PageArgsSchema, page_schema

_K = fields.Int(validate=validate.Range(min=2, max=50))


def _unavailable(segment: Any) -> list[dict[str, Any]]:
    return [
        {"platform": p, "minimum": MIN_CUSTOM_AUDIENCE[p], "reason": audience_shortfall(segment.size, p)}
        for p in too_small_for(segment.size)
    ]


class SegmentSchema(Schema):
    id = fields.Int(required=True)
    model_id = fields.Int(required=True)
    model_version = fields.Function(lambda s: s.model.version, dump_only=True)
    cluster_index = fields.Int(required=True)
    name = fields.Str(required=True)
    description = fields.Str()
    size = fields.Int(required=True)
    share = fields.Float(required=True)
    profile = fields.Dict(metadata={"description": "Top cities, education, categories, skills, medians"})
    pca_x = fields.Float()
    pca_y = fields.Float()
    unavailable_platforms = fields.Function(
        _unavailable,
        dump_only=True,
        metadata={
            "description": "Platforms whose minimum custom audience is larger than the segment: "
            "{platform, minimum, reason (Spanish)}; campaigns there refuse the segment"
        },
    )


class SegmentListArgsSchema(PageArgsSchema):
    version = fields.Int(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Model version (default: the active one)"},
    )
    page_size = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))


class SegmentDetailSchema(Schema):
    segment = fields.Nested(SegmentSchema, required=True)
    members = fields.Nested(CandidatePageSchema, required=True, metadata={"description": "A page of members"})


class CandidateSegmentSchema(Schema):
    candidate_id = fields.Int(required=True)
    model_version = fields.Int(required=True)
    segment = fields.Nested(SegmentSchema, required=True)


class TrainRequestSchema(Schema):
    k_min = _K
    k_max = _K
    force = fields.Bool(
        load_default=False, metadata={"description": "Activate even if worse than the active model"}
    )
    seed = fields.Int(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))

    @validates_schema
    def _k_order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("k_min") and data.get("k_max") and data["k_min"] > data["k_max"]:
            raise ValidationError("k_min must not exceed k_max", field_name="k_min")


def _metrics_without_points(model: Any) -> dict[str, Any]:
    # The PCA sample (thousands of points) has its own endpoint; listings stay small.
    metrics = dict(model.metrics or {})
    if isinstance(metrics.get("pca"), dict):
        metrics["pca"] = {k: v for k, v in metrics["pca"].items() if k != "points"}
    return metrics


class SegmentationModelSchema(Schema):
    id = fields.Int(required=True)
    version = fields.Int(required=True)
    status = fields.Str(required=True, validate=validate.OneOf(SEGMENTATION_MODEL_STATUSES))
    k = fields.Int(required=True)
    features = fields.List(fields.Str())
    silhouette = fields.Float(allow_none=True)
    davies_bouldin = fields.Float(allow_none=True)
    calinski_harabasz = fields.Float(allow_none=True)
    inertia = fields.Float(allow_none=True)
    persona_ari = fields.Float(allow_none=True, metadata={"description": "ARI vs simulated personas"})
    training_size = fields.Int()
    sample_size = fields.Int()
    library_versions = fields.Dict(keys=fields.Str(), values=fields.Str())
    data_window = fields.Dict()
    metrics = fields.Function(
        _metrics_without_points, metadata={"description": "k_search (every k tried), timings, evaluation"}
    )
    drift = fields.Dict(allow_none=True)
    artifact_uri = fields.Str()
    artifact_sha256 = fields.Str()
    notes = fields.Str(allow_none=True)
    created_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)


class ModelListArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(SEGMENTATION_MODEL_STATUSES))


class DriftArgsSchema(Schema):
    refresh = fields.Bool(
        load_default=False, metadata={"description": "Recompute now instead of returning the last record"}
    )


class DriftSchema(Schema):
    model_version = fields.Int()
    computed_at = fields.Str()
    score = fields.Float(metadata={"description": "Largest PSI over features and segment shares"})
    mean_psi = fields.Float()
    status = fields.Str(
        metadata={
            "description": "Worst of the PSI reading (stable < 0.1 <= moderate < 0.25 <= significant) and "
            "the segment-share reading (a share moved > 3 points: moderate; > 9 points: significant)"
        }
    )
    drifted_features = fields.List(fields.Str())
    shifted_segments = fields.List(
        fields.Int(), metadata={"description": "Cluster indexes whose share moved"}
    )
    shifted_segment_names = fields.List(fields.Str(), metadata={"description": "Their names"})
    features = fields.Dict(metadata={"description": "Per feature: {psi, status}"})
    segments = fields.Dict(
        metadata={"description": "Segment shares then and now, shifts, PSI, shifted segments"}
    )
    n_reference = fields.Int(allow_none=True)
    n_current = fields.Int()


class PcaCentroidSchema(Schema):
    segment_id = fields.Int()
    cluster_index = fields.Int()
    name = fields.Str()
    size = fields.Int()
    x = fields.Float()
    y = fields.Float()


class PcaPointSchema(Schema):
    x = fields.Float()
    y = fields.Float()
    segment = fields.Int(metadata={"description": "Cluster index"})


class PcaSchema(Schema):
    version = fields.Int(required=True)
    explained_variance_ratio = fields.List(fields.Float())
    centroids = fields.List(fields.Nested(PcaCentroidSchema))
    points = fields.List(fields.Nested(PcaPointSchema))


SegmentPageSchema = page_schema(SegmentSchema, "SegmentPage")
SegmentationModelPageSchema = page_schema(SegmentationModelSchema, "SegmentationModelPage")
