"""Data versions: a token per table that changes with every write to it, kept by triggers.

A read endpoint whose answer depends only on some tables can serve an answer it built before as
long as those tables' tokens are unchanged (see `adflux.api.response_cache`): one primary-key
lookup instead of the page query, its total and the serialisation. The tokens are kept by the
database itself, so every writer counts — the API, the CLI, imports, `adflux seed`'s COPY, a
restore, another process or another machine — without any of them having to remember.

A token is random rather than a counter: a counter can repeat after its row is deleted (tests
empty every table; an operator may truncate one), which would let an old answer pass for a new
one; a random 128-bit token does not repeat. No row means "unknown": nothing is served from a
cache.

PostgreSQL: one statement-level trigger per table (AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE)
upserts the table's row. The upsert holds that row's lock until the writing transaction ends,
so concurrent writers of one tracked table take turns at commit; tracked tables are written
rarely next to how often they are read. SQLite has only row-level triggers: one per row
written, which is cheap there.

Tables changed inside long transactions (`AT_COMMIT_TABLES`: the campaign list's, whose
publisher can hold a flushed platform-campaign UPDATE across a platform call) share one token,
`campaigns`, changed at COMMIT instead, so the token row is locked only for the commit itself and
writers do not wait on each other's open transactions: a row-level constraint trigger, DEFERRABLE
INITIALLY DEFERRED, whose WHEN (evaluated as the row is written) queues it once per transaction
and token (`adflux_data_version_first`: a transaction-local flag set with `set_config(..., true)`,
undone with the savepoint that set it). One token for the group, not one per table: a commit then
locks one token row, so two commits that wrote the tables in different orders cannot deadlock on
token rows. A TRUNCATE bumps at once (it locks the whole table anyway). One change per
transaction is enough: the token becomes visible with the transaction's rows, atomically,
whenever in the transaction it was written.

A session with `session_replication_role = replica` skips triggers. AdFlux uses that only for
candidate personas and segment assignments (bulk loads), which are not tracked; a table that is
tracked must never be written that way.
"""

from __future__ import annotations

from sqlalchemy import DDL, String, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from adflux.extensions import Model, db

# What the campaign list reads (with job_openings): table -> the token its writes change, at commit
# (module doc; migration 0034).
AT_COMMIT_TABLES = {
    "campaigns": "campaigns",
    "platform_campaigns": "campaigns",
    "ad_groups": "campaigns",
    "campaign_metric_totals": "campaigns",
}
# The tokens: one per table whose writes change it, or per group of AT_COMMIT_TABLES. Adding one
# needs a migration (see 0006).
VERSIONED_TABLES = ("job_openings", "daily_metric_totals", "candidates", "campaigns")
# The tables with triggers.
TRACKED_TABLES = ("job_openings", "daily_metric_totals", "candidates", *AT_COMMIT_TABLES)

FUNCTION = "adflux_bump_data_version"
NAMED_FUNCTION = "adflux_bump_named_data_version"
FIRST_FUNCTION = "adflux_data_version_first"


class DataVersion(Model):
    """The current token of one table, or of a group of tables (see module doc)."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


_BUMP_FUNCTION = f"""CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (name, token)
    VALUES (TG_TABLE_NAME, md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$"""
# The same, for the token named by the trigger's argument (a group of tables shares it).
_NAMED_FUNCTION = f"""CREATE OR REPLACE FUNCTION {NAMED_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO data_versions (name, token)
    VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text))
    ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END
$$"""
# True the first time it is called for `name` in a transaction (a transaction-local setting).
_FIRST_FUNCTION = f"""CREATE OR REPLACE FUNCTION {FIRST_FUNCTION}(name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF current_setting('adflux.data_version_' || name, true) = 'on' THEN
        RETURN false;
    END IF;
    PERFORM set_config('adflux.data_version_' || name, 'on', true);
    RETURN true;
END
$$"""


def create_statements(dialect: str, table: str) -> list[str]:
    """DDL that makes writes to `table` change its token (the function is created idempotently)."""
    token = AT_COMMIT_TABLES.get(table, table)
    if dialect == "postgresql" and table in AT_COMMIT_TABLES:
        return [
            _NAMED_FUNCTION,
            _FIRST_FUNCTION,
            f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}",
            f"CREATE CONSTRAINT TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({FIRST_FUNCTION}('{token}')) "
            f"EXECUTE FUNCTION {NAMED_FUNCTION}('{token}')",
            f"DROP TRIGGER IF EXISTS {table}_data_version_truncate ON {table}",
            f"CREATE TRIGGER {table}_data_version_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {NAMED_FUNCTION}('{token}')",
        ]
    if dialect == "postgresql":
        return [
            _BUMP_FUNCTION,
            f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}",
            f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()",
        ]
    if dialect == "sqlite":
        bump = (
            f"INSERT INTO data_versions (name, token) VALUES ('{token}', lower(hex(randomblob(16)))) "
            "ON CONFLICT (name) DO UPDATE SET token = excluded.token;"
        )
        statements = []
        for operation in ("INSERT", "UPDATE", "DELETE"):
            trigger = f"{table}_data_version_{operation.lower()}"
            statements += [
                f"DROP TRIGGER IF EXISTS {trigger}",
                f"CREATE TRIGGER {trigger} AFTER {operation} ON {table} BEGIN {bump} END",
            ]
        return statements
    return []  # another database: no tokens, so nothing is ever served from the cache


def initial_token_statement(dialect: str, table: str) -> str | None:
    """A first token named `table` (a database upgraded with data in it has had no write yet)."""
    if dialect == "postgresql":
        return (
            f"INSERT INTO data_versions (name, token) VALUES ('{table}', md5(random()::text || "
            "clock_timestamp()::text)) ON CONFLICT (name) DO NOTHING"
        )
    if dialect == "sqlite":
        return (
            f"INSERT INTO data_versions (name, token) VALUES ('{table}', lower(hex(randomblob(16)))) "
            "ON CONFLICT (name) DO NOTHING"
        )
    return None


def drop_statements(dialect: str, table: str) -> list[str]:
    """DDL that undoes `create_statements` for `table` (the function stays for other tables)."""
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_data_version_truncate ON {table}",
        ]
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_data_version_{op}" for op in ("insert", "update", "delete")]
    return []


def _install_on_create(table: Table) -> None:
    # `db.create_all()` (tests, a fresh SQLite file) gets the triggers as migrations do.
    for dialect in ("postgresql", "sqlite"):
        for statement in create_statements(dialect, table.name):
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))


def install_triggers_on_create() -> None:
    """Attach the trigger DDL to the tracked tables' CREATE (called once the models are loaded)."""
    for name in TRACKED_TABLES:
        _install_on_create(db.metadata.tables[name])
