"""Fixtures for the platform-layer tests: one loopback sandbox, accounts and specs for every platform."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from adflux.platforms import (
    AccountConfig,
    AdGroupSpec,
    CampaignSpec,
    CreativeSpec,
    JobContext,
    PlatformAdapter,
    TargetingSpec,
    get_adapter,
    images,
)
from adflux.platforms.transport import RetryPolicy, TransportConfig
from adflux.sandbox import SandboxServer, start_sandbox_in_thread
from contracts.official import Recorded, Verdict, ads_api, judge
from sandbox_oauth import issued_credentials

START = date(2025, 3, 3)
ACCOUNT_IDS = {
    "meta": "act_1234567",
    "google": "123-456-7890",
    "x": "18ce54d4x5t",
    "tiktok": "7000000000000000001",
    "snapchat": "8f4b2e65-4f3d-4a8e-9a55-3f9b2c1d0e7a",
}
X_AS_USER_ID = "1500000000000000001"
# Tokens obtained from each sandbox's own token endpoints, once per sandbox (by base URL).
_ISSUED: dict[str, dict[str, dict[str, str]]] = {}


def credentials_for(platform: str, sandbox: SandboxServer) -> dict[str, str]:
    """Credentials with a token this sandbox issued (the sandbox refuses any other)."""
    if sandbox.base_url not in _ISSUED:
        _ISSUED[sandbox.base_url] = issued_credentials(sandbox.base_url)
    return dict(_ISSUED[sandbox.base_url][platform])


class FakeSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_account(platform: str, sandbox: SandboxServer, **overrides: object) -> AccountConfig:
    values: dict[str, object] = {
        "account_id": ACCOUNT_IDS[platform],
        "credentials": credentials_for(platform, sandbox),
        "base_url": sandbox.base_url,
        "extra": {"page_id": "1122334455", "report_poll_seconds": 0.01},
    }
    if platform == "x":  # the user X's promoted posts are published as
        values["extra"] = {**values["extra"], "as_user_id": X_AS_USER_ID}
    values.update(overrides)
    return AccountConfig(**values)  # type: ignore[arg-type]


@functools.cache
def ad_image() -> bytes:
    """The job's vertical ad image (1080×1920 fits every platform that takes one)."""
    card = images.ImageCard(
        "Desarrollador Python",
        "Acme S.A.S.",
        "Bogotá",
        "$ 6.000.000",
        "¡Postúlate hoy!",
        "empleos.example.co",
    )
    return images.render(card, "vertical")


def make_spec(key: str = "pc-1", *, daily: int = 50_000, discriminatory: bool = False) -> CampaignSpec:
    text = "Únete a nuestro equipo de desarrollo de software en Bogotá."
    if discriminatory:
        text = "Buscamos desarrollador, solo hombres menores de 30."
    return CampaignSpec(
        key=key,
        name="Desarrollador Python",
        objective="traffic",
        budget_total=5_000_000,
        start_date=START,
        job=JobContext(title="Desarrollador Python", category="tecnologia", city="Bogotá"),
        ad_groups=(
            AdGroupSpec(
                "seg-1",
                "Jóvenes digitales",
                daily,
                TargetingSpec(
                    age_min=20,
                    age_max=30,
                    genders=("female",),
                    cities=("Bogotá",),
                    interests=("software", "programación"),
                ),
            ),
            AdGroupSpec("broad", "Amplio", 30_000),
        ),
        creative=CreativeSpec(
            headline="Desarrollador Python",
            primary_text=text,
            description="Contrato a término indefinido",
            link_url="https://empleos.example.co/ofertas/1",
            image=ad_image(),
        ),
    )


@pytest.fixture(name="make_spec")
def make_spec_fixture() -> Callable[..., CampaignSpec]:
    """The standard two-segment job campaign (a function: pass key=, daily=, discriminatory=)."""
    return make_spec


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    server = start_sandbox_in_thread(start_date=START)
    credentials_for("meta", server)  # obtain the tokens now, before any test records its requests
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The shared sandbox, emptied and with the clock back at START before each test."""
    sandbox_server.state.reset()
    sandbox_server.state.today = START
    sandbox_server.state.report_polls = 1
    return sandbox_server


@pytest.fixture
def sleeps() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def transport_config(sleeps: FakeSleep) -> TransportConfig:
    return TransportConfig(
        sleep=sleeps,
        retry=RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4, max_wait=300, jitter=0.0),
        rng=random.Random(1),
    )


@pytest.fixture
def adapter_for(
    sandbox: SandboxServer, transport_config: TransportConfig
) -> Iterator[Callable[..., PlatformAdapter]]:
    made: list[PlatformAdapter] = []

    def build(platform: str, **overrides: object) -> PlatformAdapter:
        adapter = get_adapter(
            platform, make_account(platform, sandbox, **overrides), transport_config=transport_config
        )
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


# -- wire contract: every request an adapter sends here is checked against the official definitions --

RECORDED: list[Recorded] = []
VERDICT = Verdict()


@pytest.fixture(autouse=True)
def wire_contract(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[list[Recorded]]:
    """Record what httpx sends during the test; afterwards each body must pass the official checks
    (tests marked ``sends_refused_requests`` send bad bodies on purpose to see the sandbox refuse)."""
    sent: list[Recorded] = []
    real_send = httpx.Client.send

    def send(client: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(
            Recorded(
                request.method, str(request.url), request.headers.get("content-type", ""), request.read()
            )
        )
        return real_send(client, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    yield sent
    if request.node.get_closest_marker("sends_refused_requests"):
        return
    verdict = judge(sent)
    RECORDED.extend(sent)
    VERDICT.checked += verdict.checked
    VERDICT.refused += verdict.refused
    VERDICT.unchecked += verdict.unchecked
    assert not verdict.refused, "request bodies the platforms' own definitions refuse:\n" + "\n".join(
        verdict.refused
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figure for bench/README.md: request bodies checked against official definitions."""
    if RECORDED:
        writes = sum(1 for r in RECORDED if r.method not in ("GET", "DELETE") and ads_api(r))
        terminalreporter.write_line(
            f"wire contract: {len(RECORDED)} requests recorded, {writes} writes, "
            f"{VERDICT.checked} checked, {len(VERDICT.refused)} refused, "
            f"{len(VERDICT.unchecked)} reads/deletes or uncovered; uncovered writes: "
            f"{sorted({u for u in VERDICT.unchecked if not u.startswith(('GET', 'DELETE'))})}"
        )
