"""TikTok Marketing API v1.3 emulation: HTTP 200 envelopes with codes, 19-digit ids, report tasks."""

from __future__ import annotations

from adflux.sandbox.tiktok.api import TikTokApi

__all__ = ["TikTokApi"]
