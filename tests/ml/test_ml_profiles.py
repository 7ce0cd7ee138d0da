"""Segments people can read: Spanish names and descriptions, profiles, PCA picture."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from adflux.ml.evaluation import majority_mapping
from adflux.ml.profiles import (
    age_band,
    fit_pca,
    pca_centroids,
    pca_projection,
    profile_segments,
    sample_indices,
)
from adflux.ml.training import TrainingResult

# "<categoría> · <ciudad o 'varias ciudades'> · <educación> · <banda de edad>", maybe a suffix.
NAME = re.compile(r"^[^·]+ · [^·]+ · [a-záéíóúñ]+ · (18–24|25–34|35–44|45–54|55\+)( · .+)?$")


def _profiles(frame: pd.DataFrame, trained: TrainingResult):
    return profile_segments(frame, trained.labels, k=trained.k)


def test_every_segment_gets_a_unique_spanish_name_and_one_sentence_description(
    frame: pd.DataFrame, trained: TrainingResult
) -> None:
    profiles = _profiles(frame, trained)
    names = [p.name for p in profiles]
    assert len(set(names)) == len(names)
    for p in profiles:
        assert NAME.match(p.name), p.name
        assert p.description.endswith(".") and p.description.count(".") >= 1
        assert "candidatos" in p.description and "COP" in p.description


def test_segment_names_say_what_distinguishes_the_persona(
    frame: pd.DataFrame, trained: TrainingResult, candidates: pd.DataFrame
) -> None:
    profiles = {p.cluster_index: p for p in _profiles(frame, trained)}
    persona_of = majority_mapping(candidates["persona_index"], trained.labels)
    # Persona 0 of the fixture: tecnología, Bogotá, profesional, about 29 years old.
    tech = profiles[next(c for c, persona in persona_of.items() if persona == 0)]
    assert tech.name.startswith("Tecnología · Bogotá · profesional · 25–34")
    # Persona 3: logística in Barranquilla, bachiller, about 41.
    logistics = profiles[next(c for c, persona in persona_of.items() if persona == 3)]
    assert logistics.name.startswith("Logística y transporte · Barranquilla · bachiller · 35–44")
    assert "Logística y transporte".lower() in logistics.description


def test_profile_holds_sizes_distributions_and_medians(frame: pd.DataFrame, trained: TrainingResult) -> None:
    profiles = _profiles(frame, trained)
    assert sum(p.size for p in profiles) == len(frame)
    assert sum(p.share for p in profiles) == np.float64(1.0) or abs(sum(p.share for p in profiles) - 1) < 1e-9
    for p in profiles:
        prof = p.profile
        for key in (
            "top_cities",
            "education",
            "top_categories",
            "modality",
            "top_skills",
            "age_distribution",
        ):
            assert prof[key], key
        assert abs(sum(row["share"] for row in prof["education"]) - 1) < 1e-3
        assert prof["median_expected_salary"] > 1_000_000
        assert 18 <= prof["median_age"] <= 65
        assert prof["age_band"] == age_band(prof["median_age"])
        assert p.distinctive and all(row["lift"] >= 1 for row in p.distinctive[:1])


def test_pca_centroids_and_projection_are_in_the_same_plane(
    frame: pd.DataFrame, trained: TrainingResult
) -> None:
    rows = sample_indices(len(frame), 1000, random_state=0)
    sample = frame.iloc[rows]
    pca = fit_pca(trained.pipeline, sample)
    centroids = pca_centroids(trained.pipeline, pca)
    assert centroids.shape == (trained.k, 2)
    points = pca_projection(trained.pipeline, pca, sample)
    assert len(points) == len(sample)
    assert set(points[0]) == {"x", "y", "segment"}
    # Each segment's projected members sit around its projected centroid.
    df = pd.DataFrame(points)
    means = df.groupby("segment")[["x", "y"]].mean().sort_index().to_numpy()
    assert np.abs(means - centroids[np.unique(df["segment"])]).max() < 0.5


def test_age_bands() -> None:
    assert [age_band(a) for a in (18, 24, 25, 34, 35, 50, 70)] == [
        "18–24",
        "18–24",
        "25–34",
        "25–34",
        "35–44",
        "45–54",
        "55+",
    ]
    assert age_band(float("nan")) == "edad desconocida"


def test_profiling_a_sample_keeps_exact_sizes_and_close_shares(
    frame: pd.DataFrame, trained: TrainingResult
) -> None:
    full = {
        p.cluster_index: p for p in profile_segments(frame, trained.labels, k=trained.k, sample_size=None)
    }
    sampled = profile_segments(frame, trained.labels, k=trained.k, sample_size=1500, random_state=3)
    for p in sampled:
        assert p.size == full[p.cluster_index].size and p.share == full[p.cluster_index].share
        top = p.profile["top_categories"][0]
        assert top["value"] == full[p.cluster_index].profile["top_categories"][0]["value"]
