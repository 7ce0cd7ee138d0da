"""The sandbox's own store: one truth for every sandbox process on the same file, across restarts."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest

from adflux.sandbox import SandboxServer, start_sandbox_in_thread
from adflux.sandbox import store as sandbox_store
from sandbox_oauth import ISSUED, Issued

START = date(2025, 3, 3)
META = Issued("meta", {"access_token": "{token}"})
StartServer = Callable[[], SandboxServer]


@pytest.fixture
def store_path(tmp_path) -> str:
    return str(tmp_path / "sandbox.db")


@pytest.fixture
def start_server(store_path: str) -> Iterator[StartServer]:
    """Starts sandbox servers on the test's store file; stops those still running at the end."""
    running: list[SandboxServer] = []

    def start() -> SandboxServer:
        server = start_sandbox_in_thread(start_date=START, store_path=store_path)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


def _client(server: SandboxServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=10)


def _create_campaign(http: httpx.Client, name: str = "Auxiliar de bodega", status: str = "PAUSED") -> str:
    response = http.post(
        "/v26.0/act_42/campaigns",
        params=META,
        data={
            "name": name,
            "objective": "OUTCOME_TRAFFIC",
            "status": status,
            "special_ad_categories": '["EMPLOYMENT"]',
            "special_ad_category_country": '["CO"]',
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def _meta_tree(http: httpx.Client, name: str, budget: int) -> str:
    """An active campaign with one ad set and one ad, delivering once its ad is reviewed."""
    campaign_id = _create_campaign(http, name, status="ACTIVE")
    targeting = {
        "geo_locations": {"countries": ["CO"]},
        "flexible_spec": [{"interests": [{"name": "bodega"}]}],
    }
    adset = http.post(
        "/v26.0/act_42/adsets",
        params=META,
        data={
            "name": f"{name} / operativos",
            "campaign_id": campaign_id,
            "daily_budget": str(budget),
            "billing_event": "IMPRESSIONS",
            "optimization_goal": "LINK_CLICKS",
            "targeting": json.dumps(targeting),
            "status": "ACTIVE",
        },
    ).json()["id"]
    link = {"link": "https://empleos.example.co/9", "message": name, "name": name}
    creative = http.post(
        "/v26.0/act_42/adcreatives",
        params=META,
        data={"name": name, "object_story_spec": json.dumps({"page_id": "1122", "link_data": link})},
    ).json()["id"]
    ad = http.post(
        "/v26.0/act_42/ads",
        params=META,
        data={"name": name, "adset_id": adset, "creative": json.dumps({"creative_id": creative})},
    )
    assert ad.status_code == 200, ad.text
    return campaign_id


def _campaign_ids(http: httpx.Client) -> list[str]:
    rows = http.get("/v26.0/act_42/campaigns", params={**META, "limit": 1000}).json()["data"]
    return [row["id"] for row in rows]


def test_objects_created_through_one_server_are_read_and_paused_through_another_and_after_a_restart(
    start_server,
):
    first, second = start_server(), start_server()
    with _client(first) as one, _client(second) as two:
        campaign_id = _create_campaign(one, status="ACTIVE")

        assert two.get(f"/v26.0/{campaign_id}", params={**META, "fields": "name"}).json()["name"] == (
            "Auxiliar de bodega"
        )
        assert two.post(f"/v26.0/{campaign_id}", params=META, data={"status": "PAUSED"}).json() == {
            "success": True
        }
        assert (
            one.get(f"/v26.0/{campaign_id}", params={**META, "fields": "status"}).json()["status"] == "PAUSED"
        )
    first.stop()
    second.stop()

    third = start_server()  # a restart: nothing of the first two is left in memory
    with _client(third) as three:
        found = three.get(f"/v26.0/{campaign_id}", params={**META, "fields": "status"})
        assert found.status_code == 200 and found.json()["status"] == "PAUSED"
        assert three.post(f"/v26.0/{campaign_id}", params=META, data={"status": "ACTIVE"}).status_code == 200
    assert third.object_counts("meta") == {"campaign": 1}


def test_ids_from_two_servers_on_one_store_never_repeat_and_a_restart_goes_on_from_them(start_server):
    first, second = start_server(), start_server()
    with _client(first) as one, _client(second) as two:
        ids = [_create_campaign(http) for _ in range(10) for http in (one, two)]
    snap_ids = [first.state.ids.snapchat(), second.state.ids.snapchat()]
    first.stop()
    second.stop()

    with _client(start_server()) as three:
        ids += [_create_campaign(three) for _ in range(5)]

    assert len(set(ids)) == len(ids) == 25
    assert ids == sorted(ids, key=int)  # one counter, drawn in turn
    assert snap_ids[0] != snap_ids[1]


def test_two_servers_creating_at_once_from_threads_lose_and_duplicate_nothing(start_server):
    servers = [start_server(), start_server()]
    created: list[str] = []
    lock = threading.Lock()

    def create(server: SandboxServer, worker: int) -> None:
        with _client(server) as http:
            for index in range(25):
                campaign_id = _create_campaign(http, f"w{worker}-{index}")
                with lock:
                    created.append(campaign_id)

    threads = [threading.Thread(target=create, args=(servers[n % 2], n)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(created) == len(set(created)) == 100
    with _client(servers[0]) as one, _client(servers[1]) as two:
        listed = _campaign_ids(one)
        assert sorted(listed) == sorted(created)
        assert _campaign_ids(two) == listed  # the same creation order through either server
    names = {obj["name"] for obj in servers[1].state.all("meta", "campaign")}
    assert names == {f"w{worker}-{index}" for worker in range(4) for index in range(25)}


def test_the_clock_moved_on_one_server_is_the_clock_of_the_other_and_of_a_restart(start_server):
    first, second = start_server(), start_server()
    with _client(first) as one, _client(second) as two:
        assert one.post("/__sandbox/clock/advance", json={"days": 9}).json() == {"today": "2025-03-12"}
        assert two.get("/__sandbox/clock").json() == {"today": "2025-03-12"}
        second.advance_days(1)
        assert one.get("/__sandbox/health").json()["today"] == "2025-03-13"
    first.stop()
    second.stop()

    with _client(start_server()) as three:  # its start_date (START) only seeds a new store
        assert three.get("/__sandbox/clock").json() == {"today": "2025-03-13"}


def test_insights_reports_and_the_ledger_read_the_same_through_the_creating_server_another_and_a_restart(
    start_server,
):
    first, second = start_server(), start_server()
    params = {
        **META,
        "level": "adset",
        "time_increment": "1",
        "fields": "campaign_id,adset_id,impressions,inline_link_clicks,spend,actions",
        "time_range": json.dumps({"since": "2025-03-03", "until": "2025-03-12"}),
    }
    with _client(first) as one, _client(second) as two:
        campaign_id = _meta_tree(one, "Auxiliar de bodega", 40_000)
        other_id = _meta_tree(two, "Operario de planta", 25_000)
        one.post("/__sandbox/clock/advance", json={"days": 8})
        insights = [http.get("/v26.0/act_42/insights", params=params).json()["data"] for http in (one, two)]
        run = one.post("/v26.0/act_42/insights", params={**params, "level": "campaign"}).json()
        polled = two.get(f"/v26.0/{run['report_run_id']}", params=META).json()
        rows = two.get(f"/v26.0/{run['report_run_id']}/insights", params=META).json()["data"]
        ledgers = [http.get("/__sandbox/ledger", params={"platform": "meta"}).json() for http in (one, two)]
    first.stop()
    second.stop()
    with _client(start_server()) as three:
        insights.append(three.get("/v26.0/act_42/insights", params=params).json()["data"])

    assert insights[0] == insights[1] == insights[2]
    assert len(insights[0]) == 2 * 8  # both ad sets, days 3 to 10
    assert polled["async_status"] == "Job Completed"
    assert {row["campaign_id"] for row in rows} == {campaign_id, other_id}
    assert ledgers[0] == ledgers[1]
    assert ledgers[0]["today"] == "2025-03-11"
    ledger = ledgers[0]["ledger"]["meta"]
    for campaign in (campaign_id, other_id):
        days = [row for row in insights[0] if row["campaign_id"] == campaign]
        assert ledger[campaign]["spend"] == pytest.approx(sum(float(row["spend"]) for row in days), abs=0.05)
        assert ledger[campaign]["applications"] == sum(int(row["actions"][1]["value"]) for row in days) > 0


def test_the_ledger_helper_and_endpoint_agree_and_a_paused_campaign_stops_accruing(start_server):
    server = start_server()
    with _client(server) as http:
        campaign_id = _meta_tree(http, "Auxiliar de bodega", 40_000)
        server.advance_days(3)
        http.post(f"/v26.0/{campaign_id}", params=META, data={"status": "PAUSED"})
        paused = server.spend_ledger("meta")["meta"][campaign_id]
        server.advance_days(4)

        assert http.get("/__sandbox/ledger").json()["ledger"] == server.spend_ledger()
    assert paused["spend_micros"] > 0
    later = server.spend_ledger("meta")["meta"][campaign_id]
    # Nothing more is bought once paused; applications credited late to the paid days still arrive
    # (the market's attribution lag), so only they may grow.
    assert {k: v for k, v in later.items() if k != "applications"} == {
        k: v for k, v in paused.items() if k != "applications"
    }
    assert later["applications"] >= paused["applications"]


def test_reset_empties_the_store_for_every_server_and_ids_go_on(start_server):
    first, second = start_server(), start_server()
    with _client(first) as one, _client(second) as two:
        before = _create_campaign(one)
        assert two.post("/__sandbox/reset").json() == {"reset": True}
        assert one.get(f"/v26.0/{before}", params=META).status_code == 400  # Graph's unknown object
        after = _create_campaign(one)
    first.stop()
    second.stop()

    third = start_server()
    assert third.object_counts("meta") == {"campaign": 1}
    assert int(after) > int(before)


def test_a_busy_store_answers_with_the_platforms_transient_error_and_the_retry_succeeds(
    start_server, store_path, monkeypatch
):
    monkeypatch.setattr(sandbox_store, "BUSY_TIMEOUT_SECONDS", 0.2)
    server = start_server()
    other_process = sqlite3.connect(store_path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # another writer holding the store
    with _client(server) as http:
        busy = http.post(
            "/v26.0/act_42/campaigns", params=META, data={"name": "x", "objective": "OUTCOME_TRAFFIC"}
        )
        other_process.execute("ROLLBACK")
        _create_campaign(http)

    assert busy.status_code == 500 and busy.json()["error"]["is_transient"] is True
    assert server.object_counts("meta") == {"campaign": 1}
    other_process.close()


CHILD_PROCESS = """
import sys
import httpx
from adflux.sandbox import start_sandbox_in_thread

server = start_sandbox_in_thread(store_path=sys.argv[1])
form = {"objective": "OUTCOME_TRAFFIC", "status": "PAUSED", "special_ad_categories": '["EMPLOYMENT"]',
        "special_ad_category_country": '["CO"]'}
with httpx.Client(base_url=server.base_url, timeout=10) as http:
    for index in range(int(sys.argv[3])):
        answer = http.post("/v26.0/act_42/campaigns", params={"access_token": sys.argv[4]},
                           data={**form, "name": f"{sys.argv[2]}-{index}"})
        print(answer.json()["id"])
server.stop()
"""


def test_separate_os_processes_on_one_store_share_objects_and_ids(start_server, store_path):
    parent = start_server()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD_PROCESS, store_path, f"child{n}", "30", ISSUED["meta"]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    with _client(parent) as http:
        mine = [_create_campaign(http, f"parent-{index}") for index in range(30)]
        outputs = [child.communicate(timeout=120) for child in children]
        assert all(child.returncode == 0 for child in children), [err for _, err in outputs]
        theirs = [line for out, _ in outputs for line in out.split()]
        listed = _campaign_ids(http)

    assert len(theirs) == 60 and len(set(mine + theirs)) == 90
    assert sorted(listed) == sorted(mine + theirs)
    # The children's objects are real to this process: it can pause one.
    with _client(parent) as http:
        paused = http.post(f"/v26.0/{theirs[0]}", params=META, data={"status": "PAUSED"})
    assert paused.json() == {"success": True}


def _serve_cli(store_path: str, port: int) -> subprocess.Popen[str]:
    # Ctrl-C as in a terminal, whatever this process inherited: a shell that starts the suite in
    # the background (`.ci/run &`) has SIGINT ignored, and an ignored signal stays ignored in every
    # child, so the sandbox would never hear it. Its log goes to a file, not a pipe nobody reads.
    command = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from adflux.cli import main; main()"
    )
    with open(f"{store_path}.{port}.log", "a") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-c", command, "sandbox", "--port", str(port), "--store", store_path],
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )


def _log_of(store_path: str, port: int) -> str:
    with open(f"{store_path}.{port}.log") as log:
        return log.read()[-4000:]


def _wait_until_up(http: httpx.Client, process: subprocess.Popen[str], log: Callable[[], str]) -> None:
    for _ in range(200):
        assert process.poll() is None, log()
        try:
            http.get("/__sandbox/health")
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the sandbox did not come up")


def test_adflux_sandbox_with_store_remembers_its_objects_across_a_restart(store_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for attempt in range(2):
            process = _serve_cli(store_path, port)
            try:
                _wait_until_up(http, process, lambda: _log_of(store_path, port))
                if attempt == 0:
                    campaign_id = _create_campaign(http, status="ACTIVE")
                else:  # the restarted server knows it and pauses it through Meta's own endpoint
                    paused = http.post(f"/v26.0/{campaign_id}", params=META, data={"status": "PAUSED"})
                    assert paused.json() == {"success": True}
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    log = _log_of(store_path, port)
                    raise AssertionError(f"the sandbox did not stop on SIGINT: {log}") from None
