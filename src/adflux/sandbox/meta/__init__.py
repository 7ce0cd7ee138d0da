"""Meta Marketing API emulation (Graph API vNN.0, form-encoded, act_ accounts, numeric ids)."""

from __future__ import annotations

from adflux.sandbox.meta.api import MetaApi

__all__ = ["MetaApi"]
