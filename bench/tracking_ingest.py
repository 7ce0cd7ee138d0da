"""The ingest part of bench_tracking.py (issue 23): a generator of clicks and postback events with
their ground truth, the events ingested through the parser and `postbacks.ingest` by one or more
processes, and every stored attribution compared with the truth. Run it through bench_tracking.py
(``ingest [--events N] [--ingest-workers N]``)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench_tracking import fresh_schema, load

PLATFORMS = ("meta", "google", "tiktok", "snapchat", "x")


def generate(
    events: int, clicks: int, seed: int = 23
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict]:
    """Clicks, postback events and the truth: event id -> (attribution, click, campaign, platform, group)."""
    import random
    from datetime import UTC, datetime, timedelta

    rng = random.Random(seed)
    now = datetime.now(UTC)
    click_rows = []
    for i in range(clicks):
        group = rng.randrange(40)
        at = now - timedelta(seconds=rng.randrange(3600, 29 * 86400))
        click_rows.append(
            {
                "click_id": f"{i:032x}",
                "link_code": "bench",
                "campaign_id": 100 + group // 8,
                "platform": PLATFORMS[group % 5],
                "ad_group_id": 1000 + group,
                "segment_id": group % 4,
                "at": at,
            }
        )
    out, truth = [], {}
    for n in range(events):
        event: dict[str, Any] = {"event_id": f"ev-{n}", "job_reference": f"BENCH-JOB-{n % 50}"}
        kind = rng.random()
        moment = now - timedelta(seconds=rng.randrange(60, 29 * 86400))
        if kind < 0.70:
            click = click_rows[rng.randrange(clicks)]
            moment = click["at"] + (now - click["at"]) * rng.random()
            event["click_id"] = click["click_id"]
            truth[event["event_id"]] = (
                "attributed",
                click["click_id"],
                click["campaign_id"],
                click["platform"],
                click["ad_group_id"],
            )
        elif kind < 0.85:
            group = rng.randrange(40)
            event["utm"] = {
                "utm_source": PLATFORMS[group % 5],
                "utm_campaign": f"adflux-{100 + group // 8}",
                "utm_content": f"adgroup-{1000 + group}",
            }
            truth[event["event_id"]] = ("utm", None, 100 + group // 8, PLATFORMS[group % 5], 1000 + group)
        else:
            truth[event["event_id"]] = ("unattributed", None, None, None, None)
        if rng.random() < 0.02:
            event["job_reference"] = f"UNKNOWN-{n}"
            truth[event["event_id"]] = ("unattributed", None, None, None, None)
        if rng.random() < 0.3:
            event["email_sha256"], event["consent"] = f"{n:064x}", True
        event["occurred_at"] = moment.isoformat()
        out.append(event)
    return click_rows, out, truth


_FORKED: dict[str, Any] = {}


def _ingest_share(index: int) -> None:
    app, batches, workers = _FORKED["work"]
    _ingest_batches(app, batches[index::workers])


def _ingest_batches(app: Any, batches: list[list[dict[str, Any]]]) -> None:
    """Postbacks of `batches` through the parser and `postbacks.ingest`, one after the other."""
    from adflux.services.tracking import postbacks

    with app.app_context():
        for batch in batches:
            postbacks.ingest(postbacks.parse_body({"events": batch}))


def bench_ingest(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import insert, select

    from adflux.extensions import db
    from adflux.models import ApplicationEvent, Click, JobOpening
    from adflux.services.tracking import postbacks

    app = fresh_schema()
    click_rows, events, truth = generate(args.events, max(1000, args.events // 5))
    with app.app_context():
        for i in range(50):
            db.session.add(
                JobOpening(
                    external_ref=f"BENCH-JOB-{i}",
                    title="Cargo",
                    company="Bench",
                    city="Cali",
                    department="Valle",
                    category="tecnologia",
                    modality="remoto",
                    education_required="profesional",
                    apply_url="https://empleos.example.co/ofertas/b",
                )
            )
        for start in range(0, len(click_rows), 20_000):
            db.session.execute(insert(Click), click_rows[start : start + 20_000])
        db.session.commit()
        print(f"seeded {len(click_rows)} clicks; ingesting {len(events)} events ({load()})", flush=True)
        db.engine.dispose()  # no connection crosses the fork of --ingest-workers
        batches = [events[s : s + postbacks.MAX_BATCH] for s in range(0, len(events), postbacks.MAX_BATCH)]
        workers = max(1, args.ingest_workers)
        started = time.perf_counter()
        if workers == 1:
            _ingest_batches(app, batches)
        else:  # as the postback endpoint in several server workers: each its own process and connection
            import multiprocessing

            _FORKED["work"] = (app, batches, workers)  # inherited by the forked processes, not pickled
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                pool.map(_ingest_share, range(workers))
        seconds = time.perf_counter() - started
        columns = (
            ApplicationEvent.event_id,
            ApplicationEvent.attribution,
            ApplicationEvent.attributed_click_id,
            ApplicationEvent.campaign_id,
            ApplicationEvent.platform,
            ApplicationEvent.ad_group_id,
        )
        stored = {row[0]: tuple(row[1:]) for row in db.session.execute(select(*columns))}
    with_click = [eid for eid, t in truth.items() if t[0] == "attributed"]
    return {
        "events": len(events),
        "ingest_workers": workers,
        "rows_stored": len(stored),
        "seconds": round(seconds, 1),
        "events_per_second": round(len(events) / seconds),
        "events_with_click_id_matching_truth": sum(stored.get(e) == truth[e] for e in with_click),
        "events_with_click_id": len(with_click),
        "all_matching_truth": sum(stored.get(e) == t for e, t in truth.items()),
        "load": load(),
    }
