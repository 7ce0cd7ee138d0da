"""Control endpoints under /__sandbox/: clock, faults, rate limits, tokens, objects, ledger, stats."""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from datetime import date
from typing import Any

from adflux.constants import PLATFORMS
from adflux.sandbox import oauth_server, tokens
from adflux.sandbox.conversions import conversion_counts
from adflux.sandbox.http import Request, Response, json_response
from adflux.sandbox.simulator import campaign_totals
from adflux.sandbox.state import Faults, SandboxState

logger = logging.getLogger(__name__)

_FAULT_FIELDS = {item.name for item in fields(Faults)}


def _platforms(value: str | None) -> list[str]:
    if value in (None, "*", "all"):
        return list(PLATFORMS)
    if value not in PLATFORMS:
        raise ValueError(f"unknown platform {value!r}")
    return [value]


class Control:
    """Test and demo knobs; never part of a real platform's API."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def handle(self, request: Request) -> Response:
        action = request.path.removeprefix("/__sandbox/").strip("/")
        body: dict[str, Any] = request.json() if request.method == "POST" and request.body else {}
        handler = getattr(self, f"{request.method.lower()}_{action.replace('/', '_')}", None)
        if handler is None:
            return json_response({"error": f"no control endpoint {request.method} {request.path}"}, 404)
        try:
            with self.state.transaction():  # other processes' objects and clock, ours kept
                return json_response(handler(request, body))
        except (ValueError, KeyError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)

    def get_health(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "today": self.state.today.isoformat(), "platforms": list(PLATFORMS)}

    def get_conversions(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """Conversions the platforms received: unique (after deduplication) and every event sent."""
        return conversion_counts(self.state)

    def get_clock(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {"today": self.state.today.isoformat()}

    def post_clock_advance(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        today = self.state.advance(int(body.get("days", 1)))
        return {"today": today.isoformat()}

    def post_clock_set(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        target = date.fromisoformat(body["date"])
        self.state.advance((target - self.state.today).days)
        return {"today": self.state.today.isoformat()}

    def get_faults(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return {platform: asdict(self.state.faults[platform]) for platform in PLATFORMS}

    def post_faults(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        knobs = {key: value for key, value in body.items() if key != "platform"}
        unknown = set(knobs) - _FAULT_FIELDS
        if unknown:
            raise ValueError(f"unknown fault knobs: {sorted(unknown)}")
        with self.state.lock:
            for platform in _platforms(body.get("platform")):
                for key, value in knobs.items():
                    setattr(self.state.faults[platform], key, value)
        return self.get_faults(request, body)

    def post_faults_reset(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            for platform in PLATFORMS:
                self.state.faults[platform] = Faults()
        return self.get_faults(request, body)

    def get_rate_limits(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return {platform: self.state.rate_limits[platform] for platform in PLATFORMS}

    def post_rate_limits(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        per_second = body.get("per_second")
        with self.state.lock:
            for platform in _platforms(body.get("platform")):
                if per_second:
                    burst = float(body.get("burst") or per_second)
                    self.state.rate_limits[platform] = (float(per_second), burst)
                else:
                    self.state.rate_limits[platform] = None
        return self.get_rate_limits(request, body)

    def post_tokens_expire(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            for platform in _platforms(body.get("platform")):
                if body.get("token"):
                    self.state.expired_tokens[platform].add(body["token"])
                else:
                    self.state.expire_all[platform] = True
        return {"expired": True}

    def post_tokens_restore(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            for platform in _platforms(body.get("platform")):
                self.state.expired_tokens[platform].clear()
                self.state.expire_all[platform] = False
        return {"restored": True}

    def post_tokens_authorize(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """The consent a person gives in the platform's browser flow: an authorization code."""
        return oauth_server.authorize(str(body.get("platform")))

    def post_tokens_issue(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """An access token issued at once (``lifetime`` seconds, default the platform's own)."""
        platform = _platforms(body.get("platform"))
        if len(platform) != 1:
            raise ValueError("pass one platform")
        lifetime = body.get("lifetime")
        return {
            "access_token": tokens.issue(platform[0], "access", None if lifetime is None else int(lifetime))
        }

    def get_objects(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        platform = request.query.get("platform", [""])[0]
        if platform not in PLATFORMS:
            raise ValueError("pass ?platform=meta|google|x|tiktok|snapchat")
        kind = request.query.get("kind", [None])[0]
        counts = self.state.counts(platform)
        listed = [
            {"kind": name, "id": obj["id"], "name": obj.get("name"), "status": obj.get("status")}
            for name in ([kind] if kind else list(counts))
            for obj in (self.state.all(platform, name) if name in counts else [])
        ]
        return {"platform": platform, "counts": counts, "objects": listed}

    def get_ledger(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """What the simulator delivered per campaign up to today: the platforms' own spend ledger."""
        platforms = _platforms(request.query.get("platform", [None])[0])
        return {"today": self.state.today.isoformat(), "ledger": self.ledger(platforms)}

    def ledger(self, platforms: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """Platform -> campaign id -> spend (micros and pesos), applications, clicks, impressions."""
        with self.state.transaction():
            return {
                platform: {
                    campaign_id: {**totals, "spend": totals["spend_micros"] / 1_000_000}
                    for campaign_id, totals in campaign_totals(
                        self.state.units_of(platform), self.state.today
                    ).items()
                }
                for platform in platforms
            }

    def get_stats(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        with self.state.lock:
            return {
                "requests": dict(self.state.requests),
                "throttled": dict(self.state.throttled),
                "dropped": dict(self.state.dropped),
                "injected_errors": dict(self.state.injected_errors),
            }

    def post_reports(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.state.report_polls = int(body.get("polls", 1))
        return {"polls": self.state.report_polls}

    def post_review(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """Finish pending Meta ad reviews now (they also finish whenever the clock moves)."""
        with self.state.lock:
            for hook in self.state.on_advance:
                hook()
        return {"reviewed": True}

    def post_reset(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.state.reset()
        return {"reset": True}
