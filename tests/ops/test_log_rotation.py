"""File logs survive logrotate: after the file is moved away, the next record goes to a new LOG_FILE.

Run in a child process so the test's own logging set-up is left alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import logging, os
from adflux.app import create_app
create_app()
log = logging.getLogger("adflux.rotation")
log.warning("before rotation")
os.rename(os.environ["LOG_FILE"], os.environ["LOG_FILE"] + ".1")   # what logrotate does
log.warning("after rotation")
"""


def test_a_rotated_log_file_is_reopened(tmp_path: Path):
    log_file = tmp_path / "logs" / "adflux.log"
    env = {
        **os.environ,
        "LOG_FILE": str(log_file),
        "LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'adflux.db'}",
        "ADFLUX_INSTANCE_PATH": str(tmp_path),
        "ADFLUX_ENV": "development",
    }
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rotated = [
        json.loads(line)["message"] for line in (tmp_path / "logs/adflux.log.1").read_text().splitlines()
    ]
    current = [json.loads(line)["message"] for line in log_file.read_text().splitlines()]
    assert "before rotation" in rotated and "after rotation" not in rotated
    assert current == ["after rotation"]


def test_the_logrotate_rule_does_not_truncate_in_place():
    rule = (Path(__file__).resolve().parents[2] / "deploy/logrotate/adflux").read_text()
    assert "copytruncate" not in rule.replace("no copytruncate", "")
    assert "rotate 14" in rule and "compress" in rule
