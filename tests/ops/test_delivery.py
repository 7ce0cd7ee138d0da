"""Delivery: the deploy script's release step and rollback, the linters, the issue process files.

deploy/scripts/deploy.sh runs here against stand-ins for `docker` and `curl` on PATH (the real
ones would need a compose host): they record every call, and the smoke test passes only for a
good image, so the script's order of steps and its rollback are what is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy/scripts/deploy.sh"
BAD = "ghcr.io/empresa/adflux:sha-bad"

FAKE_DOCKER = """#!/usr/bin/env bash
echo "docker $* | image=${ADFLUX_IMAGE:-}" >> "$CALLS"
case "$*" in
  *" up -d --no-build "*) echo "${ADFLUX_IMAGE:-}" > "$RUNNING" ;;
  *"run --rm migrate adflux db upgrade"*) [ "${FAIL_MIGRATION:-}" = 1 ] && exit 3 ;;
esac
exit 0
"""
FAKE_CURL = f"""#!/usr/bin/env bash
echo "curl $*" >> "$CALLS"
[ "$(cat "$RUNNING" 2>/dev/null)" != "{BAD}" ]
"""


def _tool_or_skip(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(REPO / ".venv/bin"))
    if found is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{name} is required in CI (.ci/run installs it from .ci/lint-tools.txt)")
        pytest.skip(f"{name} not installed (pip install --require-hashes -r .ci/lint-tools.txt)")
    return found


@pytest.fixture
def host(tmp_path: Path) -> dict[str, str]:
    """A fake compose host: DEPLOY_PATH with the deploy/ folder, docker and curl stand-ins."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("docker", FAKE_DOCKER), ("curl", FAKE_CURL)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DEPLOY_PATH": str(tmp_path),
        "CALLS": str(tmp_path / "calls.log"),
        "RUNNING": str(tmp_path / "running"),
        "SMOKE_TRIES": "2",
        "SMOKE_DELAY": "0",
    }


def _deploy(env: dict[str, str], image: str, stack: str = "production") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), image, stack], env=env, capture_output=True, text=True)


def _calls(env: dict[str, str]) -> list[str]:
    path = Path(env["CALLS"])
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


@pytest.fixture
def state_file(host: dict[str, str]) -> Path:
    """Where the host remembers the image it runs (the rollback target)."""
    return Path(host["DEPLOY_PATH"]) / "deploy/docker/.deployed-image-production"


def test_a_release_migrates_once_then_restarts_and_is_smoke_tested(host, state_file):
    first = _deploy(host, "ghcr.io/empresa/adflux:sha-1")
    assert first.returncode == 0, first.stdout + first.stderr
    calls = _calls(host)
    migrate = next(i for i, c in enumerate(calls) if "run --rm migrate adflux db upgrade" in c)
    restart = next(i for i, c in enumerate(calls) if " up -d --no-build web worker beat" in c)
    smoke = [c for c in calls if c.startswith("curl")]
    assert migrate < restart and "image=ghcr.io/empresa/adflux:sha-1" in calls[restart]
    assert any("/healthz" in c for c in smoke) and any("/readyz" in c for c in smoke)
    assert state_file.read_text().strip() == "ghcr.io/empresa/adflux:sha-1"

    second = _deploy(host, "ghcr.io/empresa/adflux:sha-2")
    assert second.returncode == 0
    calls = _calls(host)
    backup = next(i for i, c in enumerate(calls) if "adflux db backup" in c)
    migrate = next(i for i, c in enumerate(calls) if "adflux db upgrade" in c)
    assert backup < migrate  # a way back before the schema moves
    assert state_file.read_text().strip() == "ghcr.io/empresa/adflux:sha-2"


def test_a_release_that_fails_its_smoke_tests_is_rolled_back(host, state_file):
    assert _deploy(host, "ghcr.io/empresa/adflux:sha-1").returncode == 0
    _calls(host)
    failed = _deploy(host, BAD)
    assert failed.returncode == 1
    assert "rolling back to ghcr.io/empresa/adflux:sha-1" in failed.stdout
    assert "rolled back to ghcr.io/empresa/adflux:sha-1" in failed.stdout
    ups = [c for c in _calls(host) if " up -d --no-build web worker beat" in c]
    assert [u.rsplit("image=", 1)[1] for u in ups] == [BAD, "ghcr.io/empresa/adflux:sha-1"]
    assert state_file.read_text().strip() == "ghcr.io/empresa/adflux:sha-1"


def test_a_failed_migration_restarts_nothing_new(host, state_file):
    assert _deploy(host, "ghcr.io/empresa/adflux:sha-1").returncode == 0
    _calls(host)
    failed = _deploy({**host, "FAIL_MIGRATION": "1"}, "ghcr.io/empresa/adflux:sha-2")
    assert failed.returncode == 1
    ups = [c for c in _calls(host) if " up -d --no-build web worker beat" in c]
    assert [u.rsplit("image=", 1)[1] for u in ups] == ["ghcr.io/empresa/adflux:sha-1"]


def test_staging_is_its_own_project_with_the_staging_override(host, state_file):
    assert _deploy(host, "ghcr.io/empresa/adflux:sha-1", "staging").returncode == 0
    calls = _calls(host)
    assert all(
        "-p adflux-staging -f compose.yml -f compose.staging.yml" in c for c in calls if "compose" in c
    )
    assert any("127.0.0.1:8100/readyz" in c for c in calls)


def test_workflows_pass_actionlint():
    result = subprocess.run([_tool_or_skip("actionlint")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [_tool_or_skip("hadolint"), "deploy/docker/Dockerfile"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_issue_templates_use_the_labels_file():
    labels = {label["name"] for label in yaml.safe_load((REPO / ".github/labels.yml").read_text())}
    assert {"priority: high", "priority: medium", "priority: low", "type: bug", "type: enhancement"} <= labels
    templates = {
        p.stem: yaml.safe_load(p.read_text()) for p in (REPO / ".github/ISSUE_TEMPLATE").glob("*.yml")
    }
    assert {"bug", "enhancement", "security"} <= set(templates)
    for name in ("bug", "enhancement", "security"):
        assert set(templates[name]["labels"]) <= labels, name
        for field in templates[name]["body"]:
            if field.get("id") == "priority":
                assert set(field["attributes"]["options"]) <= labels
    dependabot = yaml.safe_load((REPO / ".github/dependabot.yml").read_text())
    for update in dependabot["updates"]:
        assert set(update.get("labels", [])) <= labels
