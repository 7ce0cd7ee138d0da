"""Where a feed may be read from. A feed's address is typed by a manager and then fetched by the
server, so in production it must not become a way to reach the server's own network or files:
only https addresses whose host resolves to public addresses, and files only under the folder an
administrator set aside for feeds (ADFLUX_FEED_DIR). Outside production anything goes (tests and
demos read loopback servers and temporary files). Checked when the feed is saved and again before
every fetch, since a name can resolve differently later."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def location_problem(location: str, *, production: bool, feed_dir: str | None) -> str | None:
    """Why the server must not read this location (None: it may)."""
    if not production:
        return None
    if location.lower().startswith(("http://", "https://")):
        return _url_problem(location)
    if not feed_dir:
        return "file feeds need ADFLUX_FEED_DIR (the folder set aside for them) in production"
    folder = Path(feed_dir).resolve()
    path = Path(location.removeprefix("file://")).resolve()
    if folder != path and folder not in path.parents:
        return f"a file feed must be inside {folder}"
    return None


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "only https:// addresses in production"
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return f"the host {host!r} cannot be resolved"
    addresses = {str(info[4][0]) for info in infos}
    private = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%", 1)[0]).is_global)
    if private:
        return f"the host {host!r} resolves to a private or local address ({private[0]})"
    return None


def masked_location(location: str) -> str:
    """A feed's address as people and the audit trail see it: no user or password, and the query
    string (where feed tokens usually sit) shown as "?…"."""
    parts = urlsplit(location)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return location
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", "")) + ("?…" if parts.query else "")
