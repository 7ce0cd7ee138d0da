"""Images uploaded to the platforms, by content hash per account: each is uploaded once."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adflux.extensions import db
from adflux.models import MediaUpload


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def known(platform: str, account_ref: str, data: bytes) -> dict[str, Any] | None:
    """The media ids this account already has for these bytes, or None."""
    row = db.session.scalar(
        select(MediaUpload).where(
            MediaUpload.platform == platform,
            MediaUpload.account_ref == account_ref,
            MediaUpload.content_hash == content_hash(data),
        )
    )
    return dict(row.media) if row is not None else None


def forget(platform: str, account_ref: str, data: bytes, media: dict[str, Any]) -> bool:
    """Drop the record of an upload the platform no longer has, if it still names `media` (a
    concurrent publish may have replaced it already). Whether a row was dropped."""
    row = db.session.scalar(
        select(MediaUpload).where(
            MediaUpload.platform == platform,
            MediaUpload.account_ref == account_ref,
            MediaUpload.content_hash == content_hash(data),
        )
    )
    if row is None or dict(row.media) != media:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def remember(platform: str, account_ref: str, data: bytes, media: dict[str, Any]) -> None:
    """Record an upload (another worker recording the same one first is fine)."""
    if not media or known(platform, account_ref, data) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                MediaUpload(
                    platform=platform, account_ref=account_ref, content_hash=content_hash(data), media=media
                )
            )
    except IntegrityError:
        pass  # the same image recorded by a concurrent publish
