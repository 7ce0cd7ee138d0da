"""Dashboard fixtures: signed-in test clients and a campaign with platforms, metrics and a model."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from adflux import embedded
from adflux.extensions import db
from adflux.models import User
from adflux.sandbox.server import SandboxServer, start_sandbox_in_thread

PASSWORD = "una clave bastante larga"
# A deliberately cheap hash for fixture users (the real one, scrypt, costs ~0.3 s per sign-in);
# check_password_hash reads the method from the hash, so sign-in still goes through the real form.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
CSRF_FIELD = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form (the session keeps the same token)."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, page[:500]
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form."""
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def create_user(app: Flask, email: str, role: str) -> None:
    """A dashboard user with PASSWORD (straight to the model, like conftest.issue_test_token)."""
    with app.app_context():
        db.session.add(User(email=email, name=f"Persona {role}", role=role, password_hash=PASSWORD_HASH))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def web_as(app: Flask) -> Callable[..., FlaskClient]:
    """`web_as("manager")`: a browser-like test client signed in as a new user with that role."""

    def make(role: str = "viewer") -> FlaskClient:
        email = f"{role}-{secrets.token_hex(4)}@dashboard.test"
        create_user(app, email, role)
        client = app.test_client()
        sign_in(client, email)
        return client

    return make


@pytest.fixture
def viewer(web_as: Callable[..., FlaskClient]) -> FlaskClient:
    return web_as("viewer")


@pytest.fixture
def manager(web_as: Callable[..., FlaskClient]) -> FlaskClient:
    return web_as("manager")


def k_search_rows(best: int = 3) -> list[dict[str, Any]]:
    """A plausible k search: silhouette peaks at `best`, inertia falls with an elbow."""
    return [
        {
            "k": k,
            "silhouette": round(0.42 - 0.03 * abs(k - best) ** 1.3, 4),
            "davies_bouldin": round(0.9 + 0.07 * abs(k - best), 4),
            "calinski_harabasz": round(1500 - 90 * abs(k - best), 1),
            "inertia": round(90_000 / k**0.9, 1),
        }
        for k in range(2, 9)
    ]


def add_metrics(campaign_id: int, *, days: int = 14, ahead: int = 0) -> int:
    """Daily rows for every ad group of a campaign (as the sync would write them), with rollups."""
    from adflux.extensions import db
    from adflux.services.campaigns import get_campaign
    from adflux.services.local_dates import today
    from adflux.services.metrics_store import upsert_metrics

    campaign = get_campaign(campaign_id=campaign_id)
    end = today() + timedelta(days=ahead)
    rows = []
    for p, pc in enumerate(campaign.platform_campaigns):
        for g, group in enumerate(pc.ad_groups):
            for n in range(days):
                day = end - timedelta(days=days - 1 - n)
                impressions = 4_000 + 700 * p + 300 * g + 90 * n
                clicks = impressions // (45 + 8 * p)
                rows.append(
                    {
                        "ad_group_id": group.id,
                        "date": day,
                        "platform_campaign_id": pc.id,
                        "campaign_id": campaign.id,
                        "platform": pc.platform,
                        "segment_id": group.segment_id,
                        "impressions": impressions,
                        "reach": int(impressions * 0.7),
                        "clicks": clicks,
                        "engagements": None,
                        "spend_micros": (38_000 + 2_500 * p + 1_000 * n) * 1_000_000,
                        "applications": max(0, clicks // (9 + 3 * p) - (n % 3)),
                    }
                )
    written = upsert_metrics(rows)
    db.session.commit()
    return written


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh platform sandbox used by the in-process publishing path (as in tests/campaigns)."""
    server = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(server)
    yield server
    embedded.set_in_process_sandbox(None)
    server.stop()
