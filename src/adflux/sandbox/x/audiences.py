"""X custom audiences: create, list, and add hashed e-mails."""

from __future__ import annotations

import re

from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.x.protocol import ACC, XProtocol, invalid, public

MAX_IDS_PER_USER = 10  # identifiers of ONE person (several e-mails of the same user)


class XAudiences(XProtocol):
    """/12/accounts/<id>/custom_audiences and its /users."""

    @route("POST", rf"{ACC}/custom_audiences")
    def create_audience(self, request: Request, account: str) -> Response:
        params = self._params(request, "name")
        audience = self._new(
            "custom_audience",
            account,
            {"name": params["name"], "audience_type": "WEB", "_hashes": set(), "audience_size": 0},
        )
        return self._ok(public(audience), request)

    @route("GET", rf"{ACC}/custom_audiences")
    def list_audiences(self, request: Request, account: str) -> Response:
        return self._list(request, "custom_audience", account, {"custom_audience_ids": "id"})

    @route("POST", rf"{ACC}/custom_audiences/(?P<audience_id>[0-9a-z]+)/users")
    def add_users(self, request: Request, account: str, audience_id: str) -> Response:
        audience = self._get("custom_audience", account, audience_id)
        total = 0
        for operation in request.json():
            if operation.get("operation_type") not in ("Update", "Delete"):
                raise invalid("operation_type must be Update or Delete", "operation_type")
            users = operation.get("params", {}).get("users", [])
            if len(users) > 2_500:
                raise invalid("at most 2500 users per operation", "users")
            for user in users:
                if len(user.get("email", [])) > MAX_IDS_PER_USER:
                    # Each element is one person: thousands of hashes in one element is a malformed upload.
                    raise invalid(f"at most {MAX_IDS_PER_USER} email values per user", "email")
                for digest in user.get("email", []):
                    if not re.fullmatch(r"[0-9a-f]{64}", digest):
                        raise invalid("email values must be SHA-256 hex digests", "email")
                    audience["_hashes"].add(digest)
                    total += 1
        audience["audience_size"] = len(audience["_hashes"])
        return self._ok({"success_count": total, "total_count": total}, request)
