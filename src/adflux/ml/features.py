"""The feature spec: from candidate columns to the segmentation pipeline's input frame.

Only the columns in `SOURCE_COLUMNS` are ever read. Internal ids, emails, external references and
the simulated persona are never features, and no protected attribute exists to leak in (there is
no gender column). Age *is* a clustering feature, but platform targeting never uses it: the
compliance layer drops age targeting where employment-ad rules forbid it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from adflux.constants import EDUCATION_LEVELS
from adflux.ml.list_columns import LIST_OF_STRINGS, column_block, token_counts

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
    education = _education_index(_as_string(table["education_level"]))
    columns: dict[str, Any] = {
        "age": (reference_year - birth_year).astype(np.float32),
        "education": education.astype(np.float32),
        "years_experience": _float_column(table["years_experience"]).astype(np.float32),
        "log_expected_salary": np.log1p(salary).astype(np.float32),
    }
    for name in CATEGORICAL_FEATURES:
        columns[name] = _categorical(_as_string(table[name]))
    skills = _skills_array(table["skills"])
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


def _as_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_null(column.type) or not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    return column


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


def joined_skills(joined: pa.ChunkedArray, json_text: pa.ChunkedArray, separator: str) -> pa.ChunkedArray:
    """Skills from token text joined by `separator`, or JSON array text where the joined cell is null.

    Dictionary-encoded list<string>, as `candidate_frame` keeps skills: each distinct joined
    text is split once; the rows without one (rare) are parsed from their JSON and appended.
    An empty joined text is an empty list; a null JSON text too.
    """
    encoded = pc.dictionary_encode(joined).combine_chunks()
    if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - depends on the pyarrow version
        encoded = encoded.chunk(0)
    texts = encoded.dictionary
    texts = pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)
    values = pc.fill_null(pc.split_pattern(texts, separator), pa.scalar([], type=LIST_OF_STRINGS))
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    missing = indices < 0
    if missing.any():
        parsed = _skills_array(json_text.filter(pa.array(missing))).combine_chunks()
        decoded = parsed.dictionary.take(parsed.indices) if pa.types.is_dictionary(parsed.type) else parsed
        indices[missing] = len(values) + np.arange(int(missing.sum()), dtype=np.int32)
        values = pa.concat_arrays([values.cast(LIST_OF_STRINGS), decoded.cast(LIST_OF_STRINGS)])
    return pa.chunked_array([pa.DictionaryArray.from_arrays(pa.array(indices), values)])


def _skills_array(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Skills as list<string> (or dictionary-encoded list<string> from JSON text); null cells become []."""
    if pa.types.is_dictionary(column.type) and pa.types.is_list(column.type.value_type):
        return column  # already split (joined_skills)
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        column = column.cast(LIST_OF_STRINGS)
        return pa.chunked_array([_drop_empty_tokens(chunk) for chunk in column.chunks], type=LIST_OF_STRINGS)
    if pa.types.is_null(column.type):
        return pa.chunked_array([pa.array([[]] * len(column), type=LIST_OF_STRINGS)])
    column = pc.fill_null(_as_string(column), "[]")
    # Candidates share skill lists (73k distinct among a million simulated ones): parse each
    # distinct text once and expand with a take, ~3x faster than parsing every row.
    # The column stays dictionary-encoded (distinct lists + one index per candidate): the
    # multi-hot encoder then encodes each distinct list once and picks rows by index.
    encoded = pc.dictionary_encode(column).combine_chunks()
    if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - depends on the pyarrow version
        encoded = encoded.chunk(0)
    parsed = _parse_json_texts(pa.chunked_array([encoded.dictionary])).combine_chunks()
    return pa.chunked_array([pa.DictionaryArray.from_arrays(encoded.indices, parsed)])


def _parse_json_texts(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """JSON array texts (no nulls) to list<string>."""
    # Plain `["a", "b"]` text (as PostgreSQL jsonb and json.dumps write it, or compact `["a","b"]`)
    # splits on the literal separator: without backslashes no quote can occur inside a token, so
    # `", "` can only be a separator. ~5x faster than the regular-expression path.
    if not _any_match(column, r'\\|""') and _canonically_shaped(column):
        spaced, compact = _any_match(column, '", "'), _any_match(column, '","')
        if not (spaced and compact):  # one separator style throughout (jsonb: `", "`; compact: `","`)
            separator = '","' if compact else '", "'
            chunks = [_split_canonical(chunk, separator) for chunk in column.chunks]
            return pa.chunked_array(chunks, type=LIST_OF_STRINGS)
    if _any_match(column, r"\\"):
        # Escapes (\u00e1, \") need a real JSON parser.
        return pa.chunked_array([pa.array(_json_lists(column.to_pylist()), type=LIST_OF_STRINGS)])
    return pa.chunked_array([_split_json_lists(chunk) for chunk in column.chunks], type=LIST_OF_STRINGS)


def _any_match(column: pa.ChunkedArray, pattern: str) -> bool:
    return bool(pc.any(pc.match_substring_regex(column, pattern)).as_py())


def _canonically_shaped(column: pa.ChunkedArray) -> bool:
    shaped = pc.or_(
        pc.equal(column, "[]"),
        pc.and_(pc.starts_with(column, '["'), pc.ends_with(column, '"]')),
    )
    return bool(pc.all(shaped).as_py())


def _split_canonical(chunk: pa.Array, separator: str) -> pa.Array:
    inner = pc.utf8_slice_codeunits(chunk, 2, -2)  # '["a", "b"]' -> 'a", "b'; '[]' -> ''
    inner = pc.if_else(pc.equal(inner, ""), pa.scalar(None, pa.string()), inner)
    return pc.fill_null(pc.split_pattern(inner, separator), pa.scalar([], type=LIST_OF_STRINGS))


def _json_lists(values: Iterable[str | None]) -> list[list[str]]:
    out = []
    for value in values:
        parsed = json.loads(value) if value else []
        out.append([str(token) for token in parsed] if isinstance(parsed, list) else [str(parsed)])
    return out


def _split_json_lists(chunk: pa.Array) -> pa.Array:
    # '[ "a" ,"b, c"]' -> ['a', 'b, c']: strip the brackets and the outer quotes, then split only
    # between a closing and an opening quote.
    inner = pc.replace_substring_regex(chunk, r'^\s*\[\s*"?|"?\s*\]\s*$', "")
    return _drop_empty_tokens(pc.split_pattern_regex(inner, r'"\s*,\s*"'))


def _drop_empty_tokens(lists: pa.Array) -> pa.Array:
    lists = pc.fill_null(lists, pa.scalar([], type=lists.type))
    values = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    keep = pc.and_(pc.is_valid(values), pc.not_equal(pc.utf8_length(pc.fill_null(values, "")), 0))
    keep_np = keep.to_numpy(zero_copy_only=False)
    counts = np.bincount(parents[keep_np], minlength=len(lists))
    offsets = np.zeros(len(lists) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), values.filter(keep))
