"""The writes no library has a request model for are checked too: the SDKs' declared upload
parameters, AdImage fields, and schemas written from X's, TikTok's and Snapchat's public docs.
Each check accepts what the adapters send and refuses a wrong body."""

from __future__ import annotations

import json

import httpx

from contracts.official import Recorded, check, judge

X = "http://127.0.0.1:1/12/accounts/18ce54d4x5t"
TIKTOK = "http://127.0.0.1:1/open_api/v1.3"


def _multipart(url: str, data: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> Recorded:
    request = httpx.Request("POST", url, data=data, files=files)
    return Recorded("POST", url, request.headers["content-type"], request.read())


def _json(url: str, body: object) -> Recorded:
    return Recorded("POST", url, "application/json", json.dumps(body).encode())


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe binary"


def test_x_media_upload() -> None:
    url = "http://127.0.0.1:1/2/media/upload"
    good = _multipart(url, {"media_category": "tweet_image"}, {"media": ("a.png", PNG, "image/png")})
    assert check(good) == []
    bad = _multipart(url, {"media_category": "photo", "alt": "x"}, {"image": ("a.png", PNG, "image/png")})
    assert check(bad) == [
        "media upload: alt is not a parameter",
        "media upload: image is not a parameter",
        "media upload: media is required",
        "media upload: media_category photo is not a category",
    ]


def test_x_tweet_and_audience_users() -> None:
    query = "text=hola&card_uri=card%3A%2F%2F1&nullcast=true&as_user_id=15"
    tweet = Recorded("POST", f"{X}/tweet?{query}", "", b"")
    assert check(tweet) == []
    assert check(Recorded("POST", f"{X}/tweet?text=hola&as_user_id=15&link=https%3A%2F%2Fe.co", "", b"")) == [
        "tweet: link is not a parameter"
    ]
    assert check(Recorded("POST", f"{X}/tweet?text=hola", "", b"")) == ["tweet: as_user_id is required"]
    users = f"{X}/custom_audiences/70cj0/users"
    people = [{"email": ["a" * 64]}, {"email": ["b" * 64]}]
    assert check(_json(users, [{"operation_type": "Update", "params": {"users": people}}])) == []
    # The break issue 17 found: every hash inside one user object, not one object per person.
    lumped = [{"operation_type": "Update", "params": {"users": [{"email": "a" * 64}]}}]
    assert check(_json(users, lumped)) == ["audience users: each identifier type is a list"]
    too_many = [{"operation_type": "Update", "params": {"users": people * 1251}}]
    assert check(_json(users, too_many)) == ["audience users: 1 to 2500 users per request"]


def test_tiktok_budget_update_and_uploads() -> None:
    budget = f"{TIKTOK}/adgroup/budget/update/"
    good = {"advertiser_id": "7", "budget": [{"adgroup_id": "1", "budget": 50.0}]}
    assert check(_json(budget, good)) == []
    bad = {"advertiser_id": "7", "budget": [{"adgroup_id": "1", "daily_budget": 50.0}]}
    assert check(_json(budget, bad)) == [
        "budget update: budget item ['adgroup_id', 'daily_budget'] is not ['adgroup_id', 'budget']"
    ]
    image = f"{TIKTOK}/file/image/ad/upload/"
    fields = {"advertiser_id": "7", "upload_type": "UPLOAD_BY_FILE", "image_signature": "abc"}
    assert check(_multipart(image, fields, {"image_file": ("a.png", PNG, "image/png")})) == []
    assert check(_multipart(image, {"advertiser_id": "7"}, {"file": ("a.png", PNG, "image/png")})) == [
        "image upload: file is not a parameter",
        "image upload: image_signature is required by file",
        "image upload: image_file is required by file",
    ]
    audience = f"{TIKTOK}/dmp/custom_audience/file/upload/"
    sent = {"advertiser_id": "7", "file_signature": "abc", "calculate_type": "EMAIL_SHA256"}
    assert check(_multipart(audience, sent, {"file": ("a.txt", b"x", "text/plain")})) == []
    assert check(_multipart(audience, {"advertiser_id": "7"}, {"file": ("a.txt", b"x", "text/plain")})) == [
        "audience file: file_signature is required"
    ]


def test_snapchat_media_upload_and_meta_adimages() -> None:
    snap = "http://127.0.0.1:1/v1/media/28805c5d-ad1b-4f60-89e4-dab20edc6d2b/upload"
    assert check(_multipart(snap, {}, {"file": ("a.png", PNG, "image/png")})) == []
    assert check(_multipart(snap, {"name": "a"}, {"file": ("a.png", PNG, "image/png")})) == [
        "snapchat media upload: name is not a parameter"
    ]
    meta = "http://127.0.0.1:1/v26.0/act_1234567/adimages"
    form = "application/x-www-form-urlencoded"
    assert check(Recorded("POST", meta, form, b"bytes=aGk%3D&name=a.png")) == []
    assert check(Recorded("POST", meta, form, b"bytes=aGk%3D&image=a.png")) == [
        "adimages: image is not an AdImage field"
    ]


def test_a_request_to_no_platform_is_not_an_adapter_write() -> None:
    verdict = judge([Recorded("POST", "http://127.0.0.1:9/create", "", b"")])
    assert (verdict.checked, verdict.unchecked, verdict.refused) == (0, [], [])
