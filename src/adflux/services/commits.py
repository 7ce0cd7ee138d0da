"""Commits that keep what the session loaded: for hot paths that read the same rows right after."""

from __future__ import annotations

from adflux.extensions import db


def commit_keeping_loaded() -> None:
    """Commit without expiring the session's objects.

    Only where nothing else can have changed those rows in between that the caller must see:
    rows it holds a lock on, or rows it reads only to build what it is about to send. Saves the
    SELECTs that reloading them after a plain commit costs.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
