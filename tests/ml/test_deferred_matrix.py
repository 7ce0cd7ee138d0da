"""The feature matrix built beside the k search (`ml.deferred_matrix`): the same numbers, sooner."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp

from adflux.ml.deferred_matrix import DeferredMatrix
from adflux.ml.k_search import choose_k
from adflux.ml.pipeline import build_features, build_segmenter, fit_feature_steps


def _fitted(frame, **kwargs):
    features = build_segmenter(2, **kwargs)[:-1]
    fit_feature_steps(features, frame)
    return features


def test_fitting_without_the_matrix_learns_what_the_column_transformer_learns(frame):
    features = _fitted(frame)
    # `build_features` (sklearn's ColumnTransformer) is the reference `CandidateFeatures` matches
    reference = build_features().fit(frame)
    whole = sp.csr_matrix(reference.transform(frame), dtype=np.float32)
    ours = features.named_steps["features"]
    assert list(ours.get_feature_names_out()) == list(reference.get_feature_names_out())
    assert features.named_steps["float32"].n_features_in_ == whole.shape[1]
    X = features.transform(frame)
    assert X.dtype == np.float32 and X.shape == whole.shape
    assert abs(X - whole).max() == 0


def test_the_rows_asked_for_are_the_whole_matrix_rows_and_the_rest_is_built_on_a_thread(frame):
    features = _fitted(frame)
    whole = features.transform(frame).toarray()
    rows = np.sort(np.random.default_rng(3).choice(len(frame), size=len(frame) // 5, replace=False))
    seen: list[str] = []
    transform = features.transform

    def spying(part):
        seen.append(threading.current_thread().name)
        return transform(part)

    features.transform = spying  # type: ignore[method-assign]
    deferred = DeferredMatrix(features, frame)
    assert deferred.shape[0] == len(frame)
    part = deferred.dense_rows(rows)
    assert part.flags.c_contiguous and part.dtype == np.float32
    np.testing.assert_array_equal(part, whole[rows])
    np.testing.assert_array_equal(deferred.result().toarray(), whole)
    assert seen == [threading.current_thread().name, "feature-matrix"]  # the rows here, the rest beside
    np.testing.assert_array_equal(deferred.dense_rows(rows[:7]), whole[rows[:7]])  # from the whole now
    assert len(seen) == 2


def test_most_of_the_rows_build_the_whole_matrix_at_once(frame):
    features = _fitted(frame)
    deferred = DeferredMatrix(features, frame)
    rows = np.arange(len(frame) - 10)
    np.testing.assert_array_equal(deferred.dense_rows(rows), features.transform(frame).toarray()[rows])
    assert deferred.result() is deferred.result()  # one matrix, built once


def test_a_failed_build_reaches_whoever_waits_for_the_matrix(frame):
    features = _fitted(frame)
    deferred = DeferredMatrix(features, frame)
    deferred.dense_rows(np.arange(10))
    with pytest.raises(ValueError, match="lacks model input columns"):
        DeferredMatrix(features, frame.drop(columns=["city"])).result()


def test_the_k_search_on_a_deferred_matrix_is_the_search_on_the_whole_matrix(frame):
    features = _fitted(frame)
    kwargs = {
        "k_values": range(2, 6),
        "fit_sample_size": 900,
        "score_sample_size": 600,
        "silhouette_sample_size": 400,
        "seed_sample_size": 500,
        "random_state": 11,
    }
    deferred = DeferredMatrix(features, frame)
    lazy = choose_k(deferred, **kwargs)
    eager = choose_k(features.transform(frame), **kwargs)
    assert lazy.best_k == eager.best_k
    np.testing.assert_array_equal(lazy.fit_sample, eager.fit_sample)
    for mine, theirs in zip(lazy.results, eager.results, strict=True):
        assert mine["k"] == theirs["k"] and mine["silhouette"] == theirs["silhouette"]
        assert mine["inertia"] == theirs["inertia"]
    for k, model in lazy.models.items():
        np.testing.assert_array_equal(model.cluster_centers_, eager.models[k].cluster_centers_)
    assert deferred.result().shape[0] == len(frame)  # the whole matrix was built meanwhile
