"""X image ads: the job's image uploaded through X's media upload, kept in the account's media
library, shown by a website card (MEDIA + DETAILS components) whose card_uri the promoted post
carries. The sandbox checks the upload, the library entry and the card as X's docs describe."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from adflux.platforms import PlatformValidationError
from adflux.platforms.images import ImageCard, render
from adflux.platforms.x_cards import FALLBACK_TITLE, card_title
from platforms.conftest import ACCOUNT_IDS

SQUARE = render(
    ImageCard("Cajero", "Banco Andino", "Cali", None, "¡Postúlate hoy!", "empleos.example.co"), "square"
)


def _square_spec(make_spec: Any, key: str = "pc-1") -> Any:
    spec = make_spec(key)
    return replace(spec, creative=replace(spec.creative, image=SQUARE))


def test_the_post_carries_a_website_card_with_the_uploaded_image(
    adapter_for: Any, make_spec: Any, sandbox: Any, wire_contract: Any
) -> None:
    spec = _square_spec(make_spec)
    result = adapter_for("x").publish(spec)
    (upload,) = sandbox.state.all("x", "upload")
    assert (upload["image"]["w"], upload["image"]["h"]) == (1080, 1080) and upload["size"] == len(SQUARE)
    (entry,) = sandbox.state.all("x", "media_library")
    assert entry["media_key"] == upload["media_key"] == result.extra["media"]["media_key"]
    (card,) = sandbox.state.all("x", "card")
    assert card["components"] == [
        {"type": "MEDIA", "media_key": upload["media_key"]},
        {
            "type": "DETAILS",
            "title": "Desarrollador Python",
            "destination": {"type": "WEBSITE", "url": spec.creative.link_url},
        },
    ]
    post = sandbox.state.get("x", "tweet", result.creative_id)
    assert post["card_uri"] == card["card_uri"]
    assert spec.creative.link_url not in post["full_text"]  # the card carries the link
    promoted = sandbox.state.all("x", "promoted_tweet")
    assert {row["tweet_id"] for row in promoted} == {result.creative_id} and len(promoted) == 2
    uploads = [r for r in wire_contract if r.url.endswith("/2/media/upload")]
    assert len(uploads) == 1 and uploads[0].content_type.startswith("multipart/form-data")
    # A retry after a crash finds the library entry and the card by name: nothing made twice.
    adapter_for("x").publish(spec)
    assert len(sandbox.state.all("x", "upload")) == 1 and len(sandbox.state.all("x", "card")) == 1


def test_a_known_media_key_is_not_uploaded_again(
    adapter_for: Any, make_spec: Any, sandbox: Any, wire_contract: Any
) -> None:
    first = adapter_for("x").publish(_square_spec(make_spec, "pc-a"))
    spec = _square_spec(make_spec, "pc-b")
    spec = replace(spec, creative=replace(spec.creative, extra=dict(first.extra["media"])))
    before = len(wire_contract)
    adapter_for("x").publish(spec)
    assert not any(r.url.endswith("/2/media/upload") for r in wire_contract[before:])
    assert len(sandbox.state.all("x", "card")) == 2  # one card per campaign, the same image


def test_without_an_image_the_post_keeps_its_link(adapter_for: Any, make_spec: Any, sandbox: Any) -> None:
    spec = make_spec()
    result = adapter_for("x").publish(replace(spec, creative=replace(spec.creative, image=None)))
    post = sandbox.state.get("x", "tweet", result.creative_id)
    assert post["card_uri"] is None and post["full_text"].endswith(spec.creative.link_url)
    assert sandbox.state.all("x", "card") == []


def test_the_card_title_is_a_whole_wording(make_spec: Any) -> None:
    spec = make_spec()
    long = "Analista " * 10
    assert card_title(spec) == "Desarrollador Python"
    assert card_title(replace(spec, creative=replace(spec.creative, headline=long))) == "Desarrollador Python"
    job = replace(spec.job, title=long)
    both = replace(spec, job=job, creative=replace(spec.creative, headline=long))
    assert card_title(both) == FALLBACK_TITLE


@pytest.mark.sends_refused_requests
def test_the_sandbox_refuses_what_x_refuses(adapter_for: Any, make_spec: Any, sandbox: Any) -> None:
    adapter = adapter_for("x")
    # Not an image: refused at upload.
    with pytest.raises(PlatformValidationError, match="not a JPEG or PNG"):
        adapter.transport.request(
            "POST",
            adapter.media_upload_url,
            operation="upload_image",
            data={"media_category": "tweet_image"},
            files={"media": ("a.gif", b"GIF89a....", "image/gif")},
        )
    # A card naming a media key that is not in the library, a too-long title, a missing DETAILS.
    key = adapter.publish(_square_spec(make_spec)).extra["media"]["media_key"]
    details = {
        "type": "DETAILS",
        "title": "Cajero",
        "destination": {"type": "WEBSITE", "url": "https://e.co"},
    }
    cards = f"12/accounts/{ACCOUNT_IDS['x']}/cards"
    for components, words in (
        ([{"type": "MEDIA", "media_key": "3_999"}, details], "not in this account's media library"),
        ([{"type": "MEDIA", "media_key": key}, {**details, "title": "x" * 71}], "1 to 70 characters"),
        ([{"type": "MEDIA", "media_key": key}], "one MEDIA and one DETAILS"),
    ):
        with pytest.raises(PlatformValidationError, match=words):
            adapter._call("POST", cards, "create_card", json={"name": "c", "components": components})
    # A post naming a card that does not exist.
    with pytest.raises(PlatformValidationError, match="card_uri"):
        adapter._call(
            "POST",
            f"12/accounts/{ACCOUNT_IDS['x']}/tweet",
            "create_post",
            params={"text": "hola", "card_uri": "card://404", "as_user_id": "15"},
        )
    # The v2 upload is the only v2 path served.
    assert httpx.get(sandbox.base_url + "/2/tweets").status_code in (400, 401, 404)


def test_new_copy_in_place_gets_its_own_card_with_the_same_image(
    adapter_for: Any, make_spec: Any, sandbox: Any
) -> None:
    from adflux.platforms.types import CreativeSpec
    from adflux.platforms.updates import CampaignChange, apply_change

    adapter = adapter_for("x")
    result = adapter.publish(_square_spec(make_spec))
    copy = CreativeSpec(headline="Cajero con experiencia", primary_text="Turnos rotativos en Cali.",
                        link_url="https://empleos.example.co/ofertas/2")  # fmt: skip
    apply_change(adapter, result, CampaignChange(key="pc-1", revision=2, creative=copy))
    first, second = sorted(sandbox.state.all("x", "card"), key=lambda card: card["created_at"] + card["id"])
    assert second["components"][0] == first["components"][0]  # the same media_key
    assert second["components"][1]["title"] == "Cajero con experiencia"
    assert second["components"][1]["destination"]["url"] == copy.link_url
    posts = [tweet for tweet in sandbox.state.all("x", "tweet") if tweet["card_uri"] == second["card_uri"]]
    assert len(posts) == 1 and copy.link_url not in posts[0]["full_text"]
    assert len(sandbox.state.all("x", "upload")) == 1  # no second upload


@pytest.mark.sends_refused_requests
def test_the_post_is_published_as_the_accounts_user_and_x_refuses_one_without(
    adapter_for: Any, make_spec: Any, sandbox: Any, wire_contract: Any
) -> None:
    """X requires as_user_id on POST accounts/:id/tweet: the adapter sends the account's, the
    sandbox refuses a post without one (or with one that is not a user id), as X does."""
    from urllib.parse import parse_qs, urlsplit

    from adflux.platforms import FatalError
    from platforms.conftest import X_AS_USER_ID

    adapter = adapter_for("x")
    result = adapter.publish(make_spec())
    (post,) = [r for r in wire_contract if r.method == "POST" and urlsplit(r.url).path.endswith("/tweet")]
    assert parse_qs(urlsplit(post.url).query)["as_user_id"] == [X_AS_USER_ID]
    assert sandbox.state.get("x", "tweet", result.creative_id)["as_user_id"] == X_AS_USER_ID
    path = f"12/accounts/{ACCOUNT_IDS['x']}/tweet"
    for params, words in (({}, "as_user_id is missing"), ({"as_user_id": "@acme"}, "not a user id")):
        with pytest.raises(PlatformValidationError, match=words):
            adapter._call("POST", path, "create_post", params={"text": "hola", **params})
    tweets = len(sandbox.state.all("x", "tweet"))
    # An account without one never sends the post (nor any other object of the tree).
    calls = len(wire_contract)
    with pytest.raises(FatalError, match="as_user_id"):
        adapter_for("x", extra={"page_id": "1"}).publish(make_spec("pc-2"))
    assert len(wire_contract) == calls
    assert len(sandbox.state.all("x", "tweet")) == tweets
