"""The feature spec: from candidate columns to the segmentation pipeline's input frame.

Only the columns in `SOURCE_COLUMNS` are ever read. Internal ids, emails, external references and
the simulated persona are never features, and no protected attribute exists to leak in (there is
no gender column). Age *is* a clustering feature, but platform targeting never uses it: the
compliance layer drops age targeting where employment-ad rules forbid it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from adflux.constants import EDUCATION_LEVELS
from adflux.ml.list_columns import column_block, token_counts
from adflux.ml.skills_lists import as_string, skills_array

logger = logging.getLogger(__name__)

# Candidate columns the segmentation reads, and nothing else.
SOURCE_COLUMNS: tuple[str, ...] = (
    "birth_year",
    "city",
    "department",
    "education_level",
    "years_experience",
    "desired_category",
    "desired_modality",
    "expected_salary",
    "skills",
)
NUMERIC_FEATURES: tuple[str, ...] = ("age", "education", "years_experience", "log_expected_salary")
CATEGORICAL_FEATURES: tuple[str, ...] = ("city", "department", "desired_category", "desired_modality")
SKILLS_FEATURE = "skills"
MODEL_INPUT_COLUMNS: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES, SKILLS_FEATURE)
# Shown in profiles when a categorical value is missing; one-hot gives it its own column.
MISSING_CATEGORY = "(sin dato)"

CandidateData: TypeAlias = pd.DataFrame | pa.Table | Sequence[Mapping[str, Any]]


def candidate_frame(data: CandidateData, *, reference_year: int) -> pd.DataFrame:
    """The pipeline's input frame (`MODEL_INPUT_COLUMNS`) from columnar candidate data.

    `data` is a pandas DataFrame, a pyarrow Table or a list of candidate dicts, with at least
    `SOURCE_COLUMNS`; other columns are ignored. Skills may be lists or JSON text.
    """
    table = _as_table(data)
    missing = [name for name in SOURCE_COLUMNS if name not in table.column_names]
    if missing:
        raise ValueError(f"candidate data lacks columns: {', '.join(missing)}")

    birth_year = _float_column(table["birth_year"])
    salary = _float_column(table["expected_salary"])
    # Negative or absent salaries are data errors: leave them to the imputer, not log().
    salary[~(salary >= 0)] = np.nan
    education = _education_index(as_string(table["education_level"]))
    columns: dict[str, Any] = {
        "age": (reference_year - birth_year).astype(np.float32),
        "education": education.astype(np.float32),
        "years_experience": _float_column(table["years_experience"]).astype(np.float32),
        "log_expected_salary": np.log1p(salary).astype(np.float32),
    }
    for name in CATEGORICAL_FEATURES:
        columns[name] = _categorical(as_string(table[name]))
    skills = skills_array(table["skills"])
    columns[SKILLS_FEATURE] = pd.array(skills, dtype=pd.ArrowDtype(skills.type))
    return pd.DataFrame(columns)


def source_table(data: CandidateData) -> pa.Table:
    """The candidate data as a pyarrow Table restricted to `SOURCE_COLUMNS` (for profiles and drift)."""
    table = _as_table(data)
    return table.select([name for name in SOURCE_COLUMNS if name in table.column_names])


class MultiHotEncoder(TransformerMixin, BaseEstimator):
    """Multi-hot encode columns whose cells hold several tokens, such as a candidate's skills.

    A cell is a list (or tuple, array, Arrow list) of tokens or a single scalar token; a missing
    cell encodes as all zeros. Per column the vocabulary is learned at fit: the `max_tokens` most
    frequent tokens seen at least `min_frequency` times. Unknown tokens are ignored at transform,
    like `OneHotEncoder(handle_unknown="ignore")`; the output is CSR unless `sparse_output=False`.
    """

    def __init__(
        self,
        *,
        max_tokens: int | None = None,
        min_frequency: int = 1,
        sparse_output: bool = True,
        dtype: Any = np.float64,
    ):
        self.max_tokens = max_tokens
        self.min_frequency = min_frequency
        self.sparse_output = sparse_output
        self.dtype = dtype

    def fit(self, X: Any, y: Any = None) -> MultiHotEncoder:
        """Learn one vocabulary per column."""
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be None or >= 1, got {self.max_tokens}")
        if self.min_frequency < 1:
            raise ValueError(f"min_frequency must be >= 1, got {self.min_frequency}")
        self.vocabularies_ = [self._vocabulary(column) for column in self._columns(X, reset=True)]
        return self

    def transform(self, X: Any) -> Any:
        """A 0/1 matrix (CSR when `sparse_output`) with one column per (input column, token)."""
        check_is_fitted(self)
        columns = self._columns(X, reset=False)
        blocks = [
            column_block(column, vocabulary, self.dtype)
            for column, vocabulary in zip(columns, self.vocabularies_, strict=True)
        ]
        out = blocks[0] if len(blocks) == 1 else sp.hstack(blocks, format="csr", dtype=self.dtype)
        return out if self.sparse_output else out.toarray()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`<column>_<token>` for every output column, as OneHotEncoder names them."""
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.asarray(
            [
                f"{name}_{token}"
                for name, vocab in zip(names, self.vocabularies_, strict=True)
                for token in vocab
            ],
            dtype=object,
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        # The output dtype is the `dtype` parameter, whatever the input was (as in OneHotEncoder).
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ---- internals -----------------------------------------------------------------------------
    def _columns(self, X: Any, *, reset: bool) -> list[Any]:
        if isinstance(X, pd.DataFrame):
            # check_array would turn Arrow list columns into Python objects; only the shape and
            # the column names need checking here.
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] < 1:
                raise ValueError(
                    f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required."
                )
            return [X.iloc[:, i] for i in range(X.shape[1])]
        X = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False, accept_sparse=False)
        return [X[:, i] for i in range(X.shape[1])]

    def _vocabulary(self, column: Any) -> np.ndarray:
        counts = token_counts(column)
        kept = [(-count, token) for token, count in counts.items() if count >= self.min_frequency]
        kept.sort()
        if self.max_tokens is not None:
            kept = kept[: self.max_tokens]
        return np.asarray(sorted(token for _, token in kept), dtype=object)


