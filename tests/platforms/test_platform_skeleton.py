"""The shared publish skeleton (TreeAdapter) and _ensure, against an in-memory fake platform."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

import httpx
import pytest

from adflux.platforms import AccountConfig, AmbiguousOutcomeError, PlatformValidationError
from adflux.platforms.base import Step, Tree, TreeAdapter
from adflux.platforms.types import AdGroupSpec, HealthReport, InsightRow, PublishResult


class FakeTree(TreeAdapter):
    """Objects live in ``self.objects`` by name; every find, list and create is logged."""

    platform = "meta"  # compliance rules need a known platform; nothing here is registered
    default_base_url = "http://127.0.0.1:9"
    default_api_version = "v0"
    list_children: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(AccountConfig(account_id="1", credentials={}))
        self.objects: dict[str, str] = {}
        self.kinds: dict[str, str] = {}  # name -> "campaign", "group", "creative", "ad"
        self.log: list[str] = []
        self.lose_response_to: set[str] = set()  # names whose create commits, then the answer is lost

    @staticmethod
    def classify(response: httpx.Response, now: float) -> None:
        return None

    def _step(self, what: str, name: str, *, look_first: bool) -> Step:
        def find() -> str | None:
            self.log.append(f"find {what}")
            return self.objects.get(name)

        def create() -> str:
            self.log.append(f"create {what}")
            self.objects[name] = f"id-{len(self.objects) + 1}"
            self.kinds[name] = what.split()[0]
            if name in self.lose_response_to:
                self.lose_response_to.discard(name)
                raise AmbiguousOutcomeError("lost", platform=self.platform)
            return self.objects[name]

        return Step(what, find, create, look_first=look_first)

    def _campaign_step(self, tree: Tree, name: str) -> Step:
        return self._step("campaign", name, look_first=True)

    def _group_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        return self._step(
            f"group {group.ref}", name, look_first=not self.list_children and tree.campaign_reused
        )

    def _creative_step(self, tree: Tree) -> Step:
        return self._step("creative", f"[adflux:{tree.spec.key}:creative]", look_first=tree.reused_any)

    def _ad_step(self, tree: Tree, group: AdGroupSpec, name: str) -> Step:
        return self._step(f"ad {group.ref}", name, look_first=group.ref in tree.reused_groups)

    def _listing(self, kind: str) -> list[dict[str, Any]]:
        if not self.list_children:
            return []
        self.log.append(f"list {kind}s")
        return [{"name": name, "id": id_} for name, id_ in self.objects.items() if self.kinds[name] == kind]

    def _existing_groups(self, tree: Tree) -> list[dict[str, Any]]:
        return self._listing("group")

    def _existing_ads(self, tree: Tree) -> list[dict[str, Any]]:
        return self._listing("ad")

    def _after_group(self, tree: Tree, group: AdGroupSpec, group_id: str) -> None:
        self.log.append(f"after group {group.ref}")

    # The rest of the interface is not what these tests are about.
    def set_status(self, result: PublishResult, status: str) -> None:
        raise NotImplementedError

    def fetch_insights(self, result: PublishResult, since: date, until: date) -> list[InsightRow]:
        raise NotImplementedError

    def health(self) -> HealthReport:
        raise NotImplementedError

    def _find_audience(self, name: str) -> str | None:
        return self._step("audience", name, look_first=False).find()

    def _create_audience(self, name: str, hashes: list[str]) -> str:
        return self._step("audience", name, look_first=False).create()

    def _fill_audience(self, audience: str, hashes: list[str]) -> tuple[int, int]:
        self.log.append(f"fill {len(hashes)}")
        return len(hashes), 0


class InterleavedTree(FakeTree):
    """Like TikTok: no shared creative, no listings, each ad right after its group."""

    ads_follow_groups = True
    list_children = False

    def _creative_step(self, tree: Tree) -> None:
        return None


@pytest.fixture
def fake():
    adapter = FakeTree()
    yield adapter
    adapter.close()


@pytest.fixture(name="make_spec")
def make_spec_without_image(make_spec: Any) -> Any:
    """The standard spec with no image: this fake tree has no media API to upload to."""

    def make(*args: Any, **kwargs: Any) -> Any:
        spec = make_spec(*args, **kwargs)
        return replace(spec, creative=replace(spec.creative, image=None))

    return make


def test_a_new_tree_is_created_top_down_after_one_campaign_lookup(fake, make_spec):
    result = fake.publish(make_spec())

    assert fake.log == [
        "find campaign",
        "create campaign",
        "create group seg-1",
        "after group seg-1",
        "create group broad",
        "after group broad",
        "create creative",
        "create ad seg-1",
        "create ad broad",
    ]
    assert set(result.ad_groups) == set(result.ads) == {"seg-1", "broad"}
    assert result.reused == 0
    assert result.compliance["seg-1"]  # the plan's report is attached


def test_a_republish_reuses_listed_children_without_a_lookup_each(fake, make_spec):
    first = fake.publish(make_spec())
    fake.log.clear()

    second = fake.publish(make_spec())

    assert fake.log == ["find campaign", "list groups", "list ads", "find creative"]
    assert (second.campaign_id, second.ad_groups, second.ads, second.creative_id) == (
        first.campaign_id,
        first.ad_groups,
        first.ads,
        first.creative_id,
    )
    assert second.reused == 6


def test_a_lost_response_is_looked_up_instead_of_created_twice(fake, make_spec):
    spec = make_spec()
    fake.lose_response_to = {f"[adflux:{spec.key}:broad] Amplio"}

    result = fake.publish(spec)

    assert fake.log.count("create group broad") == 1
    assert fake.log[fake.log.index("create group broad") + 1] == "find group broad"
    assert result.ad_groups["broad"] == fake.objects[f"[adflux:{spec.key}:broad] Amplio"]
    assert result.reused == 1
    # Once something turned out to exist, later objects are looked up before they are created.
    assert fake.log[fake.log.index("create creative") - 1] == "find creative"


def test_ads_can_follow_each_group_with_lookups_only_where_the_parent_existed(make_spec):
    adapter = InterleavedTree()
    adapter.publish(make_spec())
    adapter.log.clear()

    adapter.publish(make_spec())

    assert adapter.log == [
        "find campaign",
        "find group seg-1",
        "after group seg-1",  # found by its lookup, not listed: it gets the after-group work again
        "find ad seg-1",
        "find group broad",
        "after group broad",
        "find ad broad",
    ]
    adapter.close()


def test_ensure_gives_up_after_three_lost_responses_it_cannot_find(fake):
    calls: list[str] = []

    def create() -> str:
        calls.append("create")
        raise AmbiguousOutcomeError("lost", platform="meta")

    with pytest.raises(AmbiguousOutcomeError, match="could not confirm creation of thing"):
        fake._ensure("thing", lambda: calls.append("find") and None, create, look_first=False)

    assert calls == ["create", "find"] * 3


def test_ensure_treats_a_taken_name_as_a_lookup_and_other_refusals_as_errors(fake):
    def refuse(code: str):
        def create() -> str:
            raise PlatformValidationError("no", platform="meta", code=code)

        return create

    def taken(error: Exception) -> bool:
        return isinstance(error, PlatformValidationError) and error.code == "TAKEN"

    found = fake._ensure("thing", lambda: "id-9", refuse("TAKEN"), look_first=False, taken=taken)
    assert found == ("id-9", True)
    with pytest.raises(PlatformValidationError):
        fake._ensure(
            "thing", lambda: pytest.fail("no lookup"), refuse("OTHER"), look_first=False, taken=taken
        )


def test_audience_upload_hashes_first_then_finds_or_creates_and_fills(fake):
    result = fake.upload_audience("seg-1", emails=["A@example.com", "bad"], hashed_emails=["f" * 64])

    assert fake.log == ["find audience", "create audience", "fill 2"]
    assert (result.name, result.received, result.invalid) == (
        "[adflux:seg-1] candidatos con consentimiento",
        2,
        1,
    )
