"""Segmentation model versions, their segments and the candidates assigned to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from adflux.extensions import Model
from adflux.models.base import BigId, JSONType, UTCDateTime, utcnow


class SegmentationModel(Model):
    """One trained version of the segmentation pipeline."""

    __tablename__ = "segmentation_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(12), default="candidate")
    k: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # {"k_search": [{"k", "silhouette", "davies_bouldin", "calinski_harabasz", "inertia"}], ...}
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    silhouette: Mapped[float | None] = mapped_column(Float)
    davies_bouldin: Mapped[float | None] = mapped_column(Float)
    calinski_harabasz: Mapped[float | None] = mapped_column(Float)
    inertia: Mapped[float | None] = mapped_column(Float)
    # Adjusted Rand index against the simulated personas, when persona labels exist.
    persona_ari: Mapped[float | None] = mapped_column(Float)
    training_size: Mapped[int] = mapped_column(Integer, default=0)
    sample_size: Mapped[int] = mapped_column(Integer, default=0)
    library_versions: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    data_window: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Training-time feature distributions, the reference for drift.
    reference_profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    drift: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    artifact_uri: Mapped[str] = mapped_column(String(500))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    segments: Mapped[list[Segment]] = relationship(
        back_populates="model", order_by="Segment.cluster_index", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_segmentation_models_status", "status"),)


class Segment(Model):
    """One cluster of a model version, with a readable name and profile."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("segmentation_models.id", ondelete="CASCADE"))
    cluster_index: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    share: Mapped[float] = mapped_column(Float, default=0.0)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    pca_x: Mapped[float] = mapped_column(Float, default=0.0)
    pca_y: Mapped[float] = mapped_column(Float, default=0.0)

    model: Mapped[SegmentationModel] = relationship(back_populates="segments")

    __table_args__ = (UniqueConstraint("model_id", "cluster_index"),)


class CandidateSegment(Model):
    """Narrow, append-only assignment table: written in bulk per model version.

    PostgreSQL: `PARTITION BY LIST (model_id)`, one partition per version written in bulk
    (candidate_segments_m<id>, attached by services/assignment_partitions.py, dropped when pruned)
    and a DEFAULT partition for rows of versions without one (one-off inserts, the checked path).
    Other databases: one plain table.
    """

    __tablename__ = "candidate_segments"

    model_id: Mapped[int] = mapped_column(
        ForeignKey("segmentation_models.id", ondelete="CASCADE"), primary_key=True
    )
    candidate_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("candidates.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"))

    __table_args__ = (
        Index("ix_candidate_segments_segment_id_candidate_id", "segment_id", "candidate_id"),
        {"postgresql_partition_by": "LIST (model_id)"},
    )


# Rows of a version without its own partition land here (migration 0033 makes it too).
event.listen(
    CandidateSegment.__table__,
    "after_create",
    DDL("CREATE TABLE candidate_segments_default PARTITION OF candidate_segments DEFAULT").execute_if(
        dialect="postgresql"
    ),
)
