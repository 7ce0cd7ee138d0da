"""Recording a click on a tracking link, then where to send the visitor.

A click is written straight to the database; if the database cannot take it, it goes to the click
buffer (Redis, or a file without Redis) and `flush_buffered_clicks` writes it when the database is
back (the beat runs it every minute, the next successful click in the same process sooner). The
visitor is redirected either way: a click is never lost and never waits for the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, text
from sqlalchemy.exc import OperationalError

from adflux.catalogue import gettext as _
from adflux.extensions import db
from adflux.models import Click, TrackingLink
from adflux.services.errors import NotFound, ServiceUnavailable
from adflux.services.tracking import click_batches, click_buffer, click_push, click_writes
from adflux.services.tracking.links import CLICK_ID_PARAM, LinkTarget, utm_values, with_params
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

# The query parameter each platform adds to the ad's URL, in the order they are looked for.
PLATFORM_CLICK_PARAMS = ("fbclid", "gclid", "ttclid", "ScCid", "twclid")
FLUSH_BATCH = 5000

_targets: dict[str, LinkTarget] = {}
_buffered = threading.Event()  # set while this process has put clicks in the buffer


def _target(code: str) -> LinkTarget:
    found = _targets.get(code)
    if found is not None:
        return found
    try:
        link = db.session.scalar(select(TrackingLink).where(TrackingLink.code == code))
    except OperationalError as error:
        db.session.rollback()
        raise ServiceUnavailable(_("The tracking link cannot be read right now")) from error
    if link is None:
        raise NotFound(_("Unknown tracking link"))
    found = LinkTarget(
        code=link.code,
        campaign_id=link.campaign_id,
        platform=link.platform,
        ad_group_id=link.ad_group_id,
        segment_id=link.segment_id,
        creative_id=link.creative_id,
        destination_url=link.destination_url,
    )
    _targets[code] = found
    return found


def cached_target(code: str) -> LinkTarget | None:
    """The link `code` if this process has already read it (no database, no app context)."""
    return _targets.get(code)


def visitor_key(address: str | None, user_agent: str | None, *, secret: bytes | None = None) -> str:
    """A keyed hash of who clicked (address and browser): it names no one outside AdFlux."""
    secret = secret if secret is not None else current_settings().secret_key.encode()
    message = f"{address or ''}|{user_agent or ''}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


_random_pool = bytearray()
_random_pid = 0  # a forked worker must never reuse its parent's pool (the ids would repeat)
_random_lock = threading.Lock()


def new_click_id() -> str:
    """32 random hex digits, from the OS's CSPRNG read 4 KiB at a time (one syscall per 256 clicks)."""
    global _random_pool, _random_pid
    with _random_lock:
        if len(_random_pool) < 16 or _random_pid != os.getpid():
            _random_pool = bytearray(os.urandom(4096))
            _random_pid = os.getpid()
        chunk = bytes(_random_pool[-16:])
        del _random_pool[-16:]
    return chunk.hex()


def click_row(target: LinkTarget, args: Mapping[str, str], visitor: str, at: datetime) -> dict[str, Any]:
    param = next((name for name in PLATFORM_CLICK_PARAMS if args.get(name)), None)
    return {
        "click_id": new_click_id(),
        "link_code": target.code,
        "campaign_id": target.campaign_id,
        "platform": target.platform,
        "ad_group_id": target.ad_group_id,
        "segment_id": target.segment_id,
        "creative_id": target.creative_id,
        "platform_click_param": param,
        "platform_click_id": args[param][:255] if param else None,
        "visitor_hash": visitor,
        "at": at,
    }


def record_click(*, code: str, args: Mapping[str, str], address: str | None, user_agent: str | None) -> str:
    """Record one click on link `code` and return the URL to redirect the visitor to."""
    target = _target(code)
    row = click_row(target, args, visitor_key(address, user_agent), datetime.now(UTC))
    destination = redirect_url(target, row["click_id"])
    settings = current_settings()
    if settings.tracking_click_write_behind and click_buffer.is_shared(settings):
        try:
            _buffer([row])
        except Exception as error:  # Redis is down too: write the click directly below
            logger.warning("click buffer unavailable (%s); writing directly", type(error).__name__)
        else:
            _start_flusher(current_app._get_current_object())  # type: ignore[attr-defined]
            return destination
    try:
        db.session.execute(insert(Click), [row])
        db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        logger.warning("click %s buffered: database unavailable (%s)", row["click_id"], type(error).__name__)
        _buffer([row])
    else:
        if _buffered.is_set():
            flush_buffered_clicks()
    return destination


