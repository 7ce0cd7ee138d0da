"""Graph batch requests: ``POST /vNN.0/`` with ``batch=[{method, relative_url, body}, …]`` (at most 50).

Each item runs as its own Graph call with the batch's access token (unless its URL carries one) and
answers ``{"code", "headers", "body"}`` in order; one failing item does not stop the others.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.meta.graph import MetaGraph, V
from adflux.sandbox.meta.validation import invalid

BATCH_LIMIT = 50
_VERSIONED = re.compile(r"^/?v\d+\.\d+/")


class MetaBatch(MetaGraph):
    """The batch endpoint at the Graph root of a version."""

    @route("POST", rf"{V}")
    def batch(self, request: Request) -> Response:
        try:
            items = json.loads(request.arg("batch") or "")
        except ValueError as exc:
            raise invalid("The parameter batch is required and must be a JSON array") from exc
        if not isinstance(items, list) or not items:
            raise invalid("The parameter batch is required and must be a JSON array")
        if len(items) > BATCH_LIMIT:
            raise invalid(f"Too many requests in batch message. Maximum batch size is {BATCH_LIMIT}")
        return json_response([self._one(request, item) for item in items])

    def _one(self, outer: Request, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict) or "method" not in item or "relative_url" not in item:
            raise invalid("Each batch item needs a method and a relative_url")
        split = urlsplit(str(item["relative_url"]))
        path = split.path if _VERSIONED.match(split.path) else f"{outer.path}/{split.path.lstrip('/')}"
        query = parse_qs(split.query, keep_blank_values=True)
        if "access_token" not in query and outer.arg("access_token"):
            query["access_token"] = [outer.arg("access_token") or ""]
        body = str(item.get("body") or "").encode()
        headers = {key: value for key, value in outer.headers.items() if key == "authorization"}
        if body:
            headers["content-type"] = "application/x-www-form-urlencoded"
        inner = Request(
            method=str(item["method"]).upper(),
            path="/" + path.lstrip("/"),
            query=query,
            headers=headers,
            body=body,
            host_url=outer.host_url,
            raw_query=split.query,
        )
        try:
            self.authenticate(inner)
            response = self.decorate(self.dispatch(inner), inner)
        except ApiError as error:
            response = self.render_error(error, inner)
        return {
            "code": response.status,
            "headers": [{"name": key, "value": value} for key, value in response.headers.items()],
            "body": response.body.decode("utf-8"),
        }
