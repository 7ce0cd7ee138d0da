"""Job-feed benchmark: a 100,000-opening XML feed read and compared with PostgreSQL, an unchanged
feed's run, and (with --campaigns) new openings followed by campaigns through real workers.

Everything runs on 127.0.0.1 and is created and removed by this script (scratch database
`adflux_bench_feeds`, Redis database 13, a sandbox process, Celery workers).

1. Diff, same run, alternating every round (each path in a fresh process, so its peak memory is
   its own): the simple way — parse the whole XML tree, load every opening through the ORM,
   compare field by field in Python — against AdFlux's path (streamed records, one Core query of
   references and fingerprints, validation only for what changed). Both on the same feed (1 %
   changed salaries, 0.5 % gone, 0.5 % new) against the same database; the counts must agree.
2. The run as it runs (fetch the file, read, compare, write in one transaction) on that feed,
   counted in rows afterwards.
3. An unchanged feed: over HTTP with ETag (a 304) and as a file (a hash of the bytes).
4. --campaigns N: N new openings in the feed → N campaigns created by a playbook and published
   by workers (-Q automation,publishing) to the sandbox process with rate limits; then one
   opening is filled in the feed and the time until its campaign is paused on every platform.

Usage:
    .venv/bin/python bench/bench_feeds.py [--jobs 100000] [--rounds 3] [--campaigns 1000]
        [--limits meta=50,google=20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from feeds_campaigns import campaigns_rounds
from feeds_diff import child, diff_part
from feeds_scratch import drop_database, load_average, make_app, recreate_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--campaigns", type=int, default=0, help="new openings followed by campaigns (0: skip)"
    )
    parser.add_argument("--limits", default="meta=50,google=20,tiktok=45")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--time-limit", type=float, default=900.0)
    parser.add_argument("--split-queues", action="store_true", help="a worker of its own for automation")
    parser.add_argument(
        "--limiters", default="process,account",
        help="client limiters to compare, alternated: process (a bucket per worker process, the rate"
        " split between them) and/or account (one bucket per account shared through Redis)",
    )  # fmt: skip
    parser.add_argument("--campaign-rounds", type=int, default=1, help="rounds of --campaigns per limiter")
    parser.add_argument("--client-share", type=float, default=0.9, help="client limit / platform's limit")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis db (flushed): broker and limits")
    parser.add_argument("--skip-diff", action="store_true", help="only the campaigns part")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    folder = Path(tempfile.mkdtemp(prefix="adflux-bench-feeds-"))
    recreate_database()
    report: dict[str, Any] = {"load_average_start": load_average(), "cpus": os.cpu_count()}
    try:
        if not args.skip_diff:
            report["diff"] = diff_part(args, folder)
        else:
            make_app(folder).app_context().push()
            from adflux.extensions import db

            db.create_all()
        if args.campaigns:
            report["campaigns"] = campaigns_rounds(args, folder)
    finally:
        drop_database()
    report["load_average_end"] = load_average()
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
