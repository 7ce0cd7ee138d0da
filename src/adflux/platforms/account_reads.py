"""Each platform's cheapest authenticated read of the ad account: name, status, currency, time zone.

Used by the "test connection" action. The platforms' own status codes are mapped to one of
active, pending, disabled, closed (the raw value is kept beside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adflux.platforms.base import PlatformAdapter
from adflux.platforms.errors import FatalError

# Meta AdAccount.account_status values.
_META_STATUS = {
    1: "active",
    2: "disabled",
    3: "disabled",  # UNSETTLED
    7: "pending",  # PENDING_RISK_REVIEW
    8: "pending",  # PENDING_SETTLEMENT
    9: "active",  # IN_GRACE_PERIOD
    100: "closed",  # PENDING_CLOSURE
    101: "closed",
    201: "active",
    202: "closed",
}
_GOOGLE_STATUS = {"ENABLED": "active", "CANCELED": "closed", "SUSPENDED": "disabled", "CLOSED": "closed"}
_TIKTOK_STATUS = {
    "STATUS_ENABLE": "active",
    "STATUS_DISABLE": "disabled",
    "STATUS_LIMIT": "disabled",
    "STATUS_SELF_SERVICE_UNAUDITED": "pending",
    "STATUS_PENDING_CONFIRM": "pending",
    "STATUS_PENDING_VERIFIED": "pending",
    "STATUS_CONFIRM_FAIL": "disabled",
    "STATUS_CONFIRM_MODIFY_FAIL": "disabled",
    "STATUS_WAIT_FOR_BPM_AUDIT": "pending",
    "STATUS_CONTRACT_PENDING": "pending",
}
_SNAP_STATUS = {"ACTIVE": "active", "PAUSED": "disabled", "PENDING": "pending", "DISABLED": "disabled"}
_X_STATUS = {"ACCEPTED": "active", "UNDER_REVIEW": "pending", "REJECTED": "disabled"}


@dataclass(frozen=True)
class AccountInfo:
    """What the platform says about the ad account."""

    name: str | None
    status: str  # active | pending | disabled | closed | unknown
    raw_status: str | None
    currency: str | None
    timezone: str | None


def read_account(adapter: PlatformAdapter) -> AccountInfo:
    """The platform's own account read, through `adapter`'s transport (its auth, limits, retries)."""
    reader = _READERS.get(adapter.platform)
    if reader is None:
        raise FatalError(f"No account read for {adapter.platform}", platform=adapter.platform)
    return reader(adapter)


def _info(name: Any, raw: Any, table: dict[Any, str], currency: Any, timezone: Any) -> AccountInfo:
    return AccountInfo(
        name=str(name) if name else None,
        status=table.get(raw, "unknown"),
        raw_status=None if raw is None else str(raw),
        currency=str(currency) if currency else None,
        timezone=str(timezone) if timezone else None,
    )


def _meta(adapter: Any) -> AccountInfo:
    row = adapter._get(adapter.act, "get_account", fields="name,account_status,currency,timezone_name")
    return _info(
        row.get("name"),
        row.get("account_status"),
        _META_STATUS,
        row.get("currency"),
        row.get("timezone_name"),
    )


def _google(adapter: Any) -> AccountInfo:
    rows = adapter.search(
        "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone, "
        "customer.status FROM customer LIMIT 1",
        operation="get_customer",
    )
    row = (rows or [{}])[0].get("customer", {})
    return _info(
        row.get("descriptiveName"),
        row.get("status"),
        _GOOGLE_STATUS,
        row.get("currencyCode"),
        row.get("timeZone"),
    )


def _tiktok(adapter: Any) -> AccountInfo:
    data = adapter._get(
        "advertiser/info/",
        "advertiser_info",
        advertiser_ids=[adapter.advertiser],
        fields=["name", "status", "currency", "timezone"],
    )
    row = (data.get("list") or [{}])[0]
    return _info(row.get("name"), row.get("status"), _TIKTOK_STATUS, row.get("currency"), row.get("timezone"))


def _snapchat(adapter: Any) -> AccountInfo:
    answer = adapter._call("GET", f"adaccounts/{adapter.account.account_id}", "get_ad_account")
    row = ((answer.get("adaccounts") or [{}])[0]).get("adaccount", {})
    return _info(row.get("name"), row.get("status"), _SNAP_STATUS, row.get("currency"), row.get("timezone"))


def _x(adapter: Any) -> AccountInfo:
    row = adapter._call("GET", adapter._acc(), "get_account").get("data", {})
    raw = "DELETED" if row.get("deleted") else row.get("approval_status")
    table = {**_X_STATUS, "DELETED": "closed"}
    return _info(row.get("name"), raw, table, row.get("currency"), row.get("timezone"))


_READERS = {"meta": _meta, "google": _google, "tiktok": _tiktok, "snapchat": _snapchat, "x": _x}
