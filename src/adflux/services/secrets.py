"""Platform credentials encrypted at rest (Fernet) and masked wherever they are shown.

The key comes from ADFLUX_ENCRYPTION_KEY, never from the database. It may be a Fernet key
(``Fernet.generate_key()``) or any long passphrase, from which a Fernet key is derived with HKDF
(SHA-256). Several comma-separated keys allow rotation: the first encrypts, every one decrypts.
Production refuses to start without a key; development and tests derive one from SECRET_KEY.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adflux.services.errors import DomainError
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

MASK = "…"
_HKDF_SALT = b"adflux/platform-credentials/v1"
_HKDF_INFO = b"fernet-key"


class CredentialsUnreadable(DomainError):
    """Stored credentials cannot be decrypted with the configured key(s)."""

    status = 500
    code = "credentials_unreadable"


def derive_fernet_key(material: str) -> bytes:
    """A Fernet key from `material`: used as is if it already is one, else derived with HKDF-SHA256."""
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32 and len(material) == 44:
            return material.encode()
    except (binascii.Error, ValueError):
        pass
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO)
    return base64.urlsafe_b64encode(hkdf.derive(material.encode()))


@lru_cache(maxsize=8)
def _cipher_for(key_setting: str) -> MultiFernet:
    keys = [k.strip() for k in key_setting.split(",") if k.strip()]
    return MultiFernet([Fernet(derive_fernet_key(k)) for k in keys])


def cipher(settings: Settings | None = None) -> MultiFernet:
    """The cipher for the configured key(s)."""
    settings = settings or current_settings()
    if settings.encryption_key:
        return _cipher_for(settings.encryption_key)
    if settings.is_production:  # Settings.validate refuses this at start-up; never fall back here
        raise CredentialsUnreadable("ADFLUX_ENCRYPTION_KEY is not set")
    _warn_derived_key_once()
    return _cipher_for("secret-key:" + settings.secret_key)


@lru_cache(maxsize=1)
def _warn_derived_key_once() -> None:
    logger.warning(
        "ADFLUX_ENCRYPTION_KEY is not set: platform credentials are encrypted with a key derived from "
        "SECRET_KEY (fine for development and tests; production requires ADFLUX_ENCRYPTION_KEY)"
    )


def encrypt_credentials(credentials: dict[str, Any], *, settings: Settings | None = None) -> str:
    """Encrypt a credentials mapping to the text stored in PlatformAccount.credentials_encrypted."""
    payload = json.dumps(credentials, separators=(",", ":"), sort_keys=True).encode()
    return cipher(settings).encrypt(payload).decode()


def decrypt_credentials(blob: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """Decrypt stored credentials; a wrong or missing key is a clear error, never garbage."""
    try:
        return json.loads(cipher(settings).decrypt(blob.encode()))
    except (InvalidToken, ValueError) as exc:
        logger.error("Stored platform credentials cannot be decrypted with the configured key(s)")
        raise CredentialsUnreadable(
            "Stored platform credentials cannot be decrypted: check ADFLUX_ENCRYPTION_KEY"
        ) from exc


def reencrypt(blob: str, *, settings: Settings | None = None) -> str:
    """Re-encrypt `blob` with the first (newest) key, for key rotation."""
    try:
        return cipher(settings).rotate(blob.encode()).decode()
    except InvalidToken as exc:
        raise CredentialsUnreadable("Stored platform credentials cannot be decrypted") from exc


def mask_secret(value: Any) -> str:
    """Enough of a secret to recognise it, never enough to use it: "abcd1234wxyz" -> "abcd…yz"."""
    text = "" if value is None else str(value)
    if len(text) < 12:  # short values would be mostly revealed by 6 characters
        return MASK
    return f"{text[:4]}{MASK}{text[-2:]}"


def mask_credentials(credentials: dict[str, Any]) -> dict[str, Any]:
    """Every value masked (nested mappings too), keys kept so people see what is configured."""
    return {
        key: mask_credentials(value) if isinstance(value, dict) else mask_secret(value)
        for key, value in credentials.items()
    }