# ---- helpers ------------------------------------------------------------------------------------


def _as_table(data: CandidateData) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data, preserve_index=False)
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return pa.Table.from_pylist([dict(row) for row in data])
    raise TypeError(f"expected a DataFrame, a pyarrow Table or a list of dicts, got {type(data).__name__}")


def _dictionary(values: pa.ChunkedArray) -> tuple[np.ndarray, list[Any]]:
    """Each row's code (-1: null) and the distinct values, in order of first appearance."""
    encoded = pc.dictionary_encode(values).combine_chunks()
    if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - depends on the pyarrow version
        encoded = encoded.chunk(0)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, encoded.dictionary.to_pylist()


def _categorical(values: pa.ChunkedArray) -> pd.Categorical:
    """Codes plus a handful of Python strings, not a million str objects (OneHotEncoder is faster).

    A missing or blank value is `MISSING_CATEGORY`. The distinct values are cleaned, not every
    row: the categories come out in the order in which they first appear, as from encoding the
    cleaned rows.
    """
    codes, distinct = _dictionary(values)
    cleaned = [v if v.strip() else MISSING_CATEGORY for v in distinct]
    if len(set(cleaned)) == len(cleaned) and not bool((codes < 0).any()):  # nothing merged
        return pd.Categorical.from_codes(codes, categories=pd.Index(cleaned, dtype=object))
    cleaned.append(MISSING_CATEGORY)  # code -1 (null) reads it
    categories = list(dict.fromkeys(cleaned))
    merged = np.asarray([categories.index(v) for v in cleaned], dtype=np.int64)[codes]
    # Order by first appearance; a category no row holds (MISSING_CATEGORY, maybe) is left out.
    present, first = np.unique(merged, return_index=True)
    order = present[np.argsort(first)]
    position = np.full(len(categories), -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    return pd.Categorical.from_codes(
        position[merged], categories=pd.Index([categories[i] for i in order], dtype=object)
    )


def _education_index(values: pa.ChunkedArray) -> np.ndarray:
    """Each row's index in `EDUCATION_LEVELS` (case-insensitive), NaN when unknown or missing."""
    codes, distinct = _dictionary(values)
    levels = {level: float(i) for i, level in enumerate(EDUCATION_LEVELS)}
    lookup = np.asarray([levels.get(v.lower(), np.nan) for v in distinct] + [np.nan], dtype=np.float64)
    return lookup[codes]


def _float_column(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    # Nulls become NaN so the pipeline's imputer sees them.
    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64).copy()
