"""Tracking fixtures: a job, a tracking link and the postback secret set on the shared app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from adflux.services.tracking import clicks, links, signatures
from adflux.settings import EXTENSION_KEY
from factories import make_job
from tracking_helpers import SECRET


@pytest.fixture
def tracking_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    settings = app.extensions[EXTENSION_KEY].replace(tracking_postback_secret=SECRET)
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, settings)
    clicks.forget_link_cache()
    signatures._seen.clear()
    yield app
    clicks.forget_link_cache()


@pytest.fixture
def link(tracking_app: Flask) -> dict[str, Any]:
    with tracking_app.app_context():
        job = make_job(external_ref="JOB-T-1", apply_url="https://empleos.example.co/ofertas/1")
        made = links.create_link(
            campaign_id=41,
            platform="meta",
            ad_group_id=7,
            segment_id=3,
            destination_url=job.apply_url,
            job_reference=job.external_ref,
        )
        return {"code": made.code, "job_reference": job.external_ref}
