"""Fuzzing campaign: schemathesis against every API operation of a live AdFlux on 127.0.0.1.

The CI test (tests/api/test_schemathesis.py) sends 20 examples per operation in-process; this is
the large run. It builds an app on a scratch PostgreSQL database (`adflux_bench_fuzz`, or SQLite
with --sqlite), seeds a few rows so ids in paths sometimes exist, serves it with a threaded
werkzeug server on a free loopback port, calling as the local admin (the fuzzer has admin rights,
so with a token it would sooner or later revoke its own), and runs the schemathesis CLI
(phases examples, coverage and fuzzing) with the checks the CI test asserts. With --all-checks it
also runs the stricter checks (e.g. negative_data_rejection) and reports what they find.

Usage:
    .venv/bin/python bench/bench_fuzz.py [--max-examples 200] [--workers 2] [--seed 42] [--sqlite]
        [--all-checks] [--max-time SECONDS] [--report-dir bench/results/fuzz] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import psycopg
from werkzeug.serving import make_server

from adflux.app import create_app
from adflux.cli.client import LocalAdminMiddleware
from adflux.extensions import db
from adflux.services import auth as auth_service
from adflux.settings import Settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "adflux_bench_fuzz"
CI_CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)

logger = logging.getLogger("bench_fuzz")


def _scratch_database() -> str:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    return f"postgresql://postgres@127.0.0.1:5432/{BENCH_DATABASE}"


def _seed(app: Any) -> str:
    """A few rows of each kind: jobs, candidates and users; returns an admin API token."""
    from adflux.schemas.candidates import CandidateSchema
    from adflux.schemas.jobs import JobOpeningSchema
    from adflux.services import candidates as candidates_service
    from adflux.services import jobs as jobs_service

    with app.app_context():
        db.create_all()
        for n in range(5):
            jobs_service.create_job(
                data=JobOpeningSchema().load(
                    {
                        "external_ref": f"FUZZ-J-{n}",
                        "title": f"Analista de datos {n}",
                        "company": "Acme Colombia S.A.S.",
                        "city": "Bogotá",
                        "department": "Bogotá D.C.",
                        "category": "tecnologia",
                        "modality": "remoto",
                        "apply_url": f"https://empleos.example.co/{n}",
                    }
                )
            )
            candidates_service.create_candidate(
                data=CandidateSchema().load(
                    {
                        "external_ref": f"FUZZ-C-{n}",
                        "city": "Medellín",
                        "department": "Antioquia",
                        "education_level": "profesional",
                        "years_experience": n,
                        "desired_category": "tecnologia",
                        "marketing_consent": True,
                        "birth_year": 1990 + n,
                        "desired_modality": "remoto",
                        "expected_salary": 5_000_000,
                        "email": f"persona{n}@example.com",
                    }
                )
            )
        admin = auth_service.create_user(email="fuzz-admin@bench.local", role="admin")
        auth_service.create_user(email="fuzz-viewer@bench.local", role="viewer")
        token = auth_service.issue_token(user_id=admin.id, name="bench_fuzz", expires_in_days=1).secret
        db.session.remove()
    return token


def _junit_summary(path: Path) -> dict[str, Any]:
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    cases = [case for suite in suites for case in suite.iter("testcase")]
    failed = [
        {
            "operation": case.get("name"),
            "failure": (case.find("failure") if case.find("failure") is not None else case.find("error")).get(
                "message", ""
            )[:300],
        }
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    ]
    return {"operations": len(cases), "failed_operations": len(failed), "failures": failed}


def _requests_sent(ndjson: Path) -> int:
    """Test cases executed, from the schemathesis event stream."""
    total = 0
    if not ndjson.exists():
        return 0
    for line in ndjson.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        # ScenarioFinished events carry the recorded cases of one scenario.
        finished = event.get("ScenarioFinished") or {}
        recorder = finished.get("recorder") or {}
        total += len(recorder.get("cases") or {})
    return total


def _run(
    url: str,
    *,
    checks: str,
    args: argparse.Namespace,
    report_dir: Path,
    label: str,
    token: str | None = None,
) -> dict[str, Any]:
    junit = report_dir / f"{label}-junit.xml"
    ndjson = report_dir / f"{label}-events.ndjson"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{url}/api/v1/openapi.json",
        "--checks",
        checks,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(args.max_examples),
        "--workers",
        str(args.workers),
        "--seed",
        str(args.seed),
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--report",
        "junit,ndjson",
        "--report-junit-path",
        str(junit),
        "--report-ndjson-path",
        str(ndjson),
    ]
    if token:
        # Sent by the fuzzer, which would lock itself out by revoking this token or demoting its
        # user: those two operations are left to the local-admin run.
        command += ["-H", f"Authorization: Bearer {token}"]
        command += ["--exclude-path-regex", r"^/api/v1/(tokens/\{token_id\}|users/\{user_id\})$"]
    if args.max_time:
        command += ["--max-time", str(args.max_time)]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    (report_dir / f"{label}-output.txt").write_text(completed.stdout + completed.stderr)
    summary = _junit_summary(junit) if junit.exists() else {"operations": 0, "failed_operations": 0}
    cases = _requests_sent(ndjson)
    return {
        "label": label,
        "checks": checks,
        "exit_code": completed.returncode,
        "seconds": round(elapsed, 1),
        "test_cases": cases,
        "cases_per_second": round(cases / elapsed, 1) if elapsed and cases else None,
        **summary,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-time", type=int, default=None, help="Time budget per run (seconds).")
    parser.add_argument(
        "--sqlite", action="store_true", help="A temporary SQLite file instead of PostgreSQL."
    )
    parser.add_argument("--all-checks", action="store_true", help="Also run every schemathesis check.")
    parser.add_argument("--report-dir", default="bench/results/fuzz")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    instance = Path(tempfile.mkdtemp(prefix="adflux-bench-fuzz-"))
    database_url = f"sqlite:///{instance / 'fuzz.db'}" if args.sqlite else _scratch_database()
    settings = Settings.from_env(
        {},
        env="testing",
        database_url=database_url,
        instance_path=str(instance),
        secret_key="bench-fuzz-key",
        # Tens of thousands of cases on one token: the per-token limit would answer 429 to most.
        api_rate_limit_per_minute=0,
    )
    app = create_app(settings)
    token = _seed(app)
    # Two servers on the same app: on the first every request is the local admin (as from the
    # in-process CLI), because the fuzzer has admin rights and would sooner or later revoke its own
    # token; the second is the real thing, for the --all-checks run that also checks auth.
    servers = [
        make_server("127.0.0.1", 0, LocalAdminMiddleware(app, name="bench_fuzz"), threaded=True),
        make_server("127.0.0.1", 0, app, threaded=True),
    ]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    local_url, token_url = (f"http://127.0.0.1:{server.server_port}" for server in servers)
    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    try:
        runs.append(_run(local_url, checks=CI_CHECKS, args=args, report_dir=report_dir, label="ci-checks"))
        if args.all_checks:
            runs.append(
                _run(
                    token_url, checks="all", args=args, report_dir=report_dir, label="all-checks", token=token
                )
            )
    finally:
        for server, thread in zip(servers, threads, strict=True):
            server.shutdown()
            thread.join(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)

    result = {
        "database": "sqlite" if args.sqlite else "postgresql",
        "max_examples": args.max_examples,
        "workers": args.workers,
        "seed": args.seed,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU, "
        f"Python {platform.python_version()}",
        "runs": runs,
    }
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        for run in runs:
            print(
                f"{run['label']}: {run['operations']} operations, {run['test_cases']} test cases in "
                f"{run['seconds']} s, {run['failed_operations']} operations failing (exit {run['exit_code']})"
            )
            for failure in run.get("failures", []):
                print(f"  - {failure['operation']}: {failure['failure']}")
        print(f"reports in {report_dir}/")
    return 0 if runs and runs[0]["failed_operations"] == 0 and runs[0]["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
