"""The segmentation pipeline: one factory-built scikit-learn `Pipeline`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from adflux.ml.feature_matrix import CandidateFeatures
from adflux.ml.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES, SKILLS_FEATURE, MultiHotEncoder

logger = logging.getLogger(__name__)

# Relative weight of each feature block in the Euclidean distance K-means minimises (applied
# through ColumnTransformer's transformer_weights). Why not all 1:
# - location is weak evidence of the kind of candidate (every city has every trade) and city and
#   department say it twice; at full weight they add ~2.5 to the squared distance between almost
#   any two people, blurring segments that differ in trade and seniority. Halved (department, a
#   function of city, at a quarter) location still shapes segments where it is concentrated;
# - the four numbers (age, education, experience, salary) are what tells seniority apart within a
#   trade; at 1.5 the silhouette curve peaks at the true number of audiences on the simulated
#   personas for every data and model seed tried (at 1.0 it picked a neighbouring k in ~1 of 12).
DEFAULT_WEIGHTS: dict[str, float] = {
    "numeric": 1.5,
    "city": 0.5,
    "department": 0.25,
    "desired_category": 1.0,
    "desired_modality": 1.0,
    "skills": 1.0,
}
# Skills beyond the most frequent ones add columns (memory, time) without separating segments.
DEFAULT_MAX_SKILLS = 100


def build_features(
    *, weights: Mapping[str, float] | None = None, max_skills: int | None = DEFAULT_MAX_SKILLS
) -> ColumnTransformer:
    """The feature step: impute + scale numbers, one-hot categories, multi-hot skills (float32 CSR)."""
    transformers: list[tuple[str, Any, list[str]]] = [
        # Mean imputation puts a missing value at the centre of its axis after scaling, so it
        # pulls a candidate towards no segment in particular.
        ("numeric", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), list(NUMERIC_FEATURES)),
    ]
    for name in CATEGORICAL_FEATURES:
        encoder = OneHotEncoder(handle_unknown="ignore", dtype=np.float32)
        transformers.append((name, encoder, [name]))
    skills = MultiHotEncoder(max_tokens=max_skills, dtype=np.float32)
    transformers.append(("skills", skills, [SKILLS_FEATURE]))
    chosen = DEFAULT_WEIGHTS if weights is None else weights
    return ColumnTransformer(
        transformers,
        remainder="drop",
        # Always CSR: ~11 non-zeros per candidate, so a million rows take ~90 MB instead of
        # hundreds, one-hot skips its costly densification, and K-means on all rows runs faster
        # sparse; the k search densifies its 100k sample, where dense K-means is faster.
        sparse_threshold=1.0,
        # Weight 1 is left out: ColumnTransformer multiplies (copies) every weighted block.
        transformer_weights={name: float(w) for name, w in chosen.items() if w != 1.0} or None,
    )


def build_segmenter(
    n_clusters: int,
    random_state: int = 0,
    *,
    weights: Mapping[str, float] | None = None,
    max_skills: int | None = DEFAULT_MAX_SKILLS,
) -> Pipeline:
    """features → float32 → KMeans: the whole path from candidate frame to segment index.

    The feature step is `CandidateFeatures`: the matrix `build_features` makes, built straight
    into one CSR (~2× faster at a million candidates; versions saved with the `ColumnTransformer`
    still load and assign the same way).
    """
    chosen = DEFAULT_WEIGHTS if weights is None else weights
    return Pipeline(
        [
            ("features", CandidateFeatures(weights=dict(chosen), max_skills=max_skills)),
            ("float32", Float32Cast()),
            # copy_x=False: no second copy of the feature matrix (~90 MB at 1M candidates).
            # Safe because nothing else reads that X while this KMeans fits it: the features step
            # always hands it CSR (sparse_threshold above), which KMeans never centres in place
            # (only dense X is centred and restored); and `training` fits it once, on an X of its
            # own, after `choose_k` has returned and its worker threads are joined. The k search,
            # whose threads do share one dense matrix, forces copy_x=True on its clones
            # (`k_search._KSearchFit.fit`).
            (
                "cluster",
                KMeans(n_clusters=n_clusters, n_init="auto", random_state=random_state, copy_x=False),
            ),
        ]
    )


class Float32Cast(TransformerMixin, BaseEstimator):
    """Cast features to float32 (half the memory of float64; K-means runs faster on it)."""

    def fit(self, X: Any, y: Any = None) -> Float32Cast:
        """Record the number (and names) of features."""
        validate_data(self, X, accept_sparse=("csr", "csc"), dtype=np.float32, ensure_all_finite=False)
        return self

    def transform(self, X: Any) -> Any:
        """X as float32, without a copy when it already is."""
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, accept_sparse=("csr", "csc"), dtype=np.float32, ensure_all_finite=False
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input feature names, unchanged."""
        return np.asarray(_check_feature_names_in(self, input_features), dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
