"""Automation · job feeds: each feed and its last read, the recent runs, "read now", and adding a feed."""

from __future__ import annotations

import logging
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from adflux.services.errors import Conflict, DomainError, ServiceUnavailable, ValidationFailed
from adflux.services.feeds import registry as feeds_service
from adflux.services.feeds.destinations import masked_location
from adflux.web.auth import current_session_user, login_required
from adflux.web.views.approvals import pending_count
from adflux.web.views.blueprint import bp, page_number

logger = logging.getLogger(__name__)

RUNS_PAGE_SIZE = 20
# The first rejected rows shown for a run (the run keeps more).
RUN_ERRORS_SHOWN = 5
FEED_FORMAT_LABELS: dict[str, Any] = {
    "xml": "XML",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "csv": "CSV",
}
RUN_STATUS_LABELS: dict[str, Any] = {
    "queued": _l("Queued"),
    "running": _l("Running"),
    "succeeded": _l("Succeeded"),
    "unchanged": _l("Unchanged"),
    "failed": _l("Failed"),
    "skipped": _l("Skipped"),
}
# The badge colour of each run status (the stylesheet colours campaign and task statuses).
RUN_STATUS_BADGES = {"queued": "pending", "unchanged": "completed", "skipped": "draft"}
TRIGGER_LABELS: dict[str, Any] = {"schedule": _l("Scheduled"), "manual": _l("By hand")}
# What each field of the add-a-feed form must be, said in the reader's language.
FEED_FIELD_ERRORS: dict[str, Any] = {
    "name": _l("Give it a name of 2 to 120 characters."),
    "location": _l("An http:// or https:// address, or the full path of a file on the server."),
    "format": _l(
        "Choose the format, or leave it to be guessed from an address ending in .xml, .json, .jsonl or .csv."
    ),
    "interval_minutes": _l("A whole number of minutes, from 1 to 10,080 (one week)."),
}
FORM_FIELDS = ("name", "location", "format", "interval_minutes")


def interval_label(minutes: int) -> str:
    """ "every 15 minutes", "every 2 hours", "every day"."""
    if minutes % 1440 == 0:
        return ngettext("every day", "every %(num)s days", minutes // 1440)
    if minutes % 60 == 0:
        return ngettext("every hour", "every %(num)s hours", minutes // 60)
    return ngettext("every minute", "every %(num)s minutes", minutes)


def _whole_number(text: str) -> int | None:
    try:
        return int(text) if text.isascii() else None
    except ValueError:
        return None


def _can_act() -> bool:
    principal = current_session_user()
    return principal is not None and principal.has_role("manager")


def _render(form: dict[str, str], errors: dict[str, list[str]], status: int = 200) -> tuple[str, int]:
    feeds = feeds_service.list_feeds()
    runs = feeds_service.list_runs(page=page_number(), page_size=RUNS_PAGE_SIZE)
    html = render_template(
        "automation/feeds.html",
        feeds=feeds,
        feed_names={feed.id: feed.name for feed in feeds},
        intervals={feed.id: interval_label(feed.interval_minutes) for feed in feeds},
        locations={feed.id: masked_location(feed.location) for feed in feeds},
        runs=runs,
        run_errors_shown=RUN_ERRORS_SHOWN,
        can_act=_can_act(),
        form=form,
        errors=errors,
        formats=FEED_FORMAT_LABELS,
        run_status_labels=RUN_STATUS_LABELS,
        run_status_badges=RUN_STATUS_BADGES,
        trigger_labels=TRIGGER_LABELS,
        pending_approvals=pending_count(),
    )
    return html, status


@bp.get("/feeds")
@login_required("viewer")
def feed_list() -> tuple[str, int]:
    """The feeds, their recent runs and (for managers) "read now" and the add-a-feed form."""
    return _render({"interval_minutes": "15"}, {})


@bp.post("/feeds")
@login_required("manager")
def feed_create() -> BaseResponse | tuple[str, int]:
    """Add a feed; a mistake re-shows the form with what was typed and why, and adds nothing."""
    form = {name: (request.form.get(name) or "").strip()[:1000] for name in FORM_FIELDS}
    data: dict[str, Any] = {"name": form["name"], "location": form["location"], "format": form["format"]}
    data["interval_minutes"] = _whole_number(form["interval_minutes"])
    try:
        feed = feeds_service.create_feed(data=data)
    except ValidationFailed as exc:
        errors = {
            name: [str(FEED_FIELD_ERRORS.get(name, _("This value cannot be used.")))] for name in exc.errors
        }
        return _render(form, errors, 400)
    except Conflict:
        return _render(form, {"name": [_("A feed with this name already exists.")]}, 409)
    every = interval_label(feed.interval_minutes)
    flash(_("Feed “%(name)s” added; it will be read %(every)s.", name=feed.name, every=every), "success")
    return redirect(url_for("web.feed_list"))


@bp.post("/feeds/<int:feed_id>/run")
@login_required("manager")
def feed_run(feed_id: int) -> BaseResponse:
    """Read a feed now (queued for the worker), then back to the feeds page."""
    feed = feeds_service.get_feed(feed_id=feed_id)  # NotFound → the 404 page
    try:
        feeds_service.start_run(feed_id=feed.id)
    except ServiceUnavailable as exc:
        flash(
            _("The task queue did not answer, so the feed was not read; try again in a few minutes."), "error"
        )
        logger.warning("dashboard: reading feed %s failed: %s", feed_id, exc.message)
    except DomainError as exc:
        flash(_("Could not do that: %(reason)s", reason=exc.message), "error")
    else:
        flash(_("Reading queued: “%(name)s”.", name=feed.name), "success")
    return redirect(url_for("web.feed_list"))
