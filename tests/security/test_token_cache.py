"""The in-process token cache: one lookup per token per TOKEN_CACHE_SECONDS, never past its bounds.

Time is the cache's own clock, moved by hand: no test here sleeps.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from adflux.extensions import db
from adflux.models import ApiToken, User
from adflux.models.base import utcnow
from adflux.services import auth as auth_service
from adflux.services.token_cache import TOKEN_CACHE_SECONDS, TokenCache
from conftest import issue_test_token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """An empty token cache on a fake clock, in place of the process's cache for this test."""
    fake = FakeClock()
    monkeypatch.setattr(auth_service, "_token_cache", TokenCache(clock=fake))
    return fake


def _token_lookups(statements: list[str]) -> list[str]:
    return [s for s in statements if "api_tokens" in s]


def test_the_cache_clock_defaults_to_monotonic_time():
    assert TokenCache().clock is time.monotonic


def test_a_cached_token_costs_no_query(anon_client, app, clock, statements):
    _, token = issue_test_token(app, "viewer")
    statements.clear()
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert _token_lookups(statements)  # the first request looked the token up
    statements.clear()
    clock.advance(TOKEN_CACHE_SECONDS - 0.1)
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert not _token_lookups(statements)
    clock.advance(0.2)  # past the cache lifetime: looked up again
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert _token_lookups(statements)


def test_a_change_made_elsewhere_is_seen_within_the_cache_lifetime(anon_client, app, clock):
    # A Core UPDATE fires no ORM events: the same as a revocation by another process.
    user_id, token = issue_test_token(app, "viewer")
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked_at=utcnow()))
        db.session.commit()
    # Still served from the cache just before the lifetime ends (so what follows is the cache's doing)...
    clock.advance(TOKEN_CACHE_SECONDS - 0.1)
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    # ...and refused once it has ended.
    clock.advance(0.2)
    refused = anon_client.get("/api/v1/me", headers=_bearer(token))
    assert refused.status_code == 401 and "revocado" in refused.get_json()["message"]


def test_a_role_change_in_this_process_applies_at_once(anon_client, app, clock):
    user_id, token = issue_test_token(app, "admin")
    assert anon_client.get("/api/v1/users", headers=_bearer(token)).status_code == 200
    assert len(auth_service._token_cache) == 1  # cached as an admin
    with app.app_context():
        db.session.get(User, user_id).role = "viewer"
        db.session.commit()
    assert anon_client.get("/api/v1/users", headers=_bearer(token)).status_code == 403


def test_a_cached_token_stops_working_when_it_expires(anon_client, app, clock, monkeypatch):
    # A cache lifetime far longer than the token's remaining life: only its expiry can end it.
    monkeypatch.setattr(auth_service._token_cache, "ttl_seconds", 3600.0)
    user_id, token = issue_test_token(app, "viewer")
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user_id))
        row.expires_at = utcnow() + timedelta(seconds=60)
        db.session.commit()
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    # The database now says expired, unseen by the cache (a Core UPDATE fires no ORM events):
    # an answer of 200 comes from the cache, a 401 from the database.
    with app.app_context():
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    clock.advance(30)
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    clock.advance(40)  # 70 s: past the token's 60, far short of the cache's 3,600
    refused = anon_client.get("/api/v1/me", headers=_bearer(token))
    assert refused.status_code == 401 and "venció" in refused.get_json()["message"]


def test_invalid_tokens_are_not_cached(anon_client, app, clock):
    for _ in range(3):
        assert anon_client.get("/api/v1/me", headers=_bearer("adf_nope_" + "x" * 30)).status_code == 401
    assert len(auth_service._token_cache) == 0
    _, token = issue_test_token(app, "viewer")
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert len(auth_service._token_cache) == 1  # a valid one is
