"""X Ads API v12 emulation: OAuth 1.0a HMAC-SHA1 verified, base-36 ids, async stats jobs as gzip files."""

from __future__ import annotations

from adflux.sandbox.x.api import XApi
from adflux.sandbox.x.oauth import SANDBOX_CREDENTIALS

__all__ = ["SANDBOX_CREDENTIALS", "XApi"]
