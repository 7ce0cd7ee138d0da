"""The sandbox's stored definitions still equal what the official libraries say, and stay library-free."""

from __future__ import annotations

import json
import subprocess
import sys

from contracts.sandbox_definitions import TARGET, generate


def test_sandbox_definitions_match_the_libraries() -> None:
    stored = json.loads(TARGET.read_text(encoding="utf-8"))
    assert {key: value for key, value in stored.items() if not key.startswith("_")} == generate()


def test_the_sandbox_runs_without_the_test_only_libraries() -> None:
    code = (
        "import sys; import adflux.sandbox.server, adflux.sandbox.definitions as d; d.definitions();"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('google', 'business_api_client', 'twitter_ads', 'facebook_business')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
