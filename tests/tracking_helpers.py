"""Helpers for the tracking tests: the portal's shared secret and a signed postback."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from adflux.services.tracking import signatures

SECRET = "portal-shared-secret-for-tests"


def post_signed(client: FlaskClient, body: Any, *, header: str | None = None) -> Any:
    raw = json.dumps(body).encode()
    signature = header if header is not None else signatures.sign(SECRET, raw)
    return client.post(
        "/api/v1/tracking/postbacks",
        data=raw,
        content_type="application/json",
        headers={signatures.HEADER: signature},
    )
