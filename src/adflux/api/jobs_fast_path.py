"""The job list's fast path: `GET /api/v1/jobs` answered in plain WSGI before Flask (by the API's
fast paths, `fast_path`), with the common query (page, page_size, status, category, modality). The
page comes from PostgreSQL as JSON text on a connection kept per process
(`services.job_page_json`); with the response cache on, the answer is kept in it and found there
under the key `cached_read` uses, so either serves what the other stored.

Everything `fast_path` does not leave to the route already, this handler leaves to it: other query
arguments or values the schema would refuse or read otherwise (`city`, `q`, repeated or unknown
names, numbers not written plainly), a total past the count cap, any database error (after which
the next request opens a new connection). So the answers are the same, only cheaper
(bench/README.md, "The job list's fast path").
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import Flask

from adflux.api import fast_path, response_cache
from adflux.api.auth import required_role
from adflux.constants import JOB_CATEGORIES, JOB_STATUSES, MODALITIES
from adflux.extensions import db
from adflux.services import job_page_json
from adflux.settings import current_settings

PATH = "/api/v1/jobs"
ROUTE = PATH  # the route's rule, as the Flask hooks label it
ENDPOINT = "jobs.JobList"
CONTENT_TYPE = "application/json"
CHOICES = {"status": JOB_STATUSES, "category": JOB_CATEGORIES, "modality": MODALITIES}
# What PageArgsSchema accepts, written the one plain way (anything else: the route's parsing).
NUMBER = re.compile(r"[1-9][0-9]{0,6}")
LIMITS = {"page": 1_000_000, "page_size": 200}


class JobListAnswers:
    """The job list's handler of the API's fast paths (`fast_path.FastPaths`)."""

    route = ROUTE

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.role = required_role(ENDPOINT, "GET", app)  # what JobList.get's @requires names
        self.reader: job_page_json.JobPageReader | None = None
        with app.app_context():
            engine = db.engine
            if job_page_json.usable(engine):
                timed = current_settings(app).metrics_enabled
                self.reader = job_page_json.JobPageReader(engine, timed=timed)

    def close(self) -> None:
        """Close this thread's database connection (the next request opens another)."""
        if self.reader is not None:
            self.reader.drop()

    def find(self, query: str) -> fast_path.Found | None:
        args = _arguments(query)
        if args is None:
            return None
        filters, page, page_size = args
        cache: response_cache.ResponseCache | None = self.app.extensions.get(response_cache.EXTENSION)
        reader = self.reader
        assert reader is not None
        if cache is None:
            found = reader.read(filters, page=page, page_size=page_size)
            if found is None:
                return None
            return fast_path.Found(found.body(), None, CONTENT_TYPE, None)
        token = reader.token()
        if token is None:  # no version yet: the route reads without its cache ("bypass")
            return None
        pairs = tuple(sorted(parse_qsl(query, keep_blank_values=True)))
        key = response_cache.key_of(ENDPOINT, pairs, (token,), ())
        entry = cache.get(key)
        if entry is None:
            found = reader.read(filters, page=page, page_size=page_size)
            if found is None:
                return None
            entry = response_cache.Entry(found.body(), CONTENT_TYPE, response_cache.etag_of(key))
            cache.put(key, entry)
            outcome = "miss"
        else:
            outcome = "hit"
        return fast_path.Found(entry.body, entry.etag, CONTENT_TYPE, (ENDPOINT, outcome))


def _arguments(query: str) -> tuple[dict[str, str], int, int] | None:
    """(filters, page, page_size) of a query the fast path serves, else None."""
    filters: dict[str, str] = {}
    numbers = {"page": 1, "page_size": 20}
    seen: set[str] = set()
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in seen:
            return None
        seen.add(name)
        if name in numbers:
            if not NUMBER.fullmatch(value) or int(value) > LIMITS[name]:
                return None
            numbers[name] = int(value)
        elif name in CHOICES and value in CHOICES[name]:
            filters[name] = value
        else:
            return None
    return filters, numbers["page"], numbers["page_size"]


EXTENSION = "adflux_jobs_fast_path"


def install(app: Flask) -> None:
    """Answer the job list in the API's fast paths when this database allows it (PostgreSQL
    through psycopg); the handler is also `app.extensions[EXTENSION]` (for tests)."""
    handler = app.extensions[EXTENSION] = JobListAnswers(app)
    paths = fast_path.of(app)
    if handler.reader is not None:
        paths.add(PATH, handler)
