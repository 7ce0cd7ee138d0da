"""The `adflux` console script keeps the garbage collector out of the CLI's start-up and shutdown,
and only there: a process that imports `adflux.cli` (the tests, the server) keeps its collector."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import gc, json, sys
from adflux import command_line
seen = {}
original = command_line.settle_after_start
def spy():
    seen["starting"] = gc.get_threshold()
    original()
    seen["settled"] = gc.get_threshold()
    seen["frozen"] = gc.get_freeze_count()
command_line.settle_after_start = spy
sys.argv = ["adflux", "--json", "view-jobs"]
try:
    command_line.run()
except SystemExit as exit:
    seen["code"] = exit.code
seen["frozen_at_exit"] = gc.get_freeze_count()
sys.stderr.write("PROBE " + json.dumps(seen) + "\\n")
"""


def _python(tmp_path: Path, database_url: str, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter on this checkout's src, in-process (no server, no broker)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADFLUX_ENV": "development",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"),
    }
    env.pop("ADFLUX_API_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_script_settles_the_collector_once_the_app_is_built(tmp_path: Path):
    done = _python(tmp_path, f"sqlite:///{tmp_path / 'empty.db'}", PROBE)
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    seen = json.loads(line.removeprefix("PROBE "))
    assert seen["starting"] == [100_000, 10, 10]  # rare collections while importing
    assert seen["settled"] == list(gc.get_threshold())  # this process's (CPython's) defaults back
    assert seen["frozen"] > 100_000  # the app's long-lived objects, out of every later collection
    assert seen["frozen_at_exit"] >= seen["frozen"]  # frozen again before the shutdown
    assert seen["code"] == 1  # the command itself still ran: an empty database is a one-line error
    assert "Traceback" not in done.stderr


def test_importing_the_cli_as_a_library_leaves_the_collector_alone(app):
    from adflux import cli

    thresholds = gc.get_threshold()
    context = cli.CliContext(api_url=None, token=None, as_json=True, _app=app)
    assert context.app is app
    assert cli.after_start is None
    assert gc.get_threshold() == thresholds


def test_the_console_script_reads_ahead_only_for_a_training_it_waits_for(monkeypatch):
    from adflux.command_line import is_waiting_training

    monkeypatch.delenv("ADFLUX_API_URL", raising=False)
    for args in (
        ["train-segments"],
        ["--json", "train-segments", "--k-min", "2", "--force"],
        ["--lang", "en", "train-segments"],
        ["--lang=en", "--token", "t", "train-segments", "--seed", "3"],
        ["train-segments", "--", "--no-wait"],
    ):
        assert is_waiting_training(args), args
    for args in (
        [],
        ["view-jobs"],
        ["--help", "train-segments"],
        ["--version"],
        ["train-segments", "--no-wait"],
        ["train-segments", "--help"],
        ["train-segments", "-h"],
        ["--api-url", "http://127.0.0.1:5000", "train-segments"],
        ["--api-url=http://127.0.0.1:5000", "train-segments"],
        ["--lang", "train-segments"],  # the verb is the language here: click refuses it
        ["models", "train-segments"],
    ):
        assert not is_waiting_training(args), args
    monkeypatch.setenv("ADFLUX_API_URL", "http://127.0.0.1:5000")
    assert not is_waiting_training(["train-segments"])


def test_a_training_on_a_bad_or_unreachable_database_is_a_one_line_error(tmp_path: Path):
    """The read ahead meets the database first: a wrong URL or a server that is down is still the
    CLI's one-line error and a non-zero exit, never a traceback."""
    for url, says in (
        ("garbage-url", "DATABASE_URL"),
        ("postgresql://nobody@127.0.0.1:1/none", "Error:"),
    ):
        script = "import sys; from adflux.command_line import run; sys.argv[0] = 'adflux'; run()"
        done = _python(tmp_path, url, script, "train-segments")
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and says in lines[0], done.stderr


WIRING = """
import json, sys
from adflux import command_line, malloc_heap
from adflux.services import candidate_read
calls = []
malloc_heap.keep_freed_memory = lambda: calls.append("kept") or True
malloc_heap.usual_allocator = lambda: calls.append("usual") or True
candidate_read.start_for_training = lambda settings, reference_year: sys.argv[1] == "reads"
started = command_line._start_training_read()
print(json.dumps({"started": started, "calls": calls, "kept": command_line._state["heap_kept"]}))
"""


def test_the_allocator_keeps_freed_memory_only_for_a_training_read_ahead(tmp_path: Path):
    """Set before the read's thread starts; a training streamed in passes, on another database or
    by a worker reads nothing ahead, and its process goes back to glibc's usual allocator."""
    url = "postgresql://nobody@127.0.0.1:1/none"
    outcomes = {}
    for case in ("reads", "does-not-read"):
        done = _python(tmp_path, url, WIRING, case)
        assert done.returncode == 0, done.stderr
        outcomes[case] = json.loads(done.stdout)
    assert outcomes["reads"] == {"started": True, "calls": ["kept"], "kept": True}
    assert outcomes["does-not-read"] == {"started": False, "calls": ["kept", "usual"], "kept": False}
