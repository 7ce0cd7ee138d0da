"""The example files of the user guide's import formats import as the guide says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adflux.extensions import db
from adflux.models import Candidate, JobOpening

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
GUIDE = EXAMPLES.parent / "USER_GUIDE.md"


@pytest.mark.parametrize(
    ("file", "refs"),
    [
        ("ofertas.csv", {"OF-1001", "OF-1002"}),
        ("ofertas.json", {"OF-1003"}),
        ("ofertas.xml", {"OF-1004"}),
    ],
)
def test_each_job_example_imports_whole(cli, app_ctx, file, refs):
    result = cli("--json", "import-jobs", str(EXAMPLES / file))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == len(refs)
    stored = {job.external_ref: job for job in db.session.scalars(db.select(JobOpening))}
    assert set(stored) == refs
    assert all(job.status == "open" and job.apply_url.startswith("https://") for job in stored.values())
    assert file in GUIDE.read_text(encoding="utf-8")  # the guide shows this example


def test_the_candidate_example_imports_with_lists_and_consent(cli, app_ctx):
    result = cli("--json", "import-candidates", str(EXAMPLES / "candidatos.csv"))
    assert result.exit_code == 0, result.output
    people = {c.external_ref: c for c in db.session.scalars(db.select(Candidate))}
    assert people["CAND-2001"].skills == ["python", "sql", "excel"]
    assert people["CAND-2001"].marketing_consent is True
    assert people["CAND-2002"].marketing_consent is False and people["CAND-2002"].email is None
    assert "candidatos.csv" in GUIDE.read_text(encoding="utf-8")
