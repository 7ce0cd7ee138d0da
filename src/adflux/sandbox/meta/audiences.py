"""Meta targeting lookups: the interest search and custom audiences (hashed e-mails)."""

from __future__ import annotations

import re

from adflux.sandbox.api import loads_maybe
from adflux.sandbox.http import Request, Response, json_response, route
from adflux.sandbox.meta.graph import MetaGraph, V
from adflux.sandbox.meta.validation import fold, invalid


class MetaAudiences(MetaGraph):
    """/search?type=adinterest, /act_<id>/customaudiences and /<audience>/users."""

    @route("GET", rf"{V}/search")
    def search(self, request: Request) -> Response:
        if request.arg("type") != "adinterest":
            raise invalid("Unsupported search type")
        query = (request.arg("q") or "").strip()
        if not query:
            return json_response({"data": []})
        interest_id = str(
            6_000_000_000_000 + int.from_bytes(fold(query).encode()[:6].ljust(6, b"_"), "big") % 10**12
        )
        row = {
            "id": interest_id,
            "name": query.title(),
            "audience_size_lower_bound": 1_200_000,
            "audience_size_upper_bound": 1_400_000,
            "path": ["Interests", query.title()],
            "topic": "Business",
        }
        return json_response({"data": [row]})

    @route("POST", rf"{V}/act_(?P<account>\d+)/customaudiences")
    def create_audience(self, request: Request, account: str) -> Response:
        params = self._require(request, "name")
        subtype = params.get("subtype", "CUSTOM")
        audience = self._new(
            "audience",
            account,
            {
                "_kind": "audience",
                "name": params["name"],
                "subtype": subtype,
                "description": params.get("description", ""),
                "approximate_count_lower_bound": 0,
                "_hashes": set(),
            },
        )
        return json_response({"id": audience["id"]})

    @route("POST", rf"{V}/(?P<audience_id>\d+)/users")
    def add_users(self, request: Request, audience_id: str) -> Response:
        audience = self._get_obj("audience", audience_id)
        payload = loads_maybe(request.arg("payload"), {})
        schema = payload.get("schema")
        if schema not in ("EMAIL_SHA256", ["EMAIL_SHA256"]):
            raise invalid("payload.schema must be EMAIL_SHA256")
        data = payload.get("data") or []
        invalid_rows = 0
        for row in data:
            value = row[0] if isinstance(row, list) and row else row
            if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
                audience["_hashes"].add(value)
            else:
                invalid_rows += 1
        audience["approximate_count_lower_bound"] = len(audience["_hashes"])
        return json_response(
            {
                "audience_id": audience_id,
                "session_id": self.state.ids.meta(),
                "num_received": len(data),
                "num_invalid_entries": invalid_rows,
                "invalid_entry_samples": {},
            }
        )
