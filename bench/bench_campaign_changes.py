"""In-place campaign changes on five platforms: time and platform requests, against replacing.

Everything runs in this process on 127.0.0.1: a SQLite scratch database in a temporary
directory, eager Celery (tasks inline), the platform sandbox in a thread over loopback HTTP.

Per round, alternating which goes first: N campaigns live on Meta, Google, X, TikTok and
Snapchat have their job's title changed, then
- baseline (the way the feed loop did it before): complete each campaign on every platform and
  create + publish a replacement with the new copy;
- measured: `changes.refresh_creatives` (new copy in place on every platform), and
  `changes.change_campaign` (new budget and end date in place).
Checked by counting: campaign trees at the sandbox (replacement adds one per campaign, in place
adds none) and platform campaigns whose update_status is "applied".

Usage:
    .venv/bin/python bench/bench_campaign_changes.py [--campaigns 10] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

PLATFORMS = ["meta", "google", "x", "tiktok", "snapchat"]


def _requests(sandbox: Any) -> int:
    return sum(sandbox.state.requests[p] for p in PLATFORMS)


def _trees(sandbox: Any) -> int:
    return sum(sandbox.object_counts(p).get("campaign", 0) for p in PLATFORMS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--campaigns", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

    from adflux import embedded
    from adflux.app import create_app
    from adflux.extensions import db
    from adflux.models import Campaign, PlatformCampaign
    from adflux.sandbox.server import start_sandbox_in_thread
    from adflux.services import campaigns as campaigns_service
    from adflux.services.campaigns import changes
    from adflux.services.local_dates import today
    from adflux.settings import Settings
    from factories import make_job

    tmp = tempfile.mkdtemp(prefix="bench-changes-")
    settings = Settings.from_env(
        {}, env="testing", database_url=f"sqlite:///{tmp}/bench.db", instance_path=tmp, secret_key="bench"
    )
    app = create_app(settings)
    sandbox = start_sandbox_in_thread()
    embedded.set_in_process_sandbox(sandbox)
    rows: list[dict[str, Any]] = []
    with app.app_context():
        db.create_all()

        def live_campaigns() -> list[int]:
            ids = []
            for _ in range(args.campaigns):
                job = make_job()
                campaign = campaigns_service.create_campaign(
                    job_id=job.id, platforms=PLATFORMS, budget_total=3_000_000, budget_daily=100_000
                )
                campaigns_service.publish_campaign(campaign_id=campaign.id)
                ids.append(campaign.id)
            return ids

        def retitle(ids: list[int], label: str) -> None:
            for campaign_id in ids:
                db.session.get(Campaign, campaign_id).job.title = f"Analista {label} {campaign_id}"
            db.session.commit()

        def baseline(ids: list[int]) -> dict[str, Any]:
            retitle(ids, "reemplazo")
            trees, requests, started = _trees(sandbox), _requests(sandbox), time.perf_counter()
            for campaign_id in ids:
                old = db.session.get(Campaign, campaign_id)
                plan = {"job_id": old.job_id, "platforms": PLATFORMS, "budget_total": old.budget_total,
                        "budget_daily": old.budget_daily}  # fmt: skip
                campaigns_service.complete_campaign(campaign_id=campaign_id)
                new = campaigns_service.create_campaign(**plan)
                campaigns_service.publish_campaign(campaign_id=new.id)
            seconds, sent = time.perf_counter() - started, _requests(sandbox) - requests
            return {"path": "replace (baseline)", "seconds": seconds, "requests": sent,
                    "new_trees": _trees(sandbox) - trees, "applied": None}  # fmt: skip

        def in_place(ids: list[int]) -> dict[str, Any]:
            retitle(ids, "en sitio")
            trees, requests, started = _trees(sandbox), _requests(sandbox), time.perf_counter()
            for campaign_id in ids:
                changes.refresh_creatives(db.session, campaign_id, actor="bench")
            copy_seconds, copy_requests = time.perf_counter() - started, _requests(sandbox) - requests
            for campaign_id in ids:
                changes.change_campaign(db.session, campaign_id, actor="bench", budget_total=4_000_000,
                                        end_date=today() + timedelta(days=30))  # fmt: skip
            applied = sum(
                1
                for campaign_id in ids
                for pc in db.session.query(PlatformCampaign).filter_by(campaign_id=campaign_id)
                if pc.update_status == "applied" and pc.applied_revision == 2
            )
            return {"path": "in place", "seconds": copy_seconds, "requests": copy_requests,
                    "budget_seconds": time.perf_counter() - started - copy_seconds,
                    "budget_requests": _requests(sandbox) - requests - copy_requests,
                    "new_trees": _trees(sandbox) - trees, "applied": applied}  # fmt: skip

        for round_no in range(args.rounds):
            order = [baseline, in_place] if round_no % 2 == 0 else [in_place, baseline]
            for path in order:
                ids = live_campaigns()
                row = path(ids)
                row.update(round=round_no + 1, campaigns=len(ids), load=os.getloadavg())
                rows.append(row)
                if not args.json:
                    print(json.dumps(row, default=str))
    sandbox.stop()
    summary: dict[str, Any] = {"rounds": rows}
    for name in ("replace (baseline)", "in place"):
        mine = [r for r in rows if r["path"] == name]
        summary[name] = {
            "seconds_per_campaign": sum(r["seconds"] for r in mine) / sum(r["campaigns"] for r in mine),
            "requests_per_campaign": sum(r["requests"] for r in mine) / sum(r["campaigns"] for r in mine),
        }
    base, mine = summary["replace (baseline)"], summary["in place"]
    summary["ratio_time"] = base["seconds_per_campaign"] / mine["seconds_per_campaign"]
    summary["ratio_requests"] = base["requests_per_campaign"] / mine["requests_per_campaign"]
    print(json.dumps({k: v for k, v in summary.items() if k != "rounds" or args.json}, default=str, indent=1))


if __name__ == "__main__":
    main()
