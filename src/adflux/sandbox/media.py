"""Uploaded images as the platforms check them: type (JPEG or PNG), dimensions and size.

Modelled on the platforms' ad-image specifications: Meta's link-ad image (at most 30 MB, at least
600 px wide), TikTok's image ad (at least 720 px wide; the sandbox takes up to 10 MB), Snapchat's
Top Snap image (exactly 1080×1920, at most 5 MB).
"""

from __future__ import annotations

import email.parser
import email.policy
import struct
from dataclasses import dataclass

from adflux.sandbox.http import Request

MB = 1024 * 1024


@dataclass(frozen=True)
class ImageRule:
    max_bytes: int
    min_width: int
    exact: tuple[int, int] | None = None


RULES = {
    "meta": ImageRule(max_bytes=30 * MB, min_width=600),
    "tiktok": ImageRule(max_bytes=10 * MB, min_width=720),
    "snapchat": ImageRule(max_bytes=5 * MB, min_width=1080, exact=(1080, 1920)),
}


def image_facts(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from a PNG's or JPEG's header; None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker, length = data[index + 1], struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return "jpeg", width, height
            index += 2 + length
    return None


def problem(platform: str, data: bytes) -> str | None:
    """Why `platform` would refuse `data` as an ad image, or None."""
    rule = RULES[platform]
    facts = image_facts(data)
    if facts is None:
        return "The file is not a JPEG or PNG image."
    if len(data) > rule.max_bytes:
        return f"The image is {len(data)} bytes; the limit is {rule.max_bytes}."
    _, width, height = facts
    if rule.exact and (width, height) != rule.exact:
        return f"The image is {width}x{height}; it must be {rule.exact[0]}x{rule.exact[1]}."
    if width < rule.min_width:
        return f"The image is {width} px wide; the minimum is {rule.min_width}."
    return None


def multipart(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """The fields and the files of a multipart/form-data body."""
    if request.content_type != "multipart/form-data":
        return {}, {}
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        filename = part.get_filename()
        if not isinstance(name, str):
            continue
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files
