"""Google Ads API REST emulation: googleAds:mutate with temporary ids, searchStream GAQL, Customer Match."""

from __future__ import annotations

from adflux.sandbox.google.api import GoogleApi

__all__ = ["GoogleApi"]
