"""API tokens are rate limited per token (429 + Retry-After), across processes when Redis holds the count."""

from __future__ import annotations

import os
import uuid

import pytest

from adflux.app import create_app
from adflux.services import rate_limits
from conftest import issue_test_token, require_service

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def _get(client, token: str):
    return client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})


def test_a_token_over_its_limit_gets_429_with_retry_after(app, settings, monkeypatch):
    limited = create_app(settings.replace(api_rate_limit_per_minute=5))
    _, token = issue_test_token(limited, "viewer")
    _, other = issue_test_token(limited, "viewer")
    monkeypatch.setattr(rate_limits, "now_ms", lambda: 60_000 * 1000 + 15_000)  # 15 s into a minute
    api = limited.test_client()
    assert [_get(api, token).status_code for _ in range(5)] == [200] * 5
    refused = _get(api, token)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "45"
    assert refused.get_json()["code"] == "too_many_requests"
    assert _get(api, other).status_code == 200  # per token: another token is not affected
    monkeypatch.setattr(rate_limits, "now_ms", lambda: 60_000 * 1001 + 1)  # the next minute
    assert _get(api, token).status_code == 200


def test_429_is_documented_on_token_operations(anon_client):
    spec = anon_client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/jobs"]["get"]
    assert "429" in operation["responses"] and "Retry-After" in operation["responses"]["429"]["headers"]


@pytest.mark.redis
def test_the_limit_holds_across_two_app_instances_sharing_redis(app, settings):
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    shared = settings.replace(api_rate_limit_per_minute=6, rate_limit_redis_url=TEST_REDIS_URL)
    first, second = create_app(shared), create_app(shared)
    rate_limits.forget_stores()
    _, token = issue_test_token(first, "viewer", email=f"rl-{uuid.uuid4().hex[:6]}@tests.adflux.local")
    statuses = []
    for n in range(8):  # alternate between the two "processes"
        statuses.append(_get((first if n % 2 else second).test_client(), token))
    codes = [r.status_code for r in statuses]
    # A minute boundary may fall inside the loop: at most 6 per window either way.
    assert codes.count(200) in (6, 7, 8) and (codes.count(200) == 8 or 429 in codes)
    if codes[:6] == [200] * 6:
        assert codes[6] == 429 and 1 <= int(statuses[6].headers["Retry-After"]) <= 60
    assert isinstance(rate_limits.store(shared), rate_limits.RedisStore)
