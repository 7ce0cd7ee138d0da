"""The adapter class of each platform: ``get_adapter("meta", account)``."""

from __future__ import annotations

import importlib
import logging

from adflux.constants import PLATFORMS
from adflux.platforms.base import PlatformAdapter
from adflux.platforms.transport import TransportConfig
from adflux.platforms.types import AccountConfig

logger = logging.getLogger(__name__)

_ADAPTERS: dict[str, type[PlatformAdapter]] = {}
_MODULES = {
    "meta": "adflux.platforms.meta",
    "google": "adflux.platforms.google",
    "x": "adflux.platforms.x",
    "tiktok": "adflux.platforms.tiktok",
    "snapchat": "adflux.platforms.snapchat",
}


def register(cls: type[PlatformAdapter]) -> type[PlatformAdapter]:
    """Class decorator: make an adapter available under its ``platform`` name."""
    _ADAPTERS[cls.platform] = cls
    logger.debug("registered %s adapter %s", cls.platform, cls.__name__)
    return cls


def adapter_classes() -> dict[str, type[PlatformAdapter]]:
    """Every registered adapter class by platform (importing them on first use)."""
    for platform in PLATFORMS:
        if platform not in _ADAPTERS and platform in _MODULES:
            importlib.import_module(_MODULES[platform])
    return dict(_ADAPTERS)


def get_adapter(
    platform: str, account: AccountConfig, *, transport_config: TransportConfig | None = None
) -> PlatformAdapter:
    """Build the adapter for ``platform`` bound to one account."""
    if platform not in _ADAPTERS and platform in _MODULES:
        importlib.import_module(_MODULES[platform])
    classes = dict(_ADAPTERS)
    if platform not in classes:
        raise KeyError(f"no adapter for platform {platform!r}")
    return classes[platform](account, transport_config=transport_config)
