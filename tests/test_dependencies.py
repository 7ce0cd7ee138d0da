"""pip-audit over the lock file: no known vulnerability in a locked dependency is left unexplained.

pip-audit asks PyPI's per-release JSON API (https://pypi.org/pypi/<name>/<version>/json) for each
pinned dependency. Where that API cannot be reached (these build machines reach the package index
and PyPI's per-project JSON, but not the per-release JSON API, OSV or ecosyste.ms), the same
source is read another way: the per-project JSON lists the known vulnerabilities of the latest
release, so every dependency pinned at its latest release is audited from it, and the others are
named as not audited. Only when neither answers does the test skip, with the reason, rather than
pass on dependencies nobody checked.

A clean result means every pin was checked: if any package could not be audited, the test fails
in CI (CI=true) listing every one of them, and outside CI it is skipped with that list, so the
summary line says loudly that the audit was incomplete instead of reporting "no known
vulnerabilities".
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import IN_CI, require_service

LOCK_FILE = Path(__file__).resolve().parents[1] / "requirements.lock"
# A known vulnerability may stay in the lock only with a reason here: its id -> why it does not
# apply to AdFlux, or what we are waiting for. Reviewed whenever the lock file changes.
EXPLAINED: dict[str, str] = {}
# Pins that cannot be audited from this CI, accepted by a person with the reason. Keyed by the exact
# pin, so upgrading (or any change to) a pin drops its acceptance and the audit asks again; an entry
# whose pin left the lock file fails the test, so the list never outlives what it excuses. Every
# entry here is named in the test's output, so the audit never reads as complete when it is not.
_UNTESTED = (
    "not the newest release, and its upgrade is not yet tested; PyPI's per-release JSON answers 404 here"
)
ACCEPTED_UNAUDITED: dict[str, str] = {
    "numpy==2.4.6": "the newest release for Python 3.11 (2.5.x requires Python >= 3.12)",
    "scipy==1.17.1": _UNTESTED,
    "httpx==0.28.1": _UNTESTED,
    "jsonschema_rs==0.60.3": _UNTESTED,
    "packaging==26.3": _UNTESTED,
    "python-dateutil==2.9.0.post0": _UNTESTED + " (4.0 is a new major version)",
    "redis==8.1.0": _UNTESTED,
}
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
        _audit_from_project_json(unreachable)
        return

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
    skipped = [
        f"{d['name']} {d.get('version', '?')} ({d['skip_reason']})"
        for d in dependencies
        if d.get("skip_reason")
    ]
    found = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})"
        for d in dependencies
        for v in d.get("vulns", [])
        if v["id"] not in EXPLAINED and not set(v.get("aliases", [])) & set(EXPLAINED)
    ]
    audit_verdict(total=len(dependencies), not_audited=skipped, found=found, in_ci=IN_CI)


def audit_verdict(
    *, total: int, not_audited: list[str], found: list[str], in_ci: bool, accepted: list[str] = ()
) -> None:
    """Fail on any unexplained vulnerability; then on any pin not audited (CI) or skip loudly (elsewhere).

    `accepted`: pins not audited that ACCEPTED_UNAUDITED excuses, printed so the gap stays visible.
    """
    assert not found, "known vulnerabilities in locked dependencies:\n" + "\n".join(found)
    if accepted:
        print(f"NOT AUDITED, accepted with a reason ({len(accepted)} of {total}): " + "; ".join(accepted))
    if not not_audited:
        return
    message = (
        f"AUDIT INCOMPLETE: {len(not_audited)} of {total} locked packages could not be audited, so "
        "'no known vulnerabilities' would not be true: " + "; ".join(not_audited)
    )
    if in_ci:
        pytest.fail(message)
    pytest.skip(message)


PROJECT_URL = "https://pypi.org/pypi/{name}/json"


def _locked_pins() -> list[tuple[str, str]]:
    pins = []
    for line in LOCK_FILE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins.append((name.strip(), version.split(";", 1)[0].strip()))
    return pins


def _project_json(name: str, attempts: int = 3) -> dict | None:
    """The project's JSON from the registry; asked again after a failure (one of 145 answers
    once came back empty in a CI run, which failed the audit for a network blip)."""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(PROJECT_URL.format(name=name), timeout=20) as response:
                return json.load(response)
        except (OSError, ValueError):
            if attempt + 1 < attempts:
                time.sleep(1.0 + attempt)
    return None


def _audit_from_project_json(why_not_pip_audit: str) -> None:
    """The per-project JSON's `vulnerabilities` apply to its latest release: audit the pins at it."""
    from concurrent.futures import ThreadPoolExecutor

    pins = _locked_pins()
    assert len(pins) > 50, "the lock file pins every dependency"
    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = list(pool.map(lambda pin: _project_json(pin[0]), pins))
    if not any(documents):
        audit_verdict(
            total=len(pins),
            not_audited=[f"all (no source reachable: {why_not_pip_audit})"],
            found=[],
            in_ci=IN_CI,
        )
    stale = sorted(set(ACCEPTED_UNAUDITED) - {f"{name}=={version}" for name, version in pins})
    assert not stale, f"ACCEPTED_UNAUDITED names pins no longer in the lock file: {stale}"
    audited, not_audited, accepted, found = 0, [], [], []
    for (name, version), document in zip(pins, documents, strict=True):
        latest = document and document["info"]["version"]
        if latest != version:
            reason = ACCEPTED_UNAUDITED.get(f"{name}=={version}")
            if reason:
                accepted.append(f"{name} {version} (latest {latest}: {reason})")
            else:
                not_audited.append(f"{name} {version} (latest {latest})")
            continue
        audited += 1
        for vulnerability in document.get("vulnerabilities") or []:
            ids = {vulnerability["id"], *(vulnerability.get("aliases") or [])}
            if not ids & set(EXPLAINED):
                fixed = ", ".join(vulnerability.get("fixed_in") or ["-"])
                found.append(f"{name} {version}: {vulnerability['id']} (fixed in {fixed})")
    print(f"audited {audited} of {len(pins)} pins from PyPI's project JSON; not audited: {not_audited}")
    audit_verdict(total=len(pins), not_audited=not_audited, found=found, in_ci=IN_CI, accepted=accepted)


