"""Write-behind clicks through a real Redis: the redirect only pushes, a thread writes them in batches."""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from adflux.app import create_app
from adflux.extensions import db
from adflux.models import Click
from adflux.services.tracking import click_batches, click_buffer, clicks
from adflux.settings import EXTENSION_KEY, current_settings
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


@pytest.mark.redis
def test_known_links_are_answered_by_the_fast_path_and_every_click_is_written(
    settings: Any, link: dict[str, Any], tracking_app: Flask
) -> None:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    fast_app = create_app(settings.replace(tracking_buffer_redis_url=TEST_REDIS_URL))
    buffer = click_buffer.buffer_for(current_settings(fast_app))
    buffer.client.delete(click_buffer.REDIS_KEY)  # type: ignore[attr-defined]
    client = fast_app.test_client()
    first = client.get(f"/r/{link['code']}?gclid=G0", headers={"User-Agent": "UA"})
    assert first.status_code == 302 and "X-Request-Id" in first.headers  # Flask: reads the link once
    fast = [
        client.get(f"/r/{link['code']}?gclid=G{i}&gclid=other", headers={"User-Agent": "UA"}) for i in (1, 2)
    ]
    for response in fast:
        assert response.status_code == 302 and "X-Request-Id" not in response.headers  # no Flask request
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert query["utm_source"] == ["meta"] and len(query["afcid"][0]) == 32
    assert client.get("/r/unknown1").status_code == 404  # unknown codes still reach the route
    with fast_app.app_context():  # (the process's flusher thread belongs to the first test app)
        clicks.flush_buffered_clicks()
        expected_visitor = clicks.visitor_key("127.0.0.1", "UA")
    with tracking_app.app_context():
        rows = list(db.session.execute(select(Click.platform_click_id, Click.visitor_hash)))
    assert sorted(row[0] for row in rows) == ["G0", "G1", "G2"]
    assert {row[1] for row in rows} == {expected_visitor}


def test_click_ids_never_repeat_in_a_process_or_across_a_fork() -> None:
    ids = {clicks.new_click_id() for _ in range(5000)}
    assert len(ids) == 5000 and all(len(i) == 32 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a gunicorn worker forked after the parent drew ids
        os.write(write, clicks.new_click_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child not in ids and child != clicks.new_click_id()


@pytest.mark.redis
def test_batched_clicks_reach_redis_in_one_push_and_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    buffer = click_buffer.RedisClickBuffer(TEST_REDIS_URL)
    buffer.client.delete(click_buffer.REDIS_KEY)
    batcher = click_batches.ClickBatcher(buffer, window_ms=60_000)  # the thread will not tick here
    for n in range(50):
        batcher.add({"click_id": f"c{n}"})
    assert buffer.size() == 0
    assert batcher.push() == 50 and buffer.size() == 50
    assert [row["click_id"] for row in buffer.take(50)] == [f"c{n}" for n in range(50)]
    broken = click_batches.ClickBatcher(click_buffer.RedisClickBuffer("redis://127.0.0.1:1/0"), 60_000)
    broken.add({"click_id": "kept"})
    assert broken.push() == 0 and broken.rows == [{"click_id": "kept"}]  # kept for the next try
    assert batcher.pid == os.getpid() and not batcher.stopped.is_set()  # its thread is running
    batcher.add({"click_id": "last"})
    assert batcher.stop() == 1 and batcher.stopped.is_set()  # stopped: what it held is pushed
    assert [row["click_id"] for row in buffer.take(5)] == ["last"]
    assert broken.stop() == 0 and broken.rows == [{"click_id": "kept"}]  # nothing left to run at exit


@pytest.mark.redis
def test_the_flusher_leaves_the_buffer_alone_while_the_database_is_down(settings: Any) -> None:
    if not TEST_REDIS_URL:
        require_service("Redis", "set TEST_REDIS_URL")
    down = create_app(
        settings.replace(
            database_url="postgresql://postgres@127.0.0.1:1/nowhere", tracking_buffer_redis_url=TEST_REDIS_URL
        )
    )
    buffer = click_buffer.buffer_for(current_settings(down))
    buffer.client.delete(click_buffer.REDIS_KEY)  # type: ignore[attr-defined]
    buffer.push([{"click_id": f"c{n}"} for n in range(3)])
    with down.app_context():
        assert clicks.database_answers() is False  # refused: no click is taken from the buffer
    assert [row["click_id"] for row in buffer.take(5)] == ["c0", "c1", "c2"]
    fast_app = create_app(settings.replace(tracking_buffer_redis_url=TEST_REDIS_URL))
    with fast_app.app_context():
        assert clicks.database_answers() is True
