"""Restoring a pg_dump archive over a PostgreSQL database in one transaction, partitioned tables included.

`pg_restore --clean` drops what the archive holds one object at a time, and for a partitioned
table (`candidate_segments`, one partition per model version since migration 0033) it drops a
partition's primary key on its own — which PostgreSQL refuses ("cannot drop inherited
constraint"), so such a restore failed before it began. Here `pg_restore` only writes the script
(the same `--clean --if-exists` script) and `psql` runs it in one transaction after dropping the
database's partitioned tables whole (with their partitions; every `… IF EXISTS` that follows is
then a no-op). `ON_ERROR_STOP`: the first error ends the transaction, so a failed restore still
leaves the database exactly as it was.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

# Top-level partitioned tables of the public schema (partitions go with them).
_PARTITIONED = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'p' AND NOT c.relispartition AND n.nspname = 'public' ORDER BY c.relname"
)


def partitioned_tables(engine: Engine) -> list[str]:
    """The partitioned tables the database holds now."""
    with engine.connect() as conn:
        return [str(name) for name in conn.execute(_PARTITIONED).scalars()]


def restore_commands(
    pg_restore: str, psql: str, source: Path, database: str, partitioned: list[str]
) -> tuple[list[str], list[str]]:
    """The `pg_restore` that writes the script and the `psql` that runs it (reading stdin)."""
    writer = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--file",
        "-",
        str(source),
    ]
    drops = [
        f'DROP TABLE IF EXISTS public."{name.replace(chr(34), chr(34) * 2)}" CASCADE' for name in partitioned
    ]
    runner = [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1"]
    runner += [part for statement in drops for part in ("--command", statement)]
    return writer, [*runner, "--dbname", database, "--file", "-"]


def run_restore(
    writer: list[str],
    runner: list[str],
    env: dict[str, str],
    timeout: float,
    fail: Callable[[str, str], Exception],
) -> None:
    """Pipe the script from `writer` into `runner`; `fail(tool, stderr)` makes the error to raise."""
    with subprocess.Popen(writer, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as script:
        assert script.stdout is not None
        try:
            ran = subprocess.run(
                runner, env=env, stdin=script.stdout, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            script.kill()  # psql was killed by run(): its transaction is rolled back
            raise fail(Path(runner[0]).name, f"no answer in {timeout:.0f} s") from None
        finally:
            script.stdout.close()
        written_error = script.stderr.read().decode(errors="replace") if script.stderr else ""
        script.wait(timeout=timeout)
    if script.returncode != 0:
        raise fail(Path(writer[0]).name, written_error or f"exit status {script.returncode}")
    if ran.returncode != 0:
        raise fail(Path(runner[0]).name, ran.stderr.strip() or f"exit status {ran.returncode}")
