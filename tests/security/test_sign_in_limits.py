"""Guessing is slowed per address and per account, parallel guesses cannot slip past the count,
and nobody can lock the real user (the admin included) out."""

from __future__ import annotations

import os
import threading

import pytest
from flask import Flask

from adflux.extensions import db
from adflux.models import AuditEvent
from adflux.services import rate_limits, sign_in_limits
from adflux.services.sign_in_limits import TooManyAttempts
from web.conftest import PASSWORD, create_user, csrf_token

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


class Clock:
    """The limiter's clock, moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ms = 1_000_000_000
        monkeypatch.setattr(rate_limits, "now_ms", lambda: self.ms)

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


def _browser(app: Flask, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _try(client, email: str, password: str):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _failed_checks(app: Flask) -> int:
    with app.app_context():
        return db.session.query(AuditEvent).filter_by(action="auth.login_failed").count()


def test_an_address_waits_longer_and_longer_after_five_failures(app, monkeypatch):
    clock = Clock(monkeypatch)
    create_user(app, "ana@portal.co", "viewer")
    guesser = _browser(app, "203.0.113.7")
    for _ in range(5):
        assert _try(guesser, "ana@portal.co", "no es la clave").status_code == 401
    refused = _try(guesser, "ana@portal.co", "no es la clave")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert _failed_checks(app) == 5  # a refused try checks no password
    clock.advance(1)
    assert _try(guesser, "ana@portal.co", "no es la clave").status_code == 401
    assert _try(guesser, "ana@portal.co", "no es la clave").headers["Retry-After"] == "2"
    clock.advance(2)
    assert _try(guesser, "ana@portal.co", "no es la clave").status_code == 401
    assert _try(guesser, "ana@portal.co", "no es la clave").headers["Retry-After"] == "4"


def test_guessing_cannot_lock_the_admin_out(app, monkeypatch):
    clock = Clock(monkeypatch)
    create_user(app, "admin@portal.co", "admin")
    admins_laptop = _browser(app, "198.51.100.10")
    assert _try(admins_laptop, "admin@portal.co", PASSWORD).status_code == 302  # signed in before
    admins_laptop.post("/logout", data={"csrf_token": csrf_token(admins_laptop, "/")})

    for n in range(60):  # a spread-out attack: 60 addresses, a few guesses each
        _try(_browser(app, f"10.0.{n // 250}.{n % 250}"), "admin@portal.co", "adivinanza")
    clock.advance(0.5)

    # The admin's own browser is not slowed by anyone else's guesses.
    assert _try(admins_laptop, "admin@portal.co", PASSWORD).status_code == 302
    # From a browser never used before, the admin waits seconds, not a lockout.
    new_phone = _browser(app, "198.51.100.99")
    refused = _try(new_phone, "admin@portal.co", PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    clock.advance(int(refused.headers["Retry-After"]))
    assert _try(new_phone, "admin@portal.co", PASSWORD).status_code == 302


def test_a_successful_sign_in_does_not_count_against_the_address(app, monkeypatch):
    Clock(monkeypatch)
    create_user(app, "ana@portal.co", "viewer")
    office = _browser(app, "192.0.2.1")  # everyone behind one office address
    for _ in range(20):
        assert _try(office, "ana@portal.co", PASSWORD).status_code == 302


def _parallel_claims(settings, count: int = 24) -> int:
    keys = sign_in_limits.AttemptKeys("signin:address:192.0.2.50", "signin:account:ana@portal.co", 30_000)
    allowed: list[int] = []
    barrier = threading.Barrier(count)

    def guess() -> None:
        barrier.wait()
        try:
            sign_in_limits.claim_attempt(keys, settings)
        except TooManyAttempts:
            return
        allowed.append(1)

    threads = [threading.Thread(target=guess) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(allowed)


def test_24_parallel_guesses_get_exactly_five_checked_in_process(app, settings):
    assert _parallel_claims(settings) == 5


@pytest.mark.redis
def test_24_parallel_guesses_get_exactly_five_checked_across_processes_with_redis(app, settings):
    if not TEST_REDIS_URL:
        from conftest import require_service

        require_service("Redis", "set TEST_REDIS_URL")
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).delete(
        "adflux:limit:signin:address:192.0.2.50", "adflux:limit:signin:account:ana@portal.co"
    )
    shared = settings.replace(rate_limit_redis_url=TEST_REDIS_URL)
    assert isinstance(rate_limits.store(shared), rate_limits.RedisStore)
    assert _parallel_claims(shared) == 5


def test_behind_a_proxy_the_client_address_is_counted_not_the_proxys(app, settings, monkeypatch):
    from adflux.app import create_app

    Clock(monkeypatch)
    proxied = create_app(settings.replace(proxy_hops=1))
    create_user(app, "ana@portal.co", "viewer")
    create_user(app, "luis@portal.co", "viewer")
    attacker = proxied.test_client()
    attacker.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.66")
    for n in range(5):  # guesses spread over two accounts: only the address key fills up
        assert _try(attacker, ("ana", "luis")[n % 2] + "@portal.co", "no es la clave").status_code == 401
    assert _try(attacker, "ana@portal.co", "no es la clave").status_code == 429
    colleague = proxied.test_client()  # behind the same proxy, from another client address
    colleague.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert _try(colleague, "luis@portal.co", PASSWORD).status_code == 302


def test_sign_in_and_the_api_keep_working_when_the_counter_store_is_down(app, settings):
    from adflux.app import create_app
    from conftest import issue_test_token

    unreachable = create_app(settings.replace(rate_limit_redis_url="redis://127.0.0.1:1/0"))
    create_user(app, "ana@portal.co", "viewer")
    assert _try(unreachable.test_client(), "ana@portal.co", PASSWORD).status_code == 302
    _, token = issue_test_token(unreachable, "viewer")
    answer = unreachable.test_client().get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def test_an_attacker_behind_the_same_address_cannot_lock_out_a_trusted_browser(app, monkeypatch):
    """Everyone behind one proxy or NAT (no ADFLUX_PROXY_HOPS): the address key fills up to 15
    minutes, yet the admin's browser that signed in before is counted on its own key only."""
    clock = Clock(monkeypatch)
    create_user(app, "admin@portal.co", "admin")
    laptop = _browser(app, "192.0.2.80")
    assert _try(laptop, "admin@portal.co", PASSWORD).status_code == 302
    attacker = _browser(app, "192.0.2.80")
    for _ in range(14):
        clock.advance(600)  # waits out each delay, so every guess is checked
        assert _try(attacker, "admin@portal.co", "adivinanza").status_code == 401
    refused = _try(attacker, "admin@portal.co", "adivinanza")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 60
    assert _try(laptop, "admin@portal.co", PASSWORD).status_code == 302
