"""The feature spec and the custom transformers obey scikit-learn's contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sklearn.utils.estimator_checks import parametrize_with_checks

from adflux.ml.features import (
    MISSING_CATEGORY,
    MODEL_INPUT_COLUMNS,
    MultiHotEncoder,
    candidate_frame,
)
from adflux.ml.pipeline import Float32Cast, build_segmenter


@parametrize_with_checks([MultiHotEncoder(), MultiHotEncoder(sparse_output=False), Float32Cast()])
def test_custom_transformers_follow_the_sklearn_estimator_contract(estimator, check) -> None:
    check(estimator)


def test_candidate_frame_holds_only_model_features(candidates: pd.DataFrame, reference_year: int) -> None:
    frame = candidate_frame(candidates, reference_year=reference_year)
    assert tuple(frame.columns) == MODEL_INPUT_COLUMNS
    for private in ("id", "email", "external_ref", "persona", "persona_index", "birth_year"):
        assert private not in frame.columns


def test_candidate_frame_derives_age_education_ordinal_and_log_salary() -> None:
    rows = [
        {
            "birth_year": 1995,
            "city": "Bogotá D.C.",
            "department": "Bogotá D.C.",
            "education_level": "Profesional",
            "years_experience": 4,
            "desired_category": "tecnologia",
            "desired_modality": "remoto",
            "expected_salary": 5_000_000,
            "skills": ["Python", "SQL"],
        },
        {
            "birth_year": None,
            "city": None,
            "department": "",
            "education_level": "desconocido",
            "years_experience": None,
            "desired_category": "ventas",
            "desired_modality": "presencial",
            "expected_salary": -1,
            "skills": None,
        },
    ]
    frame = candidate_frame(rows, reference_year=2025)
    assert frame.loc[0, "age"] == 30
    assert frame.loc[0, "education"] == 3  # "profesional" in the Colombian ladder, case-insensitive
    assert frame.loc[0, "log_expected_salary"] == pytest.approx(np.log1p(5_000_000), rel=1e-6)
    # Missing or invalid numbers are left to the pipeline's imputer.
    assert np.isnan(
        frame.loc[1, ["age", "education", "years_experience", "log_expected_salary"]].astype(float)
    ).all()
    assert frame.loc[1, "city"] == MISSING_CATEGORY
    assert frame.loc[1, "department"] == MISSING_CATEGORY
    assert frame["skills"].tolist()[1] == []


def test_skills_as_json_text_give_the_same_frame_as_lists(
    candidates: pd.DataFrame, reference_year: int
) -> None:
    as_json = candidates.assign(skills=[json.dumps(s, ensure_ascii=False) for s in candidates["skills"]])
    escaped = candidates.assign(skills=[json.dumps(s) for s in candidates["skills"]])  # \u00e1 escapes
    expected = candidate_frame(candidates, reference_year=reference_year)["skills"].tolist()
    assert candidate_frame(as_json, reference_year=reference_year)["skills"].tolist() == expected
    assert candidate_frame(escaped, reference_year=reference_year)["skills"].tolist() == expected


def test_candidate_frame_accepts_an_arrow_table(candidates: pd.DataFrame, reference_year: int) -> None:
    table = pa.Table.from_pandas(candidates, preserve_index=False)
    pd.testing.assert_frame_equal(
        candidate_frame(table, reference_year=reference_year),
        candidate_frame(candidates, reference_year=reference_year),
    )


def test_candidate_frame_names_missing_columns() -> None:
    with pytest.raises(ValueError, match="expected_salary"):
        candidate_frame(pd.DataFrame({"birth_year": [1990]}), reference_year=2025)


def test_multi_hot_encoder_learns_the_most_frequent_tokens_and_ignores_unknown_ones() -> None:
    X = pd.DataFrame({"skills": [["a", "b"], ["a"], ["a", "c", "c"], [], None]})
    encoder = MultiHotEncoder(max_tokens=2, sparse_output=False).fit(X)
    assert encoder.vocabularies_[0].tolist() == ["a", "c"]
    assert encoder.get_feature_names_out().tolist() == ["skills_a", "skills_c"]
    out = encoder.transform(pd.DataFrame({"skills": [["c", "c", "zzz"], ["b"]]}))
    np.testing.assert_array_equal(out, [[0, 1], [0, 0]])


def test_multi_hot_encoder_gives_the_same_result_for_arrow_and_python_lists(frame: pd.DataFrame) -> None:
    arrow = frame[["skills"]]
    python = pd.DataFrame({"skills": pd.Series(arrow["skills"].tolist(), dtype=object)})
    a = MultiHotEncoder().fit(arrow)
    b = MultiHotEncoder().fit(python)
    np.testing.assert_array_equal(a.vocabularies_[0], b.vocabularies_[0])
    assert (a.transform(arrow) != b.transform(python)).nnz == 0
    assert sp.issparse(a.transform(arrow))


def test_pipeline_output_is_float32_and_unknown_categories_are_ignored(frame: pd.DataFrame) -> None:
    pipeline = build_segmenter(3).fit(frame)
    X = pipeline[:-1].transform(frame.head(50))
    assert X.dtype == np.float32
    novel = frame.head(1).copy()
    novel["city"] = pd.Categorical(["Ciudad nueva"])
    novel["skills"] = pd.Series([["habilidad nunca vista"]], dtype=frame["skills"].dtype)
    assert pipeline.predict(novel).shape == (1,)


def test_pipeline_exposes_nested_parameters_by_step_name() -> None:
    pipeline = build_segmenter(4, random_state=7)
    params = pipeline.get_params()
    assert params["cluster__n_clusters"] == 4
    assert params["cluster__random_state"] == 7
    assert params["cluster__n_init"] == "auto"
    assert [name for name, _ in pipeline.steps] == ["features", "float32", "cluster"]


def test_json_skills_stay_dictionary_encoded_and_encode_like_plain_lists(
    candidates: pd.DataFrame, reference_year: int
) -> None:
    from adflux.ml.features import token_counts
    from adflux.ml.profiles import profile_segments

    as_json = candidates.assign(skills=[json.dumps(s, ensure_ascii=False) for s in candidates["skills"]])
    as_json.loc[3, "skills"] = None  # a missing list
    encoded = candidate_frame(as_json, reference_year=reference_year)
    plain = candidate_frame(
        as_json.assign(skills=[json.loads(v) if isinstance(v, str) else [] for v in as_json["skills"]]),
        reference_year=reference_year,
    )
    assert pa.types.is_dictionary(encoded["skills"].dtype.pyarrow_dtype)
    assert encoded["skills"].tolist() == plain["skills"].tolist()
    assert token_counts(encoded["skills"]) == token_counts(plain["skills"])
    a, b = MultiHotEncoder().fit(encoded[["skills"]]), MultiHotEncoder().fit(plain[["skills"]])
    np.testing.assert_array_equal(a.vocabularies_[0], b.vocabularies_[0])
    assert (a.transform(encoded[["skills"]]) != b.transform(plain[["skills"]])).nnz == 0
    labels = np.arange(len(encoded)) % 3
    top = [p.profile["top_skills"] for p in profile_segments(encoded, labels, k=3, sample_size=None)]
    assert top == [p.profile["top_skills"] for p in profile_segments(plain, labels, k=3, sample_size=None)]
