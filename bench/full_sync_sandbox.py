"""The full-sync bench's sandbox: its own process, seeded with every bench campaign on each platform.

Each campaign has one ad group (ad set, ad group, line item, ad squad) delivering since the first
day, under the sandbox's own account for that platform; external ids are far from the sandbox's
id counters (numeric, or UUIDs on Snapchat).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import date
from typing import Any

import httpx

from adflux.constants import SANDBOX_ACCOUNTS

ALL_PLATFORMS = ("meta", "google", "tiktok", "snapchat", "x")
ID_BASE = {
    "meta": 910_000_000_000,
    "google": 920_000_000_000,
    "tiktok": 930_000_000_000,
    "snapchat": 940_000_000_000,
    "x": 950_000_000_000,
}
GOOGLE_CID = SANDBOX_ACCOUNTS["google"]["account_id"]
ACCOUNTS = {
    "meta": SANDBOX_ACCOUNTS["meta"]["account_id"].removeprefix("act_"),
    "google": GOOGLE_CID,
    "tiktok": SANDBOX_ACCOUNTS["tiktok"]["account_id"],
    "snapchat": SANDBOX_ACCOUNTS["snapchat"]["account_id"],
    "x": SANDBOX_ACCOUNTS["x"]["account_id"],
}


def external_ids(platform: str, index: int) -> tuple[str, str]:
    """(campaign id, ad group id) of the index-th campaign on a platform."""
    base = ID_BASE[platform] + 2 * index
    if platform == "snapchat":
        return str(uuid.UUID(int=base)), str(uuid.UUID(int=base + 1))
    return str(base), str(base + 1)


def _objects(platform: str, campaign_id: str, group_id: str, name: str) -> dict[str, dict[str, Any]]:
    """The campaign and ad group as the platform's sandbox stores them, by kind."""
    account = ACCOUNTS[platform]
    if platform == "google":
        campaign_name = f"customers/{GOOGLE_CID}/campaigns/{campaign_id}"
        return {
            "campaign": {
                "id": campaign_id,
                "resourceName": campaign_name,
                "name": name,
                "status": "ENABLED",
                "_cid": GOOGLE_CID,
            },
            "ad_group": {
                "id": group_id,
                "resourceName": f"customers/{GOOGLE_CID}/adGroups/{group_id}",
                "campaign": campaign_name,
                "name": name,
                "status": "ENABLED",
                "_cid": GOOGLE_CID,
            },
        }
    if platform == "meta":
        return {
            "campaign": {"id": campaign_id, "name": name},
            "adset": {"id": group_id, "name": name, "campaign_id": campaign_id},
        }
    if platform == "snapchat":
        return {
            "campaign": {"id": campaign_id, "name": name, "ad_account_id": account, "status": "ACTIVE"},
            "adsquad": {"id": group_id, "name": name, "campaign_id": campaign_id, "status": "ACTIVE"},
        }
    if platform == "x":
        return {
            "campaign": {"id": campaign_id, "name": name, "account_id": account, "deleted": False},
            "line_item": {
                "id": group_id,
                "campaign_id": campaign_id,
                "account_id": account,
                "deleted": False,
            },
        }
    return {"campaign": {"campaign_id": campaign_id, "campaign_name": name}}


def serve_seeded_sandbox(
    port: int, platforms: list[str], campaigns: int, first_day: date, today: date, latency_ms: float
) -> None:
    """Run in the sandbox process: seed units and objects for every campaign, then serve."""
    from adflux.sandbox.server import SandboxServer
    from adflux.sandbox.state import Unit

    server = SandboxServer("127.0.0.1", port, latency_ms=latency_ms, start_date=today)
    state = server.state
    for platform in platforms:
        for index in range(campaigns):
            campaign_id, group_id = external_ids(platform, index)
            unit = Unit(
                platform, ACCOUNTS[platform], campaign_id, group_id, daily_budget=20_000 + 37 * (index % 500)
            )
            unit.start, unit.history = first_day, [(first_day, True)]
            state.units[(platform, group_id)] = unit
            name = f"AdFlux bench {platform} {index}"
            for kind, obj in _objects(platform, campaign_id, group_id, name).items():
                key = obj.get("id") or obj.get("campaign_id")
                state.objects[platform][kind][str(key)] = obj
    print("sandbox seeded", flush=True)
    server.serve_forever()


def start_sandbox(
    args: argparse.Namespace, script: str, first_day: date, today: date
) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, script, "--serve-sandbox", str(port), "--campaigns", str(args.campaigns)]
    command += ["--platforms", ",".join(args.platforms), "--first-day", first_day.isoformat()]
    command += ["--today", today.isoformat(), "--latency-ms", str(args.latency_ms)]
    proc = subprocess.Popen(command, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base_url}/__sandbox/health", timeout=120).raise_for_status()  # seeding first
            return proc, base_url
        except httpx.HTTPError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    raise RuntimeError("the sandbox did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
