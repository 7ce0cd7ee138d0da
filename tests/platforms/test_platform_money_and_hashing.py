"""Exact money conversions and audience hashing."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from adflux.platforms.audiences import hash_email, normalise_email, prepare_hashes
from adflux.platforms.money import decimal_to_micros, meta_amount, tiktok_amount, to_micros


@given(st.integers(min_value=0, max_value=10**12))
def test_peso_conversions_are_exact_for_every_platform(pesos):
    assert to_micros(pesos) == pesos * 1_000_000
    assert meta_amount(pesos) == pesos  # COP has offset 1 on Meta
    assert int(tiktok_amount(pesos)) == pesos
    assert decimal_to_micros(f"{pesos}.00") == pesos * 1_000_000


def test_decimal_spend_converts_to_micros_without_float_error():
    assert decimal_to_micros("12345.67") == 12_345_670_000
    assert decimal_to_micros("0.1") == 100_000


def test_emails_are_trimmed_and_lowercased_before_hashing():
    assert normalise_email("  Ana.Perez@Example.COM ") == "ana.perez@example.com"
    assert hash_email("  Ana.Perez@Example.COM ") == hashlib.sha256(b"ana.perez@example.com").hexdigest()


def test_prepared_hashes_are_unique_and_invalid_inputs_counted():
    digest = hashlib.sha256(b"b@example.com").hexdigest()

    hashes, invalid = prepare_hashes(["a@example.com", "A@example.com ", "nope"], [digest.upper(), "zz"])

    assert hashes == [hash_email("a@example.com"), digest]
    assert invalid == 2
