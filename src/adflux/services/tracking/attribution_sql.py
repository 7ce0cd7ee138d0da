"""Attribution and storage of a batch of parsed events in PostgreSQL, set-based.

The batch is copied (COPY) into a session's temporary staging table, then one
`INSERT … SELECT … ON CONFLICT (event_id) DO NOTHING` joins it to the clicks (by click id, the
click before the application and within the window) and to the jobs, applies the same rules as
`attribution.attribute` (the click, else the UTM values, else unattributed; an unknown job is
unattributed) and returns what it stored. Events already stored are skipped by the unique event id,
also when another process stores them at the same moment. No row goes through Python twice.
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
WITH joined AS (
    SELECT s.*,
           EXISTS (SELECT 1 FROM job_openings j WHERE j.external_ref = s.job_reference) AS known_job,
           c.click_id AS c_id, c.campaign_id AS c_campaign, c.platform AS c_platform,
           c.ad_group_id AS c_group, c.segment_id AS c_segment
    FROM postback_staging s
    LEFT JOIN clicks c ON c.click_id = s.click_id
                      AND c.at <= s.occurred_at
                      AND s.occurred_at <= c.at + make_interval(days => %(window)s)
), chosen AS (
    SELECT joined.*,
           CASE WHEN NOT known_job THEN 'unattributed'
                WHEN c_id IS NOT NULL THEN 'attributed'
                WHEN utm_campaign_id IS NOT NULL THEN 'utm'
                ELSE 'unattributed' END AS how
    FROM joined
)
INSERT INTO application_events (
    event_id, job_reference, occurred_at, received_at, click_id, utm, email_hash, phone_hash, consent,
    attribution, attributed_click_id, campaign_id, platform, ad_group_id, segment_id, day
)
SELECT event_id, job_reference, occurred_at, received_at, click_id, utm, email_hash, phone_hash, consent,
       how,
       CASE WHEN how = 'attributed' THEN c_id END,
       CASE how WHEN 'attributed' THEN c_campaign WHEN 'utm' THEN utm_campaign_id END,
       CASE how WHEN 'attributed' THEN c_platform WHEN 'utm' THEN utm_platform END,
       CASE how WHEN 'attributed' THEN c_group WHEN 'utm' THEN utm_ad_group_id END,
       CASE WHEN how = 'attributed' THEN c_segment END,
       CASE WHEN how <> 'unattributed' THEN (occurred_at AT TIME ZONE %(zone)s)::date END
FROM chosen
ON CONFLICT (event_id) DO NOTHING
RETURNING attribution
"""


def _staged(row: dict[str, Any]) -> tuple[Any, ...]:
    utm = row["utm"]
    target = utm_target(utm) if utm else None
    return (
        *(row["event_id"], row["job_reference"], row["occurred_at"], row["received_at"]),
        *(row["click_id"], json.dumps(utm) if utm else None, row["email_hash"]),
        *(row["phone_hash"], row["consent"]),
        *(target or (None, None, None)),
    )


def store(rows: list[dict[str, Any]], *, window_days: int, zone: str) -> list[str]:
    """Attribute and insert `rows` (parsed events, unique event ids); the attribution of each row
    stored (rows whose event id was already stored are not in it). The caller commits."""
    connection = db.session.connection()
    with driver_errors(connection, "COPY postback_staging"):
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(_STAGING)
        with cursor.copy(f"COPY postback_staging ({', '.join(_STAGED)}) FROM STDIN") as copy:
            copy.write(copy_text(_staged(row) for row in rows))
        cursor.execute(_ATTRIBUTE, {"window": window_days, "zone": zone})
        return [found[0] for found in cursor.fetchall()]  # the staging rows go at commit
