"""Prometheus counters for the platform layer (default registry)."""

from __future__ import annotations

from prometheus_client import Counter

API_CALLS = Counter(
    "adflux_platform_api_calls",
    "HTTP calls made to an ad platform, including retries.",
    ["platform", "operation"],
)
API_ERRORS = Counter(
    "adflux_platform_api_errors",
    "Failed ad-platform calls by error class.",
    ["platform", "error_class"],
)
THROTTLES = Counter(
    "adflux_platform_throttles",
    "Throttling responses received from an ad platform.",
    ["platform"],
)
