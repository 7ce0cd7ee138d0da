"""On the simulated candidates the chosen segmentation recovers the hidden personas (issue 3, item 7)."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.ml.evaluation import adjusted_rand
from adflux.ml.features import candidate_frame
from adflux.ml.training import TrainingResult, train_segmenter

simulation = pytest.importorskip("adflux.simulation")

N_CANDIDATES = 20_000
MIN_PERSONA_ARI = 0.9


@pytest.fixture(scope="module")
def simulated():
    batch = simulation.generate_candidates(N_CANDIDATES, seed=2026)
    frame = candidate_frame(batch.to_arrow(include_persona=False), reference_year=batch.as_of.year)
    return batch, frame


@pytest.fixture(scope="module")
def segmentation(simulated) -> TrainingResult:
    _, frame = simulated
    return train_segmenter(frame, k_min=2, k_max=12, random_state=0)


def test_chosen_segmentation_recovers_the_simulated_personas(simulated, segmentation: TrainingResult) -> None:
    batch, _ = simulated
    result = segmentation
    ari = adjusted_rand(batch.persona_index, result.labels)
    assert result.k == len(simulation.PERSONAS), [
        (r["k"], round(r["silhouette"], 4)) for r in result.k_search
    ]
    assert ari >= MIN_PERSONA_ARI


def test_persona_is_never_a_feature(simulated) -> None:
    _, frame = simulated
    assert not {"persona", "persona_index", "email", "external_ref"} & set(frame.columns)


def test_retraining_with_another_seed_keeps_the_simulated_segments(
    simulated, segmentation: TrainingResult
) -> None:
    _, frame = simulated
    second = train_segmenter(frame, k_max=12, random_state=1)
    assert adjusted_rand(segmentation.labels, second.labels) >= 0.95
    assert np.isfinite(second.metrics["silhouette"])
