"""Snapchat Marketing API v1 emulation: UUID ids, wrapped request/sub-request envelopes, next_link paging."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from adflux.sandbox.api import PlatformApi, decode_cursor, encode_cursor, url_with, utc_day
from adflux.sandbox.http import ApiError, Request, Response, json_response, route
from adflux.sandbox.state import SandboxState, Unit

logger = logging.getLogger(__name__)

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
MIN_DAILY_MICRO = 5_000_000
COLLECTIONS = {
    "campaigns": "campaign",
    "adsquads": "adsquad",
    "ads": "ad",
    "creatives": "creative",
    "segments": "segment",
}
ACCOUNT_TZ = ZoneInfo("America/Bogota")  # the sandbox's ad accounts live in Bogotá (see /v1/adaccounts)
# What a PUT must carry: Snap replaces the whole entity (docs: "Update a Campaign/Ad Squad/Ad").
WHOLE_ENTITY = {
    "campaign": ("id", "name", "ad_account_id", "status", "start_time"),
    "adsquad": (
        "id",
        "campaign_id",
        "name",
        "type",
        "targeting",
        "billing_event",
        "optimization_goal",
        "status",
    ),
    "ad": ("id", "ad_squad_id", "creative_id", "name", "type", "status"),
}


def _invalid(message: str, code: str = "E1001") -> ApiError:
    return ApiError("validation", message, status=400, code=code)


class SnapchatApi(PlatformApi):
    """adsapi.snapchat.com/v1/..."""

    platform = "snapchat"
    prefix = re.compile(r"^/v1/")

    def __init__(self, state: SandboxState) -> None:
        super().__init__(state)

    def authenticate(self, request: Request) -> None:
        state = self.state.token_state(self.platform, self.token(request))
        if state != "valid":
            message = {"missing": "missing", "expired": "expired"}.get(state, "invalid")
            raise ApiError("auth", f"Unauthorized: the access token is {message}", status=401, code="E1002")

    def throttle_error(self, wait: float, request: Request) -> ApiError:
        return ApiError(
            "throttle", "Too many requests, please lower your request rate", status=429, code="E3003"
        )

    def transient_error(self) -> ApiError:
        return ApiError("server", "Internal server error, please retry", status=500, code="E5001")

    def render_error(self, error: ApiError, request: Request) -> Response:
        return json_response(
            {
                "request_status": "ERROR",
                "request_id": self.state.ids.token(),
                "debug_message": error.message,
                "display_message": error.message,
                "error_code": error.code or "E1001",
            },
            error.status or 400,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _stamp(self) -> str:
        return self.state.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _wrap(self, key: str, items: list[dict[str, Any]], **extra: Any) -> Response:
        singular = key[:-1]
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": self.state.ids.token(),
                key: [{"sub_request_status": "SUCCESS", singular: _public(item)} for item in items],
                **extra,
            }
        )

    def _items(self, request: Request, key: str) -> list[dict[str, Any]]:
        items = request.json().get(key)
        if not isinstance(items, list) or not items:
            raise _invalid(f"Body must contain a non-empty '{key}' list")
        return items

    def _get(self, kind: str, object_id: str) -> dict[str, Any]:
        obj = self.state.get(self.platform, kind, object_id)
        if obj is None or obj.get("status") == "DELETED":
            raise ApiError("not_found", f"{kind} {object_id} not found", status=404, code="E1008")
        return obj

    def _page(self, request: Request, key: str, rows: list[dict[str, Any]]) -> Response:
        limit = min(1000, int(request.arg("limit") or 50))
        offset = decode_cursor(request.arg("cursor"))
        chunk = rows[offset : offset + limit]
        paging = {}
        if offset + limit < len(rows):
            paging["next_link"] = url_with(request, cursor=encode_cursor(offset + limit), limit=limit)
        return self._wrap(key, chunk, paging=paging)

    def _save(self, kind: str, item: dict[str, Any], **fields: Any) -> dict[str, Any]:
        stamp = self._stamp()
        obj = {**item, **fields, "id": self.state.ids.snapchat(), "created_at": stamp, "updated_at": stamp}
        return self.state.add(self.platform, kind, obj)

    def _update(self, kind: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        updated = []
        for item in items:
            obj = self._get(kind, str(item.get("id")))
            missing = [name for name in WHOLE_ENTITY[kind] if item.get(name) in (None, "")]
            if missing:
                # Snap's PUT replaces the entity: a partial body is refused, not merged.
                raise _invalid(f"{kind} update must carry the whole entity; missing: {', '.join(missing)}")
            status = item.get("status", obj.get("status"))
            if status not in ("ACTIVE", "PAUSED"):
                raise _invalid("status must be ACTIVE or PAUSED")
            obj.update({key: value for key, value in item.items() if key != "id"})
            obj["updated_at"] = self._stamp()
            updated.append(obj)
            self._refresh(obj.get("campaign_id") or obj["id"])
        return updated

    # -- me / accounts ------------------------------------------------------------------------

    @route("GET", r"/v1/me")
    def me(self, request: Request) -> Response:
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": self.state.ids.token(),
                "me": {
                    "id": "3b7c5e0a-0000-4000-8000-000000000001",
                    "display_name": "AdFlux sandbox",
                    "organization_id": "4c0d7e2b-0000-4000-8000-000000000002",
                },
            }
        )

    @route("GET", rf"/v1/adaccounts/(?P<account>{UUID})")
    def account(self, request: Request, account: str) -> Response:
        return self._wrap(
            "adaccounts",
            [
                {
                    "id": account,
                    "name": f"Sandbox {account[:8]}",
                    "currency": "COP",
                    "timezone": "America/Bogota",
                    "status": "ACTIVE",
                    "type": "PARTNER",
                }
            ],
        )

    # -- campaigns ------------------------------------------------------------------------------

    @route("POST", rf"/v1/adaccounts/(?P<account>{UUID})/campaigns")
    def create_campaigns(self, request: Request, account: str) -> Response:
        created = []
        for item in self._items(request, "campaigns"):
            if not item.get("name") or not item.get("start_time"):
                raise _invalid("campaign name and start_time are required")
            if item.get("status") not in ("ACTIVE", "PAUSED"):
                raise _invalid("status must be ACTIVE or PAUSED")
            created.append(self._save("campaign", item, ad_account_id=account))
        return self._wrap("campaigns", created)

    @route("GET", rf"/v1/adaccounts/(?P<account>{UUID})/(?P<collection>campaigns|creatives|segments)")
    def list_account(self, request: Request, account: str, collection: str) -> Response:
        rows = [
            obj
            for obj in self.state.all(self.platform, COLLECTIONS[collection])
            if obj["ad_account_id"] == account and obj.get("status") != "DELETED"
        ]
        return self._page(request, collection, rows)

    @route("PUT", rf"/v1/adaccounts/(?P<account>{UUID})/campaigns")
    def update_campaigns(self, request: Request, account: str) -> Response:
        return self._wrap("campaigns", self._update("campaign", self._items(request, "campaigns")))

    @route("GET", rf"/v1/(?P<collection>campaigns|adsquads|ads|creatives|segments)/(?P<object_id>{UUID})")
    def get_one(self, request: Request, collection: str, object_id: str) -> Response:
        return self._wrap(collection, [self._get(COLLECTIONS[collection], object_id)])

    @route("DELETE", rf"/v1/campaigns/(?P<campaign_id>{UUID})")
    def delete_campaign(self, request: Request, campaign_id: str) -> Response:
        campaign = self._get("campaign", campaign_id)
        campaign["status"] = "DELETED"
        self._refresh(campaign_id)
        return self._wrap("campaigns", [campaign])

    # -- ad squads ------------------------------------------------------------------------------

    @route("POST", rf"/v1/campaigns/(?P<campaign_id>{UUID})/adsquads")
    def create_squads(self, request: Request, campaign_id: str) -> Response:
        campaign = self._get("campaign", campaign_id)
        created = []
        for item in self._items(request, "adsquads"):
            for name in ("name", "type", "targeting", "billing_event", "optimization_goal"):
                if not item.get(name):
                    raise _invalid(f"adsquad {name} is required")
            if not (item["targeting"].get("geos")):
                raise _invalid("targeting.geos is required")
            daily = int(item.get("daily_budget_micro") or 0)
            if not daily and not item.get("lifetime_budget_micro"):
                raise _invalid("daily_budget_micro or lifetime_budget_micro is required")
            if daily and daily < MIN_DAILY_MICRO:
                raise _invalid("daily_budget_micro must be at least 5000000", "E2002")
            squad = self._save(
                "adsquad", item, campaign_id=campaign_id, ad_account_id=campaign["ad_account_id"]
            )
            targeting = item["targeting"]
            cap = campaign.get("lifetime_spend_cap_micro")
            self.state.put_unit(
                Unit(
                    platform=self.platform,
                    account=campaign["ad_account_id"],
                    campaign_id=campaign_id,
                    group_id=squad["id"],
                    daily_budget=daily // 1_000_000,
                    objective="leads"
                    if item["optimization_goal"] in ("PIXEL_SIGNUP", "LEAD_FORM_SUBMISSIONS")
                    else "traffic",
                    campaign_cap=int(cap) // 1_000_000 if cap else None,
                    custom_audience=bool(targeting.get("segments")),
                    texts=[campaign["name"], item["name"]],
                    start=utc_day(item.get("start_time") or campaign.get("start_time")),
                    end=utc_day(item.get("end_time") or campaign.get("end_time")),
                )
            )
            self._refresh(campaign_id)
            created.append(squad)
        return self._wrap("adsquads", created)

    @route("GET", rf"/v1/campaigns/(?P<campaign_id>{UUID})/adsquads")
    def list_squads(self, request: Request, campaign_id: str) -> Response:
        rows = [
            obj
            for obj in self.state.all(self.platform, "adsquad")
            if obj["campaign_id"] == campaign_id and obj.get("status") != "DELETED"
        ]
        return self._page(request, "adsquads", rows)

    @route("PUT", rf"/v1/campaigns/(?P<campaign_id>{UUID})/adsquads")
    def update_squads(self, request: Request, campaign_id: str) -> Response:
        return self._wrap("adsquads", self._update("adsquad", self._items(request, "adsquads")))

    # -- creatives and ads ------------------------------------------------------------------------

    @route("POST", rf"/v1/adaccounts/(?P<account>{UUID})/creatives")
    def create_creatives(self, request: Request, account: str) -> Response:
        created = []
        for item in self._items(request, "creatives"):
            if not item.get("name") or not item.get("headline"):
                raise _invalid("creative name and headline are required")
            if len(item["headline"]) > 34:
                raise _invalid("headline must be at most 34 characters", "E2004")
            if item.get("type") == "WEB_VIEW" and not (item.get("web_view_properties") or {}).get("url"):
                raise _invalid("web_view_properties.url is required for WEB_VIEW creatives")
            created.append(self._save("creative", item, ad_account_id=account, review_status="APPROVED"))
        return self._wrap("creatives", created)

    @route("POST", rf"/v1/adsquads/(?P<squad_id>{UUID})/ads")
    def create_ads(self, request: Request, squad_id: str) -> Response:
        squad = self._get("adsquad", squad_id)
        created = []
        for item in self._items(request, "ads"):
            creative = self._get("creative", str(item.get("creative_id")))
            if not item.get("name"):
                raise _invalid("ad name is required")
            ad = self._save(
                "ad",
                item,
                ad_squad_id=squad_id,
                campaign_id=squad["campaign_id"],
                review_status="APPROVED",
                ad_account_id=squad["ad_account_id"],
            )
            unit = self.state.unit(self.platform, squad_id)
            if unit is not None:
                unit.texts += [creative.get("headline", ""), creative.get("brand_name", "")]
            created.append(ad)
        self._refresh(squad["campaign_id"])
        return self._wrap("ads", created)

    @route("GET", rf"/v1/adsquads/(?P<squad_id>{UUID})/ads")
    def list_ads(self, request: Request, squad_id: str) -> Response:
        rows = [
            obj
            for obj in self.state.all(self.platform, "ad")
            if obj["ad_squad_id"] == squad_id and obj.get("status") != "DELETED"
        ]
        return self._page(request, "ads", rows)

    @route("PUT", rf"/v1/adsquads/(?P<squad_id>{UUID})/ads")
    def update_ads(self, request: Request, squad_id: str) -> Response:
        return self._wrap("ads", self._update("ad", self._items(request, "ads")))

    def _refresh(self, campaign_id: str) -> None:
        campaign = self.state.get(self.platform, "campaign", campaign_id)
        if campaign is None:
            return
        for squad in self.state.all(self.platform, "adsquad"):
            if squad["campaign_id"] != campaign_id:
                continue
            ads = [ad for ad in self.state.all(self.platform, "ad") if ad["ad_squad_id"] == squad["id"]]
            live = any(ad.get("status") == "ACTIVE" for ad in ads)
            self.state.set_active(
                self.platform,
                squad["id"],
                campaign.get("status") == "ACTIVE" and squad.get("status") == "ACTIVE" and live,
            )

    # -- audiences -------------------------------------------------------------------------------

    @route("POST", rf"/v1/adaccounts/(?P<account>{UUID})/segments")
    def create_segments(self, request: Request, account: str) -> Response:
        created = []
        for item in self._items(request, "segments"):
            if not item.get("name"):
                raise _invalid("segment name is required")
            created.append(
                self._save(
                    "segment",
                    item,
                    ad_account_id=account,
                    status="ACTIVE",
                    approximate_number_users=0,
                    _hashes=set(),
                )
            )
        return self._wrap("segments", created)

    @route("POST", rf"/v1/segments/(?P<segment_id>{UUID})/users")
    def add_users(self, request: Request, segment_id: str) -> Response:
        segment = self._get("segment", segment_id)
        uploaded = 0
        for item in self._items(request, "users"):
            if item.get("schema") != ["EMAIL_SHA256"]:
                raise _invalid('schema must be ["EMAIL_SHA256"]')
            for row in item.get("data", []):
                if not row or not re.fullmatch(r"[0-9a-f]{64}", str(row[0])):
                    raise _invalid("data rows must be SHA-256 hex digests")
                segment["_hashes"].add(row[0])
                uploaded += 1
        segment["approximate_number_users"] = len(segment["_hashes"])
        return json_response(
            {
                "request_status": "SUCCESS",
                "request_id": self.state.ids.token(),
                "users": [{"sub_request_status": "SUCCESS", "user": {"number_uploaded_users": uploaded}}],
            }
        )


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_")}


def _iso(day: date) -> str:
    return datetime.combine(day, datetime.min.time(), ACCOUNT_TZ).isoformat(timespec="milliseconds")


def _account_day(value: str | None) -> date | None:
    """The account-local date of a timestamp that falls on the account's midnight, else None."""
    try:
        moment = datetime.fromisoformat((value or "").replace("Z", "+00:00")).astimezone(ACCOUNT_TZ)
    except ValueError:
        return None
    return moment.date() if moment.time() == time.min else None
