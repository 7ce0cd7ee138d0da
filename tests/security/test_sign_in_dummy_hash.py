"""The unknown-e-mail sign-in checks a constant hash that must cost what a real one costs."""

from __future__ import annotations

from adflux.services.auth import hash_password
from adflux.services.sign_in import _DUMMY_PASSWORD_HASH


def test_the_dummy_hash_uses_the_method_and_cost_of_real_password_hashes():
    method = _DUMMY_PASSWORD_HASH.split("$", 1)[0]
    assert hash_password("otra-clave-cualquiera").split("$", 1)[0] == method
    salt, digest = _DUMMY_PASSWORD_HASH.split("$")[1:]
    assert len(salt) == 16 and len(digest) == 128
