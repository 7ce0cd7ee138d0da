"""Normalising and hashing the emails of consented candidates for custom audiences.

Adapters accept either raw emails (hashed here, never sent or logged in clear) or values that
are already SHA-256 hex digests of normalised emails; both end up as lowercase hex digests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def normalise_email(email: str) -> str:
    """Trim and lowercase, the normalisation every platform documents for email matching."""
    return email.strip().lower()


def hash_email(email: str) -> str:
    """SHA-256 hex digest of the normalised email."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


def is_sha256_hex(value: str) -> bool:
    """True when ``value`` already looks like a SHA-256 hex digest."""
    return bool(_SHA256_HEX.match(value.strip().lower()))


def prepare_hashes(emails: Iterable[str] = (), hashed: Iterable[str] = ()) -> tuple[list[str], int]:
    """Return (unique digests in first-seen order, number of invalid inputs dropped)."""
    seen: dict[str, None] = {}
    invalid = 0
    for email in emails:
        if "@" not in email:
            invalid += 1
            continue
        seen.setdefault(hash_email(email), None)
    for digest in hashed:
        if not is_sha256_hex(digest):
            invalid += 1
            continue
        seen.setdefault(digest.strip().lower(), None)
    return list(seen), invalid


def chunked(values: list[str], size: int) -> Iterator[list[str]]:
    """Consecutive slices of at most ``size`` values (none for an empty list)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
