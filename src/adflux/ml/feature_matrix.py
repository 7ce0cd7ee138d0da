"""The feature step built straight into one CSR matrix: numbers, one-hot categories, multi-hot skills.

It computes exactly what `pipeline.build_features` (a `ColumnTransformer`) computes — the same
columns in the same order, the same values — without its per-block copies: each categorical
column of the input frame is a pandas `Categorical` (`features.candidate_frame`), so its one-hot
block comes from the category codes (a handful of strings mapped once), not from sorting a
million Python strings the way `OneHotEncoder` does, and the blocks are weighted as they are
built instead of being multiplied (copied) afterwards. At a million candidates the
`ColumnTransformer` took ~1.5 s on a quiet machine (bench/README.md, issue 26 item 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from adflux.ml.features import (
    CATEGORICAL_FEATURES,
    NUMERIC_FEATURES,
    SKILLS_FEATURE,
    MultiHotEncoder,
)


class CandidateFeatures(TransformerMixin, BaseEstimator):
    """Candidate frame → weighted float32 CSR: impute + scale numbers, one-hot categories, multi-hot skills.

    `weights` maps a block ("numeric", a categorical column, "skills") to its weight (missing: 1).
    Unknown categories and skills at transform encode as zeros (`handle_unknown="ignore"`).
    """

    def __init__(self, *, weights: Mapping[str, float] | None = None, max_skills: int | None = None):
        self.weights = weights
        self.max_skills = max_skills

    def fit(self, X: pd.DataFrame, y: Any = None) -> CandidateFeatures:
        """Learn the numbers' means and scales, each category's values and the skills vocabulary."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X: pd.DataFrame, y: Any = None, **fit_params: Any) -> Any:
        """Fit and return the feature matrix of `X` in one pass."""
        frame = self._frame(X, reset=True)
        self.numeric_: Pipeline = make_pipeline(SimpleImputer(strategy="mean"), StandardScaler())
        numeric = self.numeric_.fit_transform(frame[list(NUMERIC_FEATURES)])
        self.categories_ = [_categories(frame[name]) for name in CATEGORICAL_FEATURES]
        self.skills_ = MultiHotEncoder(max_tokens=self.max_skills, dtype=np.float32)
        skills = self.skills_.fit_transform(frame[[SKILLS_FEATURE]])
        return self._assemble(frame, numeric, skills)

    def transform(self, X: pd.DataFrame) -> Any:
        """The weighted float32 CSR feature matrix of `X`."""
        check_is_fitted(self)
        frame = self._frame(X, reset=False)
        numeric = self.numeric_.transform(frame[list(NUMERIC_FEATURES)])
        return self._assemble(frame, numeric, self.skills_.transform(frame[[SKILLS_FEATURE]]))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`numeric__age`, …, `city__city_Bogotá`, …, `skills__skills_python` (ColumnTransformer's names)."""
        check_is_fitted(self)
        names = [f"numeric__{name}" for name in NUMERIC_FEATURES]
        for name, values in zip(CATEGORICAL_FEATURES, self.categories_, strict=True):
            names.extend(f"{name}__{name}_{value}" for value in values)
        names.extend(f"skills__{name}" for name in self.skills_.get_feature_names_out([SKILLS_FEATURE]))
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # ---- internals -----------------------------------------------------------------------------
    def _frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"CandidateFeatures needs a candidate frame, got {type(X).__name__}")
        missing = [c for c in (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES, SKILLS_FEATURE) if c not in X]
        if missing:
            raise ValueError(f"frame lacks model input columns: {', '.join(missing)}")
        validate_data(self, X, reset=reset, skip_check_array=True)
        return X

    def _weight(self, block: str) -> float:
        return float((self.weights or {}).get(block, 1.0))

    def _assemble(self, frame: pd.DataFrame, numeric: np.ndarray, skills: Any) -> sp.csr_matrix:
        n = len(frame)
        blocks = [sp.csr_matrix(np.asarray(numeric, dtype=np.float32) * np.float32(self._weight("numeric")))]
        for name, values in zip(CATEGORICAL_FEATURES, self.categories_, strict=True):
            blocks.append(_one_hot(frame[name], values, n, np.float32(self._weight(name))))
        weight = self._weight("skills")
        skills = sp.csr_matrix(skills, dtype=np.float32)
        blocks.append(skills * np.float32(weight) if weight != 1.0 else skills)
        return sp.hstack(blocks, format="csr", dtype=np.float32)


def _categories(column: pd.Series) -> np.ndarray:
    """The values OneHotEncoder would learn: the distinct non-missing values, sorted."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.asarray(column.cat.codes, dtype=np.int64)
        present = np.bincount(codes[codes >= 0], minlength=len(column.cat.categories)) > 0
        values = np.asarray(column.cat.categories, dtype=object)[present]
    else:
        values = pd.unique(column.dropna().to_numpy(dtype=object))
    return np.asarray(sorted(values), dtype=object)


def _one_hot(column: pd.Series, values: np.ndarray, n: int, weight: np.float32) -> sp.csr_matrix:
    """One column per known value; a row with an unknown or missing value is all zeros."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.asarray(column.cat.codes, dtype=np.int64)
        lookup = pd.Index(values, dtype=object).get_indexer(pd.Index(column.cat.categories, dtype=object))
        # Code -1 (missing) reads the appended -1.
        columns = np.append(lookup, -1)[codes]
    else:
        columns = pd.Index(values, dtype=object).get_indexer(pd.Index(column.to_numpy(dtype=object)))
    known = columns >= 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(known, out=indptr[1:])
    data = np.full(int(indptr[-1]), weight, dtype=np.float32)
    return sp.csr_matrix((data, columns[known], indptr), shape=(n, len(values)))
