"""Helpers for the feed tests: simulated openings as a portal lists them."""

from __future__ import annotations

from typing import Any

from adflux.simulation.jobs import generate_jobs
from adflux.simulation.portal_feed import PortalFeedServer, render_xml


def feed_jobs(n: int, *, seed: int = 7, **overrides: Any) -> list[dict[str, Any]]:
    """n simulated openings as a portal lists them (the same n for the same seed)."""
    return [{**job, **overrides} for job in generate_jobs(n, seed=seed)]


def publish_feed(portal: PortalFeedServer, jobs: list[dict[str, Any]]) -> None:
    portal.publish(render_xml(jobs))
