"""Properties of the simulated candidate generator: deterministic, chunk-invariant, in range."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from adflux.constants import EDUCATION_LEVELS, JOB_CATEGORIES, MODALITIES
from adflux.simulation import (
    CANDIDATE_COLUMNS,
    CITY_DEPARTMENT,
    LANGUAGES,
    PERSONA_NAMES,
    SKILLS,
    CandidateBatch,
    generate_candidates,
)
from adflux.simulation.candidates import MAX_AGE, MIN_AGE
from adflux.simulation.market import MAXIMUM_EXPECTED_SALARY, MINIMUM_WAGE
from adflux.simulation.streams import BLOCK_SIZE

seeds = st.integers(min_value=-(2**40), max_value=2**63)
FIELDS = [name for name in CandidateBatch.__dataclass_fields__ if name != "as_of"]


def assert_same(a: CandidateBatch, b: CandidateBatch) -> None:
    assert len(a) == len(b)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@settings(max_examples=20, deadline=None)
@given(seed=seeds, start=st.integers(0, 3 * BLOCK_SIZE), n=st.integers(0, 2_000))
def test_same_seed_gives_the_same_candidates(seed: int, start: int, n: int) -> None:
    first = generate_candidates(n, seed=seed, start=start)
    assert_same(first, generate_candidates(n, seed=seed, start=start))


@settings(max_examples=20, deadline=None)
@given(
    seed=seeds,
    start=st.integers(0, 2 * BLOCK_SIZE),
    cuts=st.lists(st.integers(0, 1_500), min_size=1, max_size=4),
)
def test_chunked_generation_equals_one_call(seed: int, start: int, cuts: list[int]) -> None:
    whole = generate_candidates(sum(cuts), seed=seed, start=start)
    chunks, offset = [], start
    for size in cuts:
        chunks.append(generate_candidates(size, seed=seed, start=offset))
        offset += size
    assert_same(whole, CandidateBatch.concat(chunks))


def test_chunks_across_block_boundaries_match_one_call() -> None:
    whole = generate_candidates(2 * BLOCK_SIZE + 10, seed=5, start=BLOCK_SIZE - 7)
    parts = [
        generate_candidates(7, seed=5, start=BLOCK_SIZE - 7),
        generate_candidates(BLOCK_SIZE + 1, seed=5, start=BLOCK_SIZE),
        generate_candidates(BLOCK_SIZE + 2, seed=5, start=2 * BLOCK_SIZE + 1),
    ]
    assert_same(whole, CandidateBatch.concat(parts))


def test_different_seeds_give_different_candidates() -> None:
    a, b = generate_candidates(500, seed=1), generate_candidates(500, seed=2)
    assert not np.array_equal(a.expected_salary, b.expected_salary)
    c = generate_candidates(500, seed=-1)
    assert not np.array_equal(a.expected_salary, c.expected_salary)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, start=st.integers(0, 10**6), n=st.integers(1, 3_000))
def test_every_column_is_in_range(seed: int, start: int, n: int) -> None:
    batch = generate_candidates(n, seed=seed, start=start)
    year = batch.as_of.year

    ages = year - batch.birth_year.astype(int)
    assert ages.min() >= MIN_AGE and ages.max() <= MAX_AGE
    assert (batch.years_experience >= 0).all()
    assert (batch.years_experience <= np.maximum(ages - 16, 0)).all()
    assert batch.expected_salary.min() >= MINIMUM_WAGE
    assert batch.expected_salary.max() <= MAXIMUM_EXPECTED_SALARY
    assert set(batch.education_level) <= set(EDUCATION_LEVELS)
    assert set(batch.desired_category) <= set(JOB_CATEGORIES)
    assert set(batch.desired_modality) <= set(MODALITIES)
    assert set(batch.persona) <= set(PERSONA_NAMES)
    for city, department in zip(batch.city, batch.department, strict=True):
        assert CITY_DEPARTMENT[city] == department

    refs = batch.external_ref
    assert len(set(refs)) == n
    assert refs[0] == f"SIM-C-{start + 1:07d}"
    assert all(email.endswith("@example.com") for email in batch.email)
    assert len(set(batch.email)) == n

    last_active = batch.last_active_at.astype("datetime64[us]").astype(datetime)
    as_of = batch.as_of.replace(tzinfo=None)
    assert all(as_of - timedelta(days=731) <= t <= as_of for t in last_active)
    for skills, languages in zip(batch.skills, batch.languages, strict=True):
        assert set(skills) <= set(SKILLS) and len(skills) == len(set(skills))
        assert languages[0] == "Español" and set(languages) <= set(LANGUAGES)


def test_marginals_look_like_the_colombian_market() -> None:
    batch = generate_candidates(20_000, seed=11)
    consent = batch.marketing_consent.mean()
    assert 0.67 < consent < 0.73
    cities = dict(zip(*np.unique(batch.city, return_counts=True), strict=True))
    # Bogotá is the biggest labour market by far, then Medellín and Cali.
    ranked = sorted(cities, key=cities.__getitem__, reverse=True)
    assert ranked[0] == "Bogotá D.C." and set(ranked[1:4]) >= {"Medellín", "Cali"}
    assert len(cities) >= 25
    median = np.median(batch.expected_salary)
    assert 1_800_000 <= median <= 5_000_000
    assert (batch.expected_salary == MINIMUM_WAGE).any()  # some ask for exactly the minimum wage
    assert np.percentile(batch.expected_salary, 99) >= 8_000_000  # senior tech and executives
    assert set(np.unique(batch.persona)) == set(PERSONA_NAMES)


def test_arrow_export_has_the_candidate_columns_and_valid_json() -> None:
    batch = generate_candidates(300, seed=3, start=40_000)
    table = batch.to_arrow(json_lists=True)
    assert table.column_names == [*CANDIDATE_COLUMNS, "persona", "persona_index"]
    assert [json.loads(s) for s in table.column("skills").to_pylist()] == batch.skills
    assert [json.loads(s) for s in table.column("languages").to_pylist()] == batch.languages
    records = batch.to_records()
    assert list(records[0]) == list(CANDIDATE_COLUMNS)
    assert records[0]["last_active_at"].utcoffset() == timedelta(0)
    assert records[0]["external_ref"] == "SIM-C-0040001"
    assert records[0]["email"] == "c0040001@example.com"


def test_as_of_moves_birth_years_and_activity_but_not_the_people() -> None:
    later = datetime(2030, 6, 1, tzinfo=UTC)
    a = generate_candidates(200, seed=9)
    b = generate_candidates(200, seed=9, as_of=later)
    np.testing.assert_array_equal(a.age, b.age)
    np.testing.assert_array_equal(a.persona_index, b.persona_index)
    assert (b.birth_year - a.birth_year == later.year - a.as_of.year).all()
    assert b.last_active_at.max() <= np.datetime64(later.replace(tzinfo=None))
