"""Write-behind clicks through a real Redis: the redirect only pushes, a thread writes them in batches."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from adflux.extensions import db
from adflux.models import Click
from adflux.services.tracking import click_buffer
from adflux.settings import EXTENSION_KEY
from conftest import require_service

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.redis
def test_clicks_go_through_redis_and_reach_the_database_within_seconds(
    anon_client: FlaskClient, link: dict[str, Any], tracking_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    settings = tracking_app.extensions[EXTENSION_KEY].replace(tracking_buffer_redis_url=TEST_REDIS_URL)
    monkeypatch.setitem(tracking_app.extensions, EXTENSION_KEY, settings)
    buffer = click_buffer.buffer_for(settings)
    assert isinstance(buffer, click_buffer.RedisClickBuffer)
    buffer.client.delete(click_buffer.REDIS_KEY)
    sent = []
    for i in range(20):
        response = anon_client.get(f"/r/{link['code']}?ttclid=T{i}")
        assert response.status_code == 302
        sent.append(response.headers["Location"].rsplit("afcid=", 1)[1])
    deadline = time.monotonic() + 10
    stored: set[str] = set()
    while time.monotonic() < deadline and len(stored) < 20:
        time.sleep(0.2)
        with tracking_app.app_context():
            stored = set(db.session.scalars(select(Click.click_id)))
    assert stored == set(sent)
    assert buffer.size() == 0