def test_an_incomplete_audit_fails_in_ci_and_names_every_package():
    with pytest.raises(pytest.fail.Exception) as failed:
        audit_verdict(
            total=3, not_audited=["numpy 2.4.6 (latest 2.5.5)", "redis 8.1.0"], found=[], in_ci=True
        )
    assert (
        "2 of 3" in str(failed.value)
        and "numpy 2.4.6" in str(failed.value)
        and "redis 8.1.0" in str(failed.value)
    )


def test_an_incomplete_audit_outside_ci_is_skipped_with_the_list_not_passed():
    with pytest.raises(pytest.skip.Exception) as skipped:
        audit_verdict(total=3, not_audited=["numpy 2.4.6"], found=[], in_ci=False)
    assert "AUDIT INCOMPLETE" in str(skipped.value) and "numpy 2.4.6" in str(skipped.value)


def test_a_known_vulnerability_fails_even_when_the_audit_is_incomplete():
    with pytest.raises(AssertionError, match="PYSEC-1"):
        audit_verdict(total=2, not_audited=["numpy"], found=["flask 3.1.3: PYSEC-1"], in_ci=False)


def test_an_accepted_unaudited_pin_is_named_but_does_not_fail(capsys):
    audit_verdict(total=2, not_audited=[], found=[], in_ci=True, accepted=["numpy 2.4.6 (latest 2.5.5: why)"])
    assert "NOT AUDITED, accepted with a reason (1 of 2): numpy 2.4.6" in capsys.readouterr().out


def test_accepted_pins_are_exact_pins_of_the_lock_file():
    pins = {f"{name}=={version}" for name, version in _locked_pins()}
    assert set(ACCEPTED_UNAUDITED) <= pins


def test_a_complete_clean_audit_passes():
    audit_verdict(total=2, not_audited=[], found=[], in_ci=True)
