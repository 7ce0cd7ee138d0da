"""Attribution and storage of a batch of parsed events in PostgreSQL, set-based.

The batch is copied (COPY) into a session's temporary staging table, then one `INSERT … SELECT`
looks up each event's click (by click id, the click before the application and within the window)
and job with one index probe each (LATERAL … LIMIT 1: never a scan of every click, whatever the
planner thinks of the staging table's size), applies the same rules as `attribution.attribute` (the
click, else the UTM values, else unattributed; an unknown job is unattributed) and returns how many
it stored of each. Events already stored are skipped by the unique event id, also when another
process stores them at the same moment (see `store`). No row goes through Python twice.
"""

from __future__ import annotations

import json
from typing import Any

from adflux.extensions import db
from adflux.services.tracking.attribution import utm_target
from adflux.services.tracking.copy_text import copy_text
from adflux.services.tracking.driver_errors import driver_errors

_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS postback_staging (
    event_id varchar(128), job_reference varchar(128), occurred_at timestamptz, received_at timestamptz,
    click_id varchar(32), utm jsonb, email_hash varchar(64), phone_hash varchar(64), consent boolean,
    utm_campaign_id integer, utm_platform varchar(20), utm_ad_group_id integer
) ON COMMIT DELETE ROWS
"""
_STAGED = (
    *("event_id", "job_reference", "occurred_at", "received_at", "click_id", "utm", "email_hash"),
    *("phone_hash", "consent", "utm_campaign_id", "utm_platform", "utm_ad_group_id"),
)
_ATTRIBUTE = """
WITH chosen AS (
    SELECT s.*, c.*, e.stored_before,
           CASE WHEN j.known IS NULL THEN 'unattributed'
                WHEN c.c_id IS NOT NULL THEN 'attributed'
                WHEN s.utm_campaign_id IS NOT NULL THEN 'utm'
                ELSE 'unattributed' END AS how
    FROM postback_staging s
    LEFT JOIN LATERAL (
        SELECT true AS known FROM job_openings WHERE external_ref = s.job_reference LIMIT 1
    ) j ON true
    LEFT JOIN LATERAL (
        SELECT click_id AS c_id, campaign_id AS c_campaign, platform AS c_platform,
               ad_group_id AS c_group, segment_id AS c_segment
        FROM clicks
        WHERE click_id = s.click_id
          AND at <= s.occurred_at AND s.occurred_at <= at + make_interval(days => %(window)s)
        LIMIT 1
    ) c ON true
    LEFT JOIN LATERAL (
        SELECT true AS stored_before FROM application_events WHERE event_id = s.event_id LIMIT 1
    ) e ON true
), stored AS (
    INSERT INTO application_events (
        event_id, job_reference, occurred_at, received_at, click_id, utm, email_hash, phone_hash, consent,
        attribution, attributed_click_id, campaign_id, platform, ad_group_id, segment_id, day
    )
    SELECT event_id, job_reference, occurred_at, received_at, click_id, utm, email_hash, phone_hash,
           consent, how,
           CASE WHEN how = 'attributed' THEN c_id END,
           CASE how WHEN 'attributed' THEN c_campaign WHEN 'utm' THEN utm_campaign_id END,
           CASE how WHEN 'attributed' THEN c_platform WHEN 'utm' THEN utm_platform END,
           CASE how WHEN 'attributed' THEN c_group WHEN 'utm' THEN utm_ad_group_id END,
           CASE WHEN how = 'attributed' THEN c_segment END,
           CASE WHEN how <> 'unattributed' THEN (occurred_at AT TIME ZONE %(zone)s)::date END
    FROM chosen
    WHERE stored_before IS NULL
    {conflict}
    RETURNING attribution
)
SELECT attribution, count(*) FROM stored GROUP BY attribution
"""
# Lines of the staging table's COPY text hold 11 tabs, a backslash per NULL and none of COPY's other
# special characters unless a value does (then the row is escaped field by field).
_TABS = len(_STAGED) - 1
_NULL = "\\N"


def _line(row: dict[str, Any], received: str) -> str:
    utm = row["utm"]
    target = utm_target(utm) if utm else None
    fields = (
        *(row["event_id"], row["job_reference"], row["occurred_at"].isoformat(), received),
        *(row["click_id"], json.dumps(utm) if utm else None, row["email_hash"], row["phone_hash"]),
        *("t" if row["consent"] else "f", *(target or (None, None, None))),
    )
    line = "\t".join([_NULL if value is None else str(value) for value in fields])
    # Each NULL is one backslash (\N); any other tab or backslash, or a line break, is a value's.
    if line.count("\\") != fields.count(None) or line.count("\t") != _TABS or "\n" in line or "\r" in line:
        return copy_text([fields])[:-1]
    return line


def _copy(rows: list[dict[str, Any]]) -> str:
    """The batch as COPY text, in one pass (most rows need no escaping: checked once per line)."""
    lines: list[str] = []
    last, received = None, ""
    for row in rows:
        if row["received_at"] is not last:  # one time for a whole postback
            last = row["received_at"]
            received = last.isoformat()
        lines.append(_line(row, received))
    return "\n".join(lines) + "\n"


def store(
    rows: list[dict[str, Any]], *, window_days: int, zone: str, careful: bool = False
) -> dict[str, int]:
    """Attribute and insert `rows` (parsed events, unique event ids); how many rows were stored with
    each attribution (rows whose event id was already stored are not counted). The caller commits.

    Event ids already stored are skipped by an anti-join; one stored by another process at the same
    moment makes the insert fail with an IntegrityError, and the caller retries `careful`ly (with
    `ON CONFLICT DO NOTHING`, which costs every row a speculative insertion, so only then)."""
    connection = db.session.connection()
    conflict = "ON CONFLICT (event_id) DO NOTHING" if careful else ""
    with driver_errors(connection, "COPY postback_staging"):
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(_STAGING)
        with cursor.copy(f"COPY postback_staging ({', '.join(_STAGED)}) FROM STDIN") as copy:
            copy.write(_copy(rows))
        cursor.execute(_ATTRIBUTE.replace("{conflict}", conflict), {"window": window_days, "zone": zone})
        return {how: int(count) for how, count in cursor.fetchall()}  # the staging rows go at commit
