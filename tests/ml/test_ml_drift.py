"""Drift: near zero on the same distribution, large when candidates change."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd

from adflux.ml.drift import MODERATE_PSI, compute_drift, psi, reference_profile, share_shift_status, status
from adflux.ml.features import candidate_frame
from adflux.ml.training import TrainingResult


def test_reference_profile_is_json(frame: pd.DataFrame, trained: TrainingResult) -> None:
    profile = reference_profile(frame, trained.labels, k=trained.k)
    assert json.loads(json.dumps(profile)) == profile
    assert set(profile["numeric"]) == {"age", "education", "years_experience", "log_expected_salary"}
    assert "skills" in profile["categorical"] and len(profile["segments"]) == trained.k


def test_drift_is_near_zero_on_a_fresh_sample_of_the_same_population(
    make_candidates: Callable[..., pd.DataFrame],
    frame: pd.DataFrame,
    trained: TrainingResult,
    reference_year: int,
) -> None:
    reference = reference_profile(frame, trained.labels, k=trained.k)
    fresh = candidate_frame(make_candidates(3000, seed=99), reference_year=reference_year)
    report = compute_drift(reference, fresh, trained.pipeline.predict(fresh))
    assert report["score"] < 0.05, report
    assert report["status"] == "stable"
    assert report["drifted_features"] == []
    assert report["segments"]["max_share_shift"] < 0.05


def test_drift_is_large_when_the_population_shifts(
    make_candidates: Callable[..., pd.DataFrame],
    frame: pd.DataFrame,
    trained: TrainingResult,
    reference_year: int,
) -> None:
    reference = reference_profile(frame, trained.labels, k=trained.k)
    # Only two of the six personas keep coming, ten years older and asking double the salary.
    shifted = make_candidates(3000, seed=7, personas=2)
    shifted = shifted.assign(
        birth_year=shifted["birth_year"] - 10, expected_salary=shifted["expected_salary"] * 2
    )
    current = candidate_frame(shifted, reference_year=reference_year)
    report = compute_drift(reference, current, trained.pipeline.predict(current))
    assert report["status"] == "significant"
    assert report["features"]["age"]["psi"] > 0.25
    assert report["features"]["log_expected_salary"]["psi"] > 0.25
    assert report["features"]["desired_category"]["psi"] > 0.25
    assert report["segments"]["psi"] > 0.25
    assert {"age", "log_expected_salary", "desired_category"} <= set(report["drifted_features"])


def test_unseen_categories_count_as_drift(frame: pd.DataFrame) -> None:
    reference = reference_profile(frame)
    current = frame.copy()
    current["city"] = pd.Categorical(["Ciudad nueva"] * len(frame))
    report = compute_drift(reference, current)
    assert report["features"]["city"]["status"] == "significant"
    assert "segments" not in report


def test_psi_basics() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert psi([0.9, 0.1], [0.1, 0.9]) > 1
    assert np.isfinite(psi([1.0, 0.0], [0.0, 1.0]))
    assert [status(v) for v in (0.05, 0.1, 0.3)] == ["stable", "moderate", "significant"]


def test_a_segment_share_shift_beyond_three_points_is_drift_and_names_the_segment(
    make_candidates: Callable[..., pd.DataFrame],
    frame: pd.DataFrame,
    trained: TrainingResult,
    reference_year: int,
) -> None:
    reference = reference_profile(frame, trained.labels, k=trained.k)
    fresh = make_candidates(3000, seed=99)
    # One persona (the young customer-service one) arrives in extra numbers: +7 % of the base.
    extra = make_candidates(2400, seed=5)
    extra = extra[extra["persona_index"] == 5].head(200)
    current = candidate_frame(pd.concat([fresh, extra], ignore_index=True), reference_year=reference_year)
    labels = trained.pipeline.predict(current)
    report = compute_drift(reference, current, labels)
    segments = report["segments"]
    grown = int(np.argmax(segments["shifts"]))
    assert segments["max_share_shift"] > 0.03
    assert segments["psi"] < MODERATE_PSI, "the PSI alone would call this stable"
    assert report["status"] in {"moderate", "significant"}
    assert grown in report["shifted_segments"] and report["shifted_segments"] == segments["shifted_segments"]
    assert all(abs(segments["shifts"][i]) > 0.03 for i in report["shifted_segments"])
    # The same data with a looser threshold is stable again.
    loose = compute_drift(reference, current, labels, share_shift_threshold=0.2)
    assert loose["shifted_segments"] == [] and loose["status"] == "stable"


def test_share_shift_status_reading() -> None:
    assert [share_shift_status(v) for v in (0.02, 0.03, 0.031, 0.09, 0.1)] == [
        "stable",
        "stable",
        "moderate",
        "moderate",
        "significant",
    ]


def test_current_features_are_read_from_a_sample_as_the_reference_was_and_shares_from_every_label(
    frame: pd.DataFrame, trained: TrainingResult
) -> None:
    """Beyond `sample_size` rows the current side's features are binned on a uniform sample (as
    `reference_profile` bins its own); what it reports stays that of a full pass, and segment
    shares and `n_current` still count every candidate."""
    reference = reference_profile(frame, trained.labels, k=trained.k)
    half = len(frame) // 2
    current = frame.iloc[:half]  # a shift in segment shares only if the frame's order had one
    labels = trained.labels[:half].copy()
    labels[: half // 4] = 0  # segment 0 grows: seen only if every label is counted
    full = compute_drift(reference, current, labels, sample_size=None)
    sampled = compute_drift(reference, current, labels, sample_size=half // 2, random_state=3)
    assert sampled["n_current"] == full["n_current"] == half
    assert sampled["segments"] == full["segments"] and 0 in sampled["shifted_segments"]
    for name, report in full["features"].items():
        assert abs(sampled["features"][name]["psi"] - report["psi"]) < 0.02, name
    assert sampled["features"] != full["features"]  # another set of rows was read
    # The default samples only past DEFAULT_SAMPLE_SIZE: at this size it reads every row.
    assert compute_drift(reference, current, labels) == full
