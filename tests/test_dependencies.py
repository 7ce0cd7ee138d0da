"""pip-audit over the lock file: no known vulnerability in a locked dependency is left unexplained.

pip-audit asks PyPI's per-release JSON API (https://pypi.org/pypi/<name>/<version>/json) for each
pinned dependency. Where that API cannot be reached (these build machines reach only the package
index, not the per-release JSON API, OSV or ecosyste.ms), the audit cannot run and the test says
so by skipping with the reason, rather than passing on dependencies nobody checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import require_service

LOCK_FILE = Path(__file__).resolve().parents[1] / "requirements.lock"
# A known vulnerability may stay in the lock only with a reason here: its id -> why it does not
# apply to AdFlux, or what we are waiting for. Reviewed whenever the lock file changes.
EXPLAINED: dict[str, str] = {}
PROBE_URL = "https://pypi.org/pypi/pip/24.0/json"


def _vulnerability_service_reachable() -> str | None:
    """None if PyPI answers per-release JSON; otherwise why not."""
    try:
        with urllib.request.urlopen(PROBE_URL, timeout=10) as response:
            response.read(1)
    except urllib.error.HTTPError as exc:
        return f"{PROBE_URL} answered HTTP {exc.code}"
    except OSError as exc:
        return f"{PROBE_URL} unreachable: {exc}"
    return None


@pytest.mark.slow
def test_locked_dependencies_have_no_unexplained_known_vulnerabilities(tmp_path):
    try:
        import pip_audit  # noqa: F401
    except ImportError:
        require_service("pip-audit", 'install the test extras: pip install -e ".[test]"')
    unreachable = _vulnerability_service_reachable()
    if unreachable:
        pytest.skip(f"no vulnerability service reachable, the audit cannot run here: {unreachable}")

    report = tmp_path / "audit.json"
    command = [
        sys.executable, "-m", "pip_audit", "--requirement", str(LOCK_FILE),
        # The lock pins every package, so nothing needs resolving (and nothing is installed).
        "--no-deps", "--disable-pip", "--progress-spinner", "off", "--timeout", "20",
        "--format", "json", "--output", str(report),
    ]  # fmt: skip
    for vulnerability_id in EXPLAINED:
        command += ["--ignore-vuln", vulnerability_id]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert report.exists(), completed.stderr[-2000:]

    dependencies = json.loads(report.read_text())["dependencies"]
    skipped = [d["name"] for d in dependencies if d.get("skip_reason")]
    assert len(skipped) < len(dependencies) / 2, f"most dependencies could not be audited: {skipped}"
    found = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})"
        for d in dependencies
        for v in d.get("vulns", [])
        if v["id"] not in EXPLAINED and not set(v.get("aliases", [])) & set(EXPLAINED)
    ]
    assert not found, "known vulnerabilities in locked dependencies:\n" + "\n".join(found)
