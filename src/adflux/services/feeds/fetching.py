"""Getting a feed's bytes onto disk: a conditional HTTP request (ETag / If-Modified-Since) or a
local file, streamed in chunks and hashed on the way, so a 200 MB feed never sits in memory and a
feed that did not change costs one request (304) or one hash."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from adflux.services.errors import ServiceUnavailable

CHUNK = 1 << 16


class FeedUnreachable(ServiceUnavailable):
    """The feed could not be read whole (down, refused, cut short or too big)."""

    code = "feed_unreachable"


@dataclass
class Fetched:
    """What a fetch got: a file to read (None when the feed did not change) and its validators."""

    path: Path | None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    size: int = 0

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def fetch(
    location: str,
    *,
    etag: str | None,
    last_modified: str | None,
    known_sha256: str | None,
    max_bytes: int,
    timeout_s: float = 60.0,
    follow_redirects: bool = True,
) -> Fetched:
    """The feed's current content on disk, or `path=None` if it is what was read last time.

    `follow_redirects=False` (production): a redirect fails the run, naming where it pointed, so
    a checked address cannot hand the fetch to an unchecked one.
    """
    if is_url(location):
        fetched = _download(location, etag, last_modified, max_bytes, timeout_s, follow_redirects)
    else:
        fetched = _copy(location, max_bytes)
    if fetched.path is not None and known_sha256 and fetched.sha256 == known_sha256:
        fetched.discard()  # same bytes as last time (a server without validators, or a file)
        fetched.path = None
    return fetched


def _download(
    url: str, etag: str | None, last_modified: str | None, max_bytes: int, timeout_s: float, follow: bool
) -> Fetched:
    headers = {"User-Agent": "AdFlux feed reader", "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with httpx.stream(
            "GET", url, headers=headers, timeout=timeout_s, follow_redirects=follow
        ) as response:
            if response.status_code == 304:
                return Fetched(None, etag=etag, last_modified=last_modified)
            if response.is_redirect:
                where = response.headers.get("Location", "?")
                raise FeedUnreachable(f"The feed redirects to {where}; register that address instead")
            if response.status_code != 200:
                raise FeedUnreachable(f"The feed answered HTTP {response.status_code}")
            path, digest, size = _spool(response.iter_bytes(CHUNK), max_bytes)
            return Fetched(
                path,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                sha256=digest,
                size=size,
            )
    except httpx.HTTPError as exc:
        # A body shorter than its Content-Length ends here too: a cut feed is never read as whole.
        raise FeedUnreachable(f"The feed could not be read: {type(exc).__name__}: {exc}") from exc


def _copy(location: str, max_bytes: int) -> Fetched:
    source = Path(location.removeprefix("file://"))
    try:
        with source.open("rb") as handle:
            path, digest, size = _spool(iter(lambda: handle.read(CHUNK), b""), max_bytes)
    except OSError as exc:
        raise FeedUnreachable(f"The feed file cannot be read: {exc.strerror or exc}") from exc
    return Fetched(path, sha256=digest, size=size)


def _spool(chunks: Iterable[bytes], max_bytes: int) -> tuple[Path, str, int]:
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(prefix="adflux-feed-", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    try:
        with handle:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise FeedUnreachable(f"The feed is larger than the {max_bytes // 2**20} MB allowed")
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, digest.hexdigest(), size
