"""Streamed training (a base too large for memory) on real PostgreSQL, with a small threshold: 5,000
candidates read and written in chunks of about 1,000, the model fitted on a hash sample of ~2,000."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import func, select, text

from adflux.extensions import db
from adflux.ml.features import candidate_frame
from adflux.ml.registry import LocalModelStore
from adflux.models import CandidateSegment, SegmentationModel
from adflux.services import assignment_stream, segmentation, segmentation_data
from adflux.services.seeding import seed_database
from adflux.services.segmentation import versions as segmentation_versions
from adflux.settings import EXTENSION_KEY, Settings, SettingsError

N = 5_000
CHUNK = 1_000
K = {"k_min": 2, "k_max": 9}  # the simulation has eight personas

pytestmark = pytest.mark.postgres


@pytest.fixture
def streamed(app_ctx: Flask) -> Iterator[Flask]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("streaming is the PostgreSQL path")
    seed_database(candidates=N, jobs=0, seed=21)
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE candidates"))
    settings = app_ctx.extensions[EXTENSION_KEY]
    app_ctx.extensions[EXTENSION_KEY] = replace(
        settings,
        segmentation_streaming_rows=1_000,
        segmentation_stream_chunk_rows=CHUNK,
        segmentation_stream_sample_rows=2_000,
    )
    try:
        yield app_ctx
    finally:
        app_ctx.extensions[EXTENSION_KEY] = settings


def _assignments(model_id: int) -> dict[int, int]:
    ids, segments = segmentation_data.read_assignments(model_id)
    return dict(zip(ids.tolist(), segments.tolist(), strict=True))


def _artifacts() -> set[str]:
    store = segmentation_versions.model_store()
    assert isinstance(store, LocalModelStore)
    return {str(path) for path in store.root.rglob("*") if path.is_file()}


def _foreign_keys() -> list[tuple[str, bool]]:
    rows = db.session.execute(
        text(
            "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint"
            " WHERE conrelid = 'candidate_segments'::regclass AND contype = 'f' ORDER BY 1"
        )
    )
    return [(str(definition), bool(valid)) for definition, valid in rows]


def test_every_candidate_is_assigned_once_in_bounded_chunks_as_the_stored_model_predicts(
    streamed: Flask,
) -> None:
    keys = _foreign_keys()
    model = segmentation.train_segmentation(**K)
    streaming = model.metrics["streaming"]
    assert model.status == "active" and model.k == 8
    assert 1_300 <= streaming["sample_rows"] <= 3_000 and model.sample_size <= streaming["sample_rows"]
    # Memory-bounded: five chunks of about a thousand, never the whole base.
    assert streaming["chunks"] == streaming["planned_chunks"] >= N // CHUNK
    assert streaming["largest_chunk"] <= CHUNK * 1.1
    assert streaming["rows"] == N == model.training_size
    stored = _assignments(model.id)
    distinct = db.session.scalar(
        select(func.count(func.distinct(CandidateSegment.candidate_id))).where(
            CandidateSegment.model_id == model.id
        )
    )
    assert len(stored) == distinct == N
    # Labels equal predicting every candidate with the stored artifact.
    artifact = segmentation_versions.load_artifact(model)
    candidates = segmentation_data.read_candidate_columns()
    frame = candidate_frame(candidates.table, reference_year=segmentation_versions.reference_year(model))
    clusters = artifact.pipeline.predict(frame)
    by_cluster = {segment.cluster_index: segment.id for segment in model.segments}
    assert [stored[c] for c in candidates.ids.tolist()] == [by_cluster[int(c)] for c in clusters]
    # Sizes count every candidate; persona ARI on the sample; the keys are back and valid.
    sizes = np.bincount(clusters, minlength=model.k)
    assert [s.size for s in sorted(model.segments, key=lambda s: s.cluster_index)] == sizes.tolist()
    assert model.persona_ari is not None and model.persona_ari >= 0.9
    assert _foreign_keys() == keys and all(valid for _, valid in keys) and len(keys) == 3


def test_a_failure_mid_write_leaves_the_previous_version_active_and_no_partial_rows(
    streamed: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = segmentation.train_segmentation(**K)
    first_id, first_version = first.id, first.version
    real_rows = assignment_stream._rows
    written: list[int] = []

    def fail_on_the_third_chunk(*args: Any) -> bytes:
        if len(written) == 2:
            raise RuntimeError("disk full")
        written.append(len(args[1]))
        return real_rows(*args)

    artifacts = _artifacts()
    monkeypatch.setattr(assignment_stream, "_rows", fail_on_the_third_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        segmentation.train_segmentation(force=True, seed=1, **K)
    db.session.remove()
    assert sum(written) >= CHUNK  # two chunks were COPYed before the failure
    models = db.session.scalars(select(SegmentationModel).order_by(SegmentationModel.version)).all()
    assert [(m.version, m.status) for m in models] == [(first_version, "active")]
    rows = db.session.execute(
        select(CandidateSegment.model_id, func.count()).group_by(CandidateSegment.model_id)
    ).all()
    assert [tuple(row) for row in rows] == [(first_id, N)]
    assert len(_foreign_keys()) == 3
    assert _artifacts() == artifacts  # the failed version's artifact was deleted


def test_a_retrain_is_scored_against_the_active_version_on_the_sample(streamed: Flask) -> None:
    first = segmentation.train_segmentation(**K)
    second = segmentation.train_segmentation(seed=3, **K)
    assert second.metrics["evaluation_sample"]["against_version"] == first.version
    assert second.metrics["stability"]["against_version"] == first.version
    assert second.metrics["stability"]["candidates"] == second.metrics["streaming"]["sample_rows"]
    if second.status == "active":
        assert len(_assignments(second.id)) == N
    else:  # not promoted: nothing streamed, nothing written
        assert "rows" not in second.metrics["streaming"] and not _assignments(second.id)


def test_below_the_threshold_training_stays_in_memory(streamed: Flask) -> None:
    settings = streamed.extensions[EXTENSION_KEY]
    streamed.extensions[EXTENSION_KEY] = replace(settings, segmentation_streaming_rows=N + 1)
    model = segmentation.train_segmentation(k_min=8, k_max=8)
    assert "streaming" not in model.metrics
    assert len(_assignments(model.id)) == N


def test_the_stream_sizes_are_refused_below_a_thousand_rows() -> None:
    environ = {"ADFLUX_SEGMENTATION_STREAM_CHUNK_ROWS": "10"}
    settings = Settings.from_env(environ, env="testing", secret_key="x")
    with pytest.raises(SettingsError, match="_CHUNK_ROWS must be >= 1000"):
        settings.validate()
