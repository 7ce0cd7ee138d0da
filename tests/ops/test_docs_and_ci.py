"""The documentation site builds strictly with a generated API reference; CI mirrors .ci/run."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import require_service

REPO = Path(__file__).resolve().parents[2]


def _gen_openapi():
    spec = importlib.util.spec_from_file_location("gen_openapi", REPO / "docs" / "gen_openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mkdocs_builds_strictly_with_the_generated_api_reference(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    if not mkdocs.exists():
        require_service("mkdocs", 'install the docs extra: pip install -c requirements.lock -e ".[docs]"')
    # Whether it builds, not how fast: timings belong in bench/.
    result = subprocess.run(
        [
            str(mkdocs),
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    spec = json.loads((tmp_path / "site" / "openapi.json").read_text())
    assert "/api/v1/alerts" in spec["paths"]
    reference = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "GET /api/v1/alerts" in reference and "<!-- openapi-reference -->" not in reference
    for page in ("USER_GUIDE", "TECHNICAL_DOCS", "TROUBLESHOOTING", "MAINTENANCE"):
        assert (tmp_path / "site" / page / "index.html").exists()


def test_the_reference_lists_every_operation_of_the_app():
    gen = _gen_openapi()
    spec = gen.openapi_spec()
    markdown = gen.render_markdown(spec)
    operations = [(m, p) for p, item in spec["paths"].items() for m in gen.METHODS if m in item]
    assert len(operations) > 30
    for method, path in operations:
        assert f"`{method.upper()} {path}`" in markdown
    assert "| viewer |" in markdown and "| admin |" in markdown


def test_docs_link_only_screenshots_that_exist():
    checked = 0
    for page in (REPO / "docs").glob("*.md"):
        for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (REPO / "docs" / image).exists(), f"{page.name} links {image}"
            checked += 1
    assert checked, "no screenshot links found: the pattern or the docs moved"


def _ci_run_commands() -> list[str]:
    text = (REPO / ".ci" / "run").read_text()
    return [line.strip() for line in text.splitlines() if line.strip().startswith(".venv/bin/ruff")]


def test_github_workflow_runs_what_ci_run_runs_against_postgres_and_redis():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert {"postgres", "redis"} <= set(job["services"])
    assert job["env"]["CI"] == "true"
    assert job["env"]["TEST_DATABASE_URL"].startswith("postgresql://")
    script = "\n".join(step.get("run", "") for step in job["steps"])
    commands = _ci_run_commands()
    assert commands, ".ci/run has no ruff command to compare"
    for command in commands:
        assert command in script, command
    assert '-c requirements.lock -e ".[test,docs]"' in script
    assert ".venv/bin/pytest -p no:cacheprovider" in script
    assert "mkdocs build --strict" in script


def test_dependabot_watches_python_and_actions():
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert ecosystems == {"pip", "github-actions"}


@pytest.mark.parametrize("path", ["deploy/docker/compose.yml", "deploy/prometheus/prometheus.yml"])
def test_deployment_examples_are_valid_yaml(path):
    assert yaml.safe_load((REPO / path).read_text())
