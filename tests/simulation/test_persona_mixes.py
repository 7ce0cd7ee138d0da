"""Persona mixes: skewed shares, overlapping personas and noisy candidates, all settable."""

from __future__ import annotations

import numpy as np
import pytest

from adflux.simulation import PERSONA_NAMES, PRESETS, PersonaMix, generate_candidates, parse_mix

N = 20_000


def test_the_default_mix_keeps_the_rows_it_always_gave() -> None:
    plain = generate_candidates(3000, seed=4)
    even = generate_candidates(3000, seed=4, mix=PRESETS["even"])
    assert plain.to_arrow().equals(even.to_arrow())


def test_the_colombian_preset_is_skewed_like_its_weights() -> None:
    batch = generate_candidates(N, seed=8, mix=PRESETS["colombia"])
    shares = np.bincount(batch.persona_index, minlength=len(PERSONA_NAMES)) / N
    expected = np.asarray(PRESETS["colombia"].weights)
    assert np.max(np.abs(shares - expected)) < 0.01
    assert PERSONA_NAMES[int(np.argmax(shares))] == "operario_produccion" and shares.max() > 0.38


def test_overlap_brings_personas_together() -> None:
    weights = PRESETS["colombia"].weights
    apart = generate_candidates(N, seed=8, mix=PersonaMix(weights=weights))
    together = generate_candidates(N, seed=8, mix=PersonaMix(weights=weights, overlap=0.5))
    assert np.array_equal(apart.persona_index, together.persona_index)  # same people, same personas

    def spread(batch) -> float:  # type: ignore[no-untyped-def]
        ages = batch.age
        return float(np.std([ages[batch.persona_index == p].mean() for p in range(len(PERSONA_NAMES))]))

    assert spread(together) < 0.6 * spread(apart)


def test_noise_moves_answers_off_the_persona_only_with_noise() -> None:
    clean = generate_candidates(N, seed=2, mix=PersonaMix(noise=0.0))
    noisy = generate_candidates(N, seed=2, mix=PersonaMix(noise=0.2))
    changed = np.mean(clean.category_code != noisy.category_code)
    assert 0.05 < changed < 0.2  # 20 % redrawn from a random persona, some land on the same answer
    assert np.array_equal(clean.birth_year, noisy.birth_year)


def test_mixes_parse_from_the_command_line_form() -> None:
    assert parse_mix("colombia") == PRESETS["colombia"]
    assert parse_mix("even", overlap=0.2).overlap == 0.2
    assert parse_mix("1,1,1,1,4,1,1,1").weights == (1, 1, 1, 1, 4, 1, 1, 1)
    for bad in ("skewed", "1,2,3", "1,1,1,1,1,1,1,-1"):
        with pytest.raises(ValueError):
            parse_mix(bad)
    with pytest.raises(ValueError, match="overlap"):
        PersonaMix(overlap=1.5)
