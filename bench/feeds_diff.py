"""bench_feeds parts 1-3: the feeds written, the simple diff against AdFlux's (each in a fresh process
of bench_feeds.py --child, alternated), and the runs as they run, changed and unchanged.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from feeds_scratch import load_average, make_app
from sqlalchemy import func, select

BENCH_FEEDS = Path(__file__).with_name("bench_feeds.py")
COMPARED = ("title", "company", "city", "category", "salary_min", "salary_max", "apply_url", "description")


def write_feeds(n: int, folder: Path, seed: int = 5) -> tuple[Path, Path, dict[str, int]]:
    """Feed A (n openings) and feed B (A with 1 % raises, 0.5 % gone, 0.5 % new)."""
    from adflux.simulation.jobs import generate_jobs
    from adflux.simulation.portal_feed import render_xml

    jobs = generate_jobs(n, seed=seed)
    a = folder / "feed-a.xml"
    a.write_bytes(render_xml(jobs))
    step_change, step_gone = 100, 200
    b_jobs, changed, gone = [], 0, 0
    for index, job in enumerate(jobs):
        if index % step_gone == 1:
            gone += 1
            continue
        if index % step_change == 0:
            job = {**job, "salary_min": (job["salary_min"] or 1_500_000) + 100_000,
                   "salary_max": (job["salary_max"] or 2_000_000) + 100_000}  # fmt: skip
            changed += 1
        b_jobs.append(job)
    new = generate_jobs(n // 200, seed=seed, start=n)
    b = folder / "feed-b.xml"
    b.write_bytes(render_xml(b_jobs + new))
    return a, b, {"changed": changed, "gone": gone, "new": len(new)}


def child(path_name: str, feed_file: str, instance: str) -> None:
    """Run one diff path in this (fresh) process; print its seconds, peak memory and counts."""
    app = make_app(Path(instance))
    with app.app_context():
        from adflux.extensions import db
        from adflux.models import JobFeed

        feed_id = db.session.scalar(select(JobFeed.id))
        started = time.perf_counter()
        counts = (adflux_diff if path_name == "adflux" else simple_diff)(feed_id, Path(feed_file))
        seconds = time.perf_counter() - started
        db.session.rollback()
    print(json.dumps({"path": path_name, "seconds": seconds, "peak_mb": peak_rss_mb(), **counts}))


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM). Not ru_maxrss: Linux carries that across
    fork and exec, so a child would report its parent's peak when the parent was bigger."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def adflux_diff(feed_id: int, path: Path) -> dict[str, int]:
    from adflux.services.feeds import diffing
    from adflux.services.feeds.records import read_records

    diff = diffing.compute(feed_id, read_records(path, "xml", {}))
    closed = sum(1 for _, reason in diff.closing if reason == "feed_gone")
    return {"new": len(diff.new), "changed": len(diff.changed), "gone": closed, "unchanged": diff.unchanged}


def simple_diff(feed_id: int, path: Path) -> dict[str, int]:
    """The simple way: the whole tree in memory, every row through the ORM, compared in Python."""
    from adflux.extensions import db
    from adflux.models import JobOpening
    from adflux.services.feeds.fields import normalise

    root = ET.parse(path).getroot()
    records = {}
    for index, element in enumerate(root.iter("job"), start=1):
        record = normalise(("record", index), {c.tag: (c.text or "") for c in element}, {})
        records[record.external_ref] = record.fields
    rows = {
        job.external_ref: job
        for job in db.session.scalars(select(JobOpening).where(JobOpening.feed_id == feed_id))
    }
    new = sum(1 for ref in records if ref not in rows)
    gone = sum(1 for ref, job in rows.items() if ref not in records and job.status == "open")
    changed = sum(
        1
        for ref, fields in records.items()
        if ref in rows and any(getattr(rows[ref], name) != fields.get(name, "") for name in COMPARED)
    )
    return {"new": new, "changed": changed, "gone": gone, "unchanged": len(records) - new - changed}


def measure(path_name: str, feed_file: Path, instance: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(BENCH_FEEDS), "--child", path_name, str(feed_file), str(instance)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_run(feed_id: int) -> tuple[float, Any]:
    from adflux.services.feeds.runs import run_feed

    started = time.perf_counter()
    run = run_feed(feed_id=feed_id, trigger="manual")
    return time.perf_counter() - started, run


def diff_part(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from adflux.extensions import db
    from adflux.models import JobOpening
    from adflux.services.feeds import registry
    from adflux.simulation.portal_feed import PortalFeedServer

    a, b, planted = write_feeds(args.jobs, folder)
    app = make_app(folder)
    report: dict[str, Any] = {
        "jobs": args.jobs,
        "feed_mb": round(b.stat().st_size / 2**20, 1),
        "planted": planted,
    }
    with app.app_context():
        db.create_all()
        feed = registry.create_feed(
            data={"name": "Bench", "location": str(a), "format": "xml", "max_shrink": 0.9}
        )
        seconds, run = timed_run(feed.id)
        report["first_run"] = {"seconds": round(seconds, 2), "new": run.new, "status": run.status}
        rounds = []
        for index in range(args.rounds):
            order = ("simple", "adflux") if index % 2 == 0 else ("adflux", "simple")
            result = {name: measure(name, b, folder) for name in order}
            result["load_average"] = load_average()
            rounds.append(result)
            simple, ours = result["simple"], result["adflux"]
            print(f"round {index + 1}: simple {simple['seconds']:.2f} s / {simple['peak_mb']:.0f} MB,"
                  f" adflux {ours['seconds']:.2f} s / {ours['peak_mb']:.0f} MB,"
                  f" load {result['load_average']}", flush=True)  # fmt: skip
        report["rounds"] = rounds
        registry.update_feed(feed_id=feed.id, changes={"location": str(b)})
        seconds, run = timed_run(feed.id)
        db.session.expire_all()
        open_rows = db.session.scalar(
            select(func.count()).select_from(JobOpening).where(JobOpening.status == "open")
        )
        report["changed_run"] = {
            "seconds": round(seconds, 2), "status": run.status, "new": run.new, "changed": run.changed,
            "closed": run.closed, "unchanged": run.unchanged, "open_rows_after": open_rows,
        }  # fmt: skip
        report["unchanged_file_s"] = [round(timed_run(feed.id)[0], 3) for _ in range(3)]
        server = PortalFeedServer(b.read_bytes())
        try:
            registry.update_feed(feed_id=feed.id, changes={"location": server.url})
            timed_run(feed.id)  # reads it whole once (the address changed), all unchanged
            report["unchanged_http_304_s"] = [round(timed_run(feed.id)[0], 3) for _ in range(5)]
            report["http_requests"], report["http_304"] = server.requests, server.not_modified
        finally:
            server.stop()
    return report
