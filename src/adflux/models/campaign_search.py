"""`campaigns.search_text`: what the campaign search matches, folded once when it is written.

The campaign list's search matches every word typed in the campaign's name or its job's title or
company, accent- and case-blind. Folding those three texts on every search (`lower(translate())`
per row and per column) cost ~280 ms of server time per 10,000 campaigns, twice per page (the
rows and their count). On PostgreSQL the folded texts are kept in `search_text`, joined by a
newline (no searched word holds one, so a word never matches across two of them), and the search
is a plain `LIKE` on that column: a trigram GIN index (pg_trgm) answers it when the database has
the extension, else a scan of the short column (~5 ms per 10,000 campaigns).

Who keeps it in step: triggers, for every writer (the ORM, bulk SQL, psql) --
- BEFORE INSERT, and BEFORE UPDATE OF name or job_id, on campaigns: computed from the row and its job;
- AFTER UPDATE OF title or company on job_openings: the job's campaigns recomputed.
The ORM never writes the column. SQLite (the embedded default, demo-sized data) leaves it NULL and
folds per row as before (services/campaigns/listing.py picks the path by dialect).

The trigram index is made only where pg_trgm can be: `CREATE EXTENSION` needs a superuser or,
pg_trgm being a trusted extension, the CREATE privilege on the database. Where neither holds
the index is skipped with a notice and the search still works by the column alone.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import DDL, Table, event

from adflux.models.text_folding import folded_sql

SEPARATOR = "\n"
FUNCTION = "adflux_campaign_search_text"
TRIGGER = "campaigns_search_text"
JOB_TRIGGER = "job_openings_campaign_search_text"
TRIGRAM_INDEX = "ix_campaigns_search_text_trgm"
# Indexes the database has where it can make them, which the models do not declare (the
# migrations' comparison with the models leaves them out: see migrations/env.py).
DATABASE_ONLY_INDEXES = frozenset({TRIGRAM_INDEX})
# Partitions (PostgreSQL): candidate_segments' per version and default, metrics_daily's per month.
PARTITION_NAME = re.compile(r"^(candidate_segments_(m\d+|default)|metrics_daily_y\d{4}m\d{2})$")

_POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}(campaign_name text, job bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT concat_ws(E'\\n', {folded_sql("campaign_name")}, {folded_sql("j.title")}, {folded_sql("j.company")})
FROM (SELECT 1) AS one LEFT JOIN job_openings AS j ON j.id = job
$$""",
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := {FUNCTION}(NEW.name, NEW.job_id);
    RETURN NEW;
END
$$""",
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}_job_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaigns SET search_text = {FUNCTION}(name, job_id) WHERE job_id = NEW.id;
    RETURN NULL;
END
$$""",
    f"DROP TRIGGER IF EXISTS {TRIGGER} ON campaigns",
    f"CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF name, job_id ON campaigns FOR EACH ROW "
    f"EXECUTE FUNCTION {FUNCTION}_trigger()",
    f"DROP TRIGGER IF EXISTS {JOB_TRIGGER} ON job_openings",
    f"CREATE TRIGGER {JOB_TRIGGER} AFTER UPDATE OF title, company ON job_openings FOR EACH ROW "
    "WHEN (NEW.title IS DISTINCT FROM OLD.title OR NEW.company IS DISTINCT FROM OLD.company) "
    f"EXECUTE FUNCTION {FUNCTION}_job_trigger()",
]

# pg_trgm and the index, or a notice where the role may not create the extension. The DO
# block's EXCEPTION clause is a savepoint: a refusal does not abort the transaction around it.
TRIGRAM_INDEX_STATEMENT = f"""DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON campaigns USING gin (search_text gin_trgm_ops)';
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported OR undefined_object THEN
    RAISE NOTICE 'pg_trgm is not available: the campaign search scans campaigns.search_text';
END
$$"""

BACKFILL_STATEMENT = f"UPDATE campaigns SET search_text = {FUNCTION}(name, job_id)"


def create_statements(dialect: str) -> list[str]:
    """DDL for the database-side upkeep of `search_text` and its index (PostgreSQL; none on SQLite)."""
    return [*_POSTGRESQL, TRIGRAM_INDEX_STATEMENT] if dialect == "postgresql" else []


def drop_statements(dialect: str) -> list[str]:
    """DDL that undoes `create_statements` (the extension stays: other objects may use it)."""
    if dialect != "postgresql":
        return []
    return [
        f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}",
        f"DROP TRIGGER IF EXISTS {JOB_TRIGGER} ON job_openings",
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON campaigns",
        f"DROP FUNCTION IF EXISTS {FUNCTION}_job_trigger()",
        f"DROP FUNCTION IF EXISTS {FUNCTION}_trigger()",
        f"DROP FUNCTION IF EXISTS {FUNCTION}(text, bigint)",
    ]


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """For alembic's comparison with the models: False for a database-only index, and for the
    partitions of a partitioned table (PostgreSQL) with their indexes: the model is the parent."""
    if not reflected or compare_to is not None:
        return True
    if type_ == "index" and name in DATABASE_ONLY_INDEXES:
        return False
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return not (type_ in ("table", "index") and table is not None and PARTITION_NAME.match(table))


def install(table: Table) -> None:
    """`db.create_all()` makes the triggers and the index as the migration does."""
    for statement in create_statements("postgresql"):
        event.listen(
            table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect="postgresql")
        )