_flusher_pid: int | None = None
_flusher_lock = threading.Lock()
FLUSH_EVERY_SECONDS = 1.0


def buffer_click(
    app: Any, settings: Settings, target: LinkTarget, args: Mapping[str, str], visitor: str
) -> str:
    """The fast path's click: into the shared buffer (no database, no app context); the redirect URL.
    Raises when the buffer cannot take it (the caller then records the click the slow way)."""
    row = click_row(target, args, visitor, datetime.now(UTC))
    stored = {**row, "at": row["at"].isoformat()}
    buffer = click_buffer.buffer_for(settings)
    if settings.tracking_click_batch_ms > 0:
        click_batches.batcher_for(buffer, settings.tracking_click_batch_ms).add(stored)
    else:
        click_push.pusher_for(buffer).push(stored)  # in Redis before the 302 leaves
    _start_flusher(app)
    return redirect_url(target, row["click_id"])


_PLACEHOLDER = "0afc1d0afc1d0afc1d0afc1d0afc1d00"  # 32 hex digits, kept as is by urlencode
_templates: dict[str, tuple[str, str]] = {}


def redirect_url(target: LinkTarget, click_id: str) -> str:
    """Where link `target` sends the visitor of click `click_id`: the destination with the UTM
    values and the click id (built once per link; then a click costs two string joins)."""
    template = _templates.get(target.code)
    if template is None:
        url = with_params(target.destination_url, {**utm_values(target), CLICK_ID_PARAM: _PLACEHOLDER})
        head, _, tail = url.partition(_PLACEHOLDER)
        template = _templates[target.code] = (head, tail)
    return template[0] + click_id + template[1]


def _start_flusher(app: Any) -> None:
    """One thread per process writes the shared buffer to the database every second (write-behind)."""
    global _flusher_pid
    if _flusher_pid == os.getpid():
        return
    with _flusher_lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()  # a forked worker starts its own
        threading.Thread(target=_flush_forever, args=(app,), name="click-flusher", daemon=True).start()


def _flush_forever(app: Any) -> None:
    while True:
        time.sleep(FLUSH_EVERY_SECONDS)
        try:
            with app.app_context():
                if database_answers():
                    flush_buffered_clicks()
        except Exception:  # the buffer or the database is down: try again next second
            logger.warning("click flush failed; retrying", exc_info=True)


def database_answers() -> bool:
    """Whether the database takes a query now. The flusher asks before taking clicks from the
    buffer: during an outage it would otherwise take, decode, re-encode and give back up to
    FLUSH_BATCH clicks every second in every worker, holding the interpreter lock its redirects need."""
    try:
        db.session.execute(text("SELECT 1"))
    except OperationalError:
        with contextlib.suppress(Exception):
            db.session.rollback()
        return False
    return True


def landing_url(code: str) -> str:
    """Where link `code` sends visitors, without recording a click (a flood from one address)."""
    target = _target(code)
    return with_params(target.destination_url, utm_values(target))


def _buffer(rows: list[dict[str, Any]]) -> None:
    stored = [{**row, "at": row["at"].isoformat()} for row in rows]
    click_buffer.buffer_for(current_settings()).push(stored)
    _buffered.set()


def flush_buffered_clicks() -> int:
    """Write buffered clicks to the database in batches; the number written (0 if it is still down)."""
    buffer = click_buffer.buffer_for(current_settings())
    written = 0
    while True:
        rows = buffer.take(FLUSH_BATCH)
        if not rows:
            _buffered.clear()
            return written
        try:
            written += _write_buffered(rows)
        except Exception as error:  # nothing taken is dropped: back to the buffer, then say why
            with contextlib.suppress(Exception):
                db.session.rollback()
            buffer.give_back(rows)
            if isinstance(error, OperationalError):  # the database is down: the next flush retries
                return written
            raise


def _write_buffered(rows: list[dict[str, Any]]) -> int:
    written = click_writes.write(rows)  # a retried batch adds nothing twice
    db.session.commit()
    return written


def forget_link_cache() -> None:
    """Drop the per-process link cache (tests; links are otherwise immutable)."""
    _targets.clear()
    _templates.clear()
