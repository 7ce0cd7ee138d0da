"""TikTok custom audiences: hashed e-mail files uploaded as multipart, then audiences built from them."""

from __future__ import annotations

import math
import re
from email import message_from_bytes
from email.message import Message

from adflux.sandbox.http import Request, Response, route
from adflux.sandbox.tiktok.protocol import P, TikTokProtocol, invalid, public


class TikTokAudiences(TikTokProtocol):
    """/dmp/custom_audience/{file/upload,create,list}/."""

    @route("POST", rf"{P}/dmp/custom_audience/file/upload/")
    def upload_file(self, request: Request) -> Response:
        parts = _multipart(request)
        if parts.get("calculate_type") != "EMAIL_SHA256":
            raise invalid("calculate_type: only EMAIL_SHA256 is emulated")
        lines = [line.strip() for line in parts.get("file", "").splitlines() if line.strip()]
        if any(not re.fullmatch(r"[0-9a-f]{64}", line) for line in lines):
            raise invalid("file: every line must be a SHA-256 hex digest")
        path = f"audience/{self.state.ids.token()}.txt"
        self.state.put_file(path, "\n".join(lines).encode())
        return self._ok({"file_path": path, "size": len(lines)})

    @route("POST", rf"{P}/dmp/custom_audience/create/")
    def create_audience(self, request: Request) -> Response:
        body = self._body(request, "advertiser_id", "custom_audience_name", "file_paths", "calculate_type")
        hashes: set[str] = set()
        for path in body["file_paths"]:
            data = self.state.file(path)
            if data is None:
                raise invalid(f"file_paths: {path} does not exist")
            hashes |= set(data.decode().split())
        audience = self._new(
            "audience",
            {
                "advertiser_id": str(body["advertiser_id"]),
                "name": body["custom_audience_name"],
                "audience_type": "CUSTOMER_FILE",
                "_hashes": hashes,
                "cover_num": len(hashes),
            },
        )
        return self._ok({"custom_audience_id": audience["id"]})

    @route("GET", rf"{P}/dmp/custom_audience/list/")
    def list_audiences(self, request: Request) -> Response:
        params = self._body(request, "advertiser_id")
        rows = [
            public(obj)
            for obj in self.state.all(self.platform, "audience")
            if obj["advertiser_id"] == str(params["advertiser_id"])
        ]
        # Pages as TikTok's: 10 by default, at most 100 a page.
        page = max(1, int(params.get("page") or 1))
        size = min(100, max(1, int(params.get("page_size") or 10)))
        return self._ok(
            {
                "list": rows[(page - 1) * size : page * size],
                "page_info": {
                    "page": page,
                    "page_size": size,
                    "total_number": len(rows),
                    "total_page": max(1, math.ceil(len(rows) / size)),
                },
            }
        )


def _multipart(request: Request) -> dict[str, str]:
    """The fields of a multipart/form-data body by name, file contents as text."""
    header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message: Message = message_from_bytes(header + request.body)
    subparts = message.get_payload() if message.is_multipart() else None
    if not isinstance(subparts, list):
        raise invalid("multipart/form-data body expected")
    parts: dict[str, str] = {}
    for part in subparts:
        if not isinstance(part, Message):  # the parser only makes Message parts; typeshed allows str
            raise invalid("multipart/form-data body expected")
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)  # None for a nested multipart part
        parts[str(name)] = content.decode() if isinstance(content, bytes) else ""
    return parts
