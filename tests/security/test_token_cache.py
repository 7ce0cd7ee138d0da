"""The in-process token cache: one lookup per token per TOKEN_CACHE_SECONDS, never past its bounds."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine

from adflux.extensions import db
from adflux.models import ApiToken, User
from adflux.models.base import utcnow
from adflux.services import auth as auth_service
from conftest import issue_test_token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def statements():
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def test_a_cached_token_costs_no_query(anon_client, app, statements):
    _, token = issue_test_token(app, "viewer")
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    statements.clear()
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    assert not [s for s in statements if "api_tokens" in s]


def test_a_change_made_elsewhere_is_seen_within_the_cache_lifetime(anon_client, app, monkeypatch):
    # A Core UPDATE fires no ORM events: the same as a revocation by another process.
    monkeypatch.setattr(auth_service, "TOKEN_CACHE_SECONDS", 0.3)
    user_id, token = issue_test_token(app, "viewer")
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    with app.app_context():
        db.session.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked_at=utcnow()))
        db.session.commit()
    time.sleep(0.35)
    refused = anon_client.get("/api/v1/me", headers=_bearer(token))
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]


def test_a_role_change_in_this_process_applies_at_once(anon_client, app):
    user_id, token = issue_test_token(app, "admin")
    assert anon_client.get("/api/v1/users", headers=_bearer(token)).status_code == 200
    with app.app_context():
        db.session.get(User, user_id).role = "viewer"
        db.session.commit()
    assert anon_client.get("/api/v1/users", headers=_bearer(token)).status_code == 403


def test_a_cached_token_stops_working_when_it_expires(anon_client, app):
    user_id, token = issue_test_token(app, "viewer")
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user_id))
        row.expires_at = utcnow() + timedelta(seconds=0.5)
        db.session.commit()
    assert anon_client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
    time.sleep(0.6)
    refused = anon_client.get("/api/v1/me", headers=_bearer(token))
    assert refused.status_code == 401 and "expired" in refused.get_json()["message"]


def test_invalid_tokens_are_not_cached(anon_client):
    auth_service.clear_token_cache()
    for _ in range(3):
        assert anon_client.get("/api/v1/me", headers=_bearer("adf_nope_" + "x" * 30)).status_code == 401
    assert not auth_service._token_cache
