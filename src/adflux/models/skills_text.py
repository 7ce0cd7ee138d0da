"""`candidates.skills_text`: a candidate's skills joined by one separator, so they read fast in bulk.

Segmentation reads every candidate's skills. Rendering the `skills` jsonb as text in a COPY costs
the server ~3 s per million candidates (the CSV then doubles every quote, and the client
undoes it); a plain text column of the same skills joined by U+001F (the ASCII unit separator)
costs ~0.8 s and splits with one Arrow call. The column is derived from `skills` and never
edited on its own; NULL means "not representable" (skills NULL, not a list, a non-string
element, or a token that holds the separator), and the reader then parses the jsonb instead.

Who keeps it in step:
- the ORM (`before_insert` / `before_update` on Candidate) for API and CLI edits;
- the bulk writers that bypass the ORM's events (seeding's COPY, imports) compute it with
  `skills_text()` as they build rows;
- on PostgreSQL, a BEFORE trigger computes it for any other writer (psql, another program):
  on INSERT when the value is missing, on UPDATE when `skills` changed and `skills_text` did
  not. AdFlux's own writers always supply it, so the trigger's body does not run for them
  (computing it in SQL costs ~25 µs a row, ~10x what the read saves per row).
A restore (pg_restore, the SQLite backup API) copies the column with its row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, Table, event

SEPARATOR = "\x1f"
FUNCTION = "adflux_skills_text"
TRIGGER = "candidates_skills_text"


def skills_text(skills: Any) -> str | None:
    """The joined form of one candidate's skills (None when the list cannot be joined faithfully)."""
    if not isinstance(skills, list | tuple):
        return None
    if not all(isinstance(token, str) and SEPARATOR not in token for token in skills):
        return None
    return SEPARATOR.join(skills)


# PostgreSQL: the same rule in SQL, for writers other than AdFlux's.
_POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}(skills jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN jsonb_typeof(skills) IS DISTINCT FROM 'array' THEN NULL
    WHEN jsonb_array_length(skills) = 0 THEN ''
    ELSE (
        SELECT string_agg(t.e #>> '{{}}', E'\\x1f' ORDER BY t.n)
        FROM jsonb_array_elements(skills) WITH ORDINALITY AS t(e, n)
        HAVING bool_and(jsonb_typeof(t.e) = 'string' AND strpos(t.e #>> '{{}}', E'\\x1f') = 0)
    )
END
$$""",
    f"""CREATE OR REPLACE FUNCTION {FUNCTION}_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.skills_text := {FUNCTION}(NEW.skills);
    RETURN NEW;
END
$$""",
    f"DROP TRIGGER IF EXISTS {TRIGGER}_insert ON candidates",
    f"CREATE TRIGGER {TRIGGER}_insert BEFORE INSERT ON candidates FOR EACH ROW "
    f"WHEN (NEW.skills_text IS NULL) EXECUTE FUNCTION {FUNCTION}_trigger()",
    f"DROP TRIGGER IF EXISTS {TRIGGER}_update ON candidates",
    f"CREATE TRIGGER {TRIGGER}_update BEFORE UPDATE OF skills ON candidates FOR EACH ROW "
    "WHEN (NEW.skills IS DISTINCT FROM OLD.skills AND NEW.skills_text IS NOT DISTINCT FROM OLD.skills_text) "
    f"EXECUTE FUNCTION {FUNCTION}_trigger()",
]


def create_statements(dialect: str) -> list[str]:
    """DDL for the database-side upkeep of `skills_text` (PostgreSQL; nothing on SQLite)."""
    return list(_POSTGRESQL) if dialect == "postgresql" else []


def drop_statements(dialect: str) -> list[str]:
    """DDL that undoes `create_statements`."""
    if dialect != "postgresql":
        return []
    return [
        f"DROP TRIGGER IF EXISTS {TRIGGER}_insert ON candidates",
        f"DROP TRIGGER IF EXISTS {TRIGGER}_update ON candidates",
        f"DROP FUNCTION IF EXISTS {FUNCTION}_trigger()",
        f"DROP FUNCTION IF EXISTS {FUNCTION}(jsonb)",
    ]


def install(table: Table, model: Any) -> None:
    """`db.create_all()` gets the trigger as migrations do; ORM writes keep the column in step."""
    for statement in create_statements("postgresql"):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))

    def _fill(_mapper: Any, _connection: Any, target: Any) -> None:
        target.skills_text = skills_text(target.skills)

    event.listen(model, "before_insert", _fill)
    event.listen(model, "before_update", _fill)
