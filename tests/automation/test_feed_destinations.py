"""Where a feed may be read from: in production only https hosts with public addresses and files
inside ADFLUX_FEED_DIR, checked at save time and again before each fetch; redirects not followed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adflux.app import create_app
from adflux.services.errors import ValidationFailed
from adflux.services.feeds import registry, runs
from adflux.services.feeds.fetching import FeedUnreachable, fetch
from feed_helpers import feed_jobs, publish_feed


@pytest.fixture
def production(app, settings, tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    app = create_app(
        settings.replace(env="production", secret_key="x" * 40, encryption_key="k" * 40, feed_dir=str(folder))
    )
    with app.app_context():
        yield folder


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("http://8.8.8.8/feed.xml", "only https"),
        ("https://127.0.0.1/feed.xml", "private or local address (127.0.0.1)"),
        ("https://10.0.0.7/feed.xml", "private or local address (10.0.0.7)"),
        ("https://localhost/feed.xml", "private or local address"),
        ("/etc/passwd.xml", "must be inside"),
    ],
)
def test_production_refuses_internal_addresses_and_files_outside_the_feed_folder(
    production, location, problem
):
    with pytest.raises(ValidationFailed) as refused:
        registry.create_feed(data={"name": "Interno", "location": location, "format": "xml"})
    assert problem in refused.value.errors["location"][0]


def test_production_accepts_public_https_hosts_and_files_in_the_feed_folder(production):
    assert registry.create_feed(data={"name": "Publico", "location": "https://8.8.8.8/feed.xml"}).id
    inside = production / "portal.xml"
    assert registry.create_feed(data={"name": "Archivo", "location": str(inside)}).id


def test_a_feed_saved_elsewhere_is_not_fetched_in_production(app_ctx, portal, settings, tmp_path):
    publish_feed(portal, feed_jobs(3))
    feed = registry.create_feed(data={"name": "Loopback", "location": portal.url})  # fine outside production
    app = create_app(settings.replace(env="production", secret_key="x" * 40, encryption_key="k" * 40))
    with app.app_context():
        run = runs.run_feed(feed_id=feed.id)
    assert run.status == "failed" and "not allowed" in run.error and portal.requests == 0


def test_a_redirect_fails_the_fetch_when_redirects_are_not_followed(tmp_path):
    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
        with pytest.raises(FeedUnreachable, match=r"redirects to http://169\.254\.169\.254"):
            fetch(
                url, etag=None, last_modified=None, known_sha256=None, max_bytes=1000, follow_redirects=False
            )
    finally:
        server.shutdown()
        server.server_close()
