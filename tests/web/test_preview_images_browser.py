"""The builder's review shows each platform's ad with the job's real image in that platform's size
(square in the feeds and on X, vertical full screen on TikTok and Snapchat, a thumbnail beside the
search ad), in headless Chromium. Same fixtures and marker as test_workspace_browser."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from adflux.sandbox.server import SandboxServer
from web import test_workspace_browser as workspace_browser
from web.test_dashboard_browser import _screenshot, _sign_in

chromium, live_server, page = (
    workspace_browser.chromium,
    workspace_browser.live_server,
    workspace_browser.page,
)
workspace = workspace_browser.workspace

pytestmark = pytest.mark.browser

EXPECTED = {"meta": (1080, 1080), "google": (1080, 1080), "x": (1080, 1080), "tiktok": (1080, 1920),
            "snapchat": (1080, 1920)}  # fmt: skip


def test_the_review_shows_the_jobs_image_in_each_platforms_shape(
    page: Any, live_server: str, workspace: SandboxServer, artifacts_dir: Path
) -> None:
    _sign_in(page, live_server)
    workspace_browser._build(page, live_server, list(EXPECTED), "8.000.000")
    for platform, (width, height) in EXPECTED.items():
        image = page.locator(f'.mockup[data-platform="{platform}"] img.mock-media')
        assert image.count() == 1
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural == [width, height], platform
        assert "Enfermera jefe de urgencias" in image.get_attribute("alt")
        shown = image.bounding_box()
        assert shown and shown["width"] > 40 and shown["height"] > 40
        # The bytes the browser got are a real PNG of that size, not a placeholder.
        answer = page.request.get(live_server + image.get_attribute("src"))
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
        decoded = Image.open(io.BytesIO(answer.body()))
        assert decoded.size == (width, height) and decoded.format == "PNG"
        tones = decoded.convert("L").resize((64, 64)).getcolors(4096) or []
        assert len(tones) > 8  # text and colour, not a flat placeholder
    vertical = page.locator('.mockup[data-platform="tiktok"]').bounding_box()
    assert vertical and vertical["height"] > vertical["width"] * 1.5
    _screenshot(page, artifacts_dir, "campaign-review-images")
    assert page.problems == []
