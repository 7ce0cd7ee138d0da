"""`CandidateFeatures` builds exactly the matrix the ColumnTransformer (`build_features`) builds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from adflux.ml.feature_matrix import CandidateFeatures
from adflux.ml.features import CATEGORICAL_FEATURES, SOURCE_COLUMNS
from adflux.ml.pipeline import DEFAULT_MAX_SKILLS, DEFAULT_WEIGHTS, build_features, build_segmenter


def _reference(frame: pd.DataFrame, **kwargs: object) -> sp.csr_matrix:
    return sp.csr_matrix(build_features(**kwargs).fit_transform(frame), dtype=np.float32)  # type: ignore[arg-type]


def _assert_same(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape
    assert a.dtype == b.dtype == np.float32
    assert abs(a - b).max() == 0
    assert a.nnz == b.nnz


def test_the_same_matrix_and_names_as_the_column_transformer(frame: pd.DataFrame) -> None:
    features = CandidateFeatures(weights=DEFAULT_WEIGHTS, max_skills=DEFAULT_MAX_SKILLS)
    X = features.fit_transform(frame)
    assert sp.isspmatrix_csr(X)
    _assert_same(X, _reference(frame))
    reference = build_features().fit(frame)
    assert list(features.get_feature_names_out()) == list(reference.get_feature_names_out())
    # fit then transform gives what fit_transform gave
    _assert_same(CandidateFeatures(weights=DEFAULT_WEIGHTS, max_skills=100).fit(frame).transform(frame), X)


def test_plain_string_columns_and_other_weights_encode_the_same(frame: pd.DataFrame) -> None:
    plain = frame.assign(**{name: frame[name].astype(object) for name in CATEGORICAL_FEATURES})
    weights = {"numeric": 2.0, "city": 0.3, "skills": 0.5}
    X = CandidateFeatures(weights=weights, max_skills=5).fit_transform(plain)
    _assert_same(X, _reference(frame, weights=weights, max_skills=5))


def test_rows_transformed_later_match_and_unknown_values_are_zeros(frame: pd.DataFrame) -> None:
    features = CandidateFeatures(weights=DEFAULT_WEIGHTS, max_skills=DEFAULT_MAX_SKILLS)
    X = features.fit_transform(frame)
    _assert_same(features.transform(frame.iloc[100:160]), X[100:160])
    novel = frame.head(2).copy()
    novel["city"] = pd.Categorical(["Ciudad nueva", None])
    novel["skills"] = pd.Series([["habilidad nunca vista"], []], dtype=frame["skills"].dtype)
    row = features.transform(novel)
    names = features.get_feature_names_out()
    city = np.array([n.startswith("city__") for n in names])
    skills = np.array([n.startswith("skills__") for n in names])
    assert row[:, city].nnz == 0 and row[:, skills].nnz == 0
    # the other blocks are the known row's
    others = ~(city | skills)
    _assert_same(row[:1, others], X[:1, others])


def test_a_frame_without_a_model_column_is_refused(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="city"):
        CandidateFeatures().fit(frame.drop(columns=["city"]))
    with pytest.raises(TypeError):
        CandidateFeatures().fit(frame.to_numpy())


def test_the_segmenter_assigns_as_with_the_column_transformer(frame: pd.DataFrame) -> None:
    ours = build_segmenter(4, random_state=3).fit(frame)
    assert isinstance(ours.named_steps["features"], CandidateFeatures)
    reference = build_segmenter(4, random_state=3)
    reference.steps[0] = ("features", build_features())
    reference.fit(frame)
    np.testing.assert_array_equal(ours.predict(frame), reference.predict(frame))


def test_the_bulk_reader_names_the_feature_columns_and_the_skills_separator() -> None:
    # candidate_read keeps its own copies so that it imports no feature code and no models before
    # its read
    from adflux.models.skills_text import SEPARATOR
    from adflux.services import candidate_read

    assert candidate_read.SOURCE_COLUMNS == SOURCE_COLUMNS
    assert candidate_read.SKILLS_SEPARATOR == SEPARATOR


def test_a_few_rows_of_a_dictionary_encoded_skills_column_encode_as_their_rows_of_the_whole():
    """A sample keeps its column's whole dictionary; only the lists its rows hold are encoded."""
    import pyarrow as pa

    from adflux.ml.features import MultiHotEncoder
    from adflux.ml.list_columns import list_column

    rng = np.random.default_rng(1)
    vocabulary = [f"skill {i}" for i in range(60)]
    distinct = [
        [vocabulary[j] for j in rng.choice(60, rng.integers(0, 5), replace=False)] for _ in range(3_000)
    ]
    indices = rng.integers(-1, 3_000, 20_000)
    array = pa.DictionaryArray.from_arrays(
        pa.array(indices, mask=indices < 0), pa.array(distinct, type=pa.list_(pa.string()))
    )
    column = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([array])), name="skills")
    encoder = MultiHotEncoder(max_tokens=40, dtype=np.float32).fit(column.to_frame())
    whole = encoder.transform(column.to_frame())
    rows = np.sort(rng.choice(20_000, 500, replace=False))
    sample = column.iloc[rows]
    lists = list_column(sample)
    assert lists is not None and len(lists.values) <= 500  # not the 3,000 of the whole column
    assert (encoder.transform(sample.to_frame()) != whole[rows]).nnz == 0
    assert (lists.indices < 0).sum() == (indices[rows] < 0).sum()  # missing lists stay missing
