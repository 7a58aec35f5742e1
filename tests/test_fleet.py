"""Replicas sharing PostgreSQL, in one process: admin writes broadcast, replays and limits fleet-wide, health."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from syndicate.cli import main
from syndicate.problems import LoadError
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.state import FLEET, TRACKER
from tests.fleet_support import feed_text, replica, replica_site, space_4, within, without_shared_store
from tests.test_tracking_http import ad_links
from tests.tracking_support import ADMIN_TOKEN, CHROME, PARTNER_KEY, admin

YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    without_shared_store(monkeypatch)


async def test_an_ad_space_put_on_one_replica_is_served_by_the_others(tmp_path: Path, postgres_url: str) -> None:
    one, two = replica_site(tmp_path / "one", postgres_url), replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        assert "Version-one" not in await feed_text(b)
        put = await a.put("/admin/adspaces/4", data=space_4("Version-one"), headers={**admin(), **YAML})
        assert put.status == 201, await put.text()
        assert "Version-one" in await feed_text(a)  # live on the replica that took it, at once

        async def served_on_b() -> bool:
            return "Version-one" in await feed_text(b)

        assert await within(2.0, served_on_b) < 2.0
        assert not (tmp_path / "two" / "adspaces" / "4.yaml").exists()  # the store's, not a file of the site
        health = await (await b.get("/healthz")).json()
        assert health["status"] == "ok" and health["store"]["reachable"]
        assert health["store"]["revision"]["behind"] == 0 and health["store"]["revision"]["applied"] >= 1
        assert health["store"]["revision"]["seconds_behind"] == 0

        # a third replica started later gets the current state before it answers anything
        async with replica(replica_site(tmp_path / "three", postgres_url)) as c:
            assert "Version-one" in await feed_text(c)

        gone = await b.delete("/admin/adspaces/4", headers=admin())
        assert gone.status == 200, await gone.text()

        async def removed_on_a() -> bool:
            return "Version-one" not in await feed_text(a)

        await within(2.0, removed_on_a)


async def test_files_win_and_bad_writes_reach_no_replica(tmp_path: Path, postgres_url: str) -> None:
    one, two = replica_site(tmp_path / "one", postgres_url), replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        refused = await a.put("/admin/adspaces/5", data=space_4("Over-the-file"), headers={**admin(), **YAML})
        assert refused.status == 422
        [problem] = (await refused.json())["problems"]
        assert problem["path"] == "adspaces/5.yaml" and "wins over the shared store" in problem["message"]
        bad = await a.put("/admin/adspaces/4", data="units: [{id: x, type: nonsense}]\n", headers={**admin(), **YAML})
        assert bad.status == 422
        assert b.app[FLEET].latest == 0 and a.app[FLEET].latest == 0  # nothing was stored
        assert "Over-the-file" not in await feed_text(b)


async def test_a_change_another_replica_cannot_take_leaves_it_on_its_last_state(
    tmp_path: Path, postgres_url: str
) -> None:
    """The acceptance rule holds on every replica: here space 6 exists only in the first one's files."""
    one = replica_site(tmp_path / "one", postgres_url, {"adspaces/6.yaml": space_4("Six")})
    two = replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        put = await a.put(
            "/admin/adspaces/4", data=space_4("Falls-back") + "if_empty: '6'\n", headers={**admin(), **YAML}
        )
        assert put.status == 201, await put.text()

        async def rejected_on_b() -> bool:
            return b.app[FLEET].rejected is not None

        await within(2.0, rejected_on_b)
        assert "Falls-back" not in await feed_text(b)
        health = await (await b.get("/healthz")).json()
        assert health["store"]["revision"]["rejected"] == health["store"]["revision"]["latest"]


async def test_check_flags_a_file_and_a_stored_space_with_one_id(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    one = replica_site(tmp_path / "one", postgres_url)
    async with replica(one) as a:
        assert (await a.put("/admin/adspaces/4", data=space_4("Stored"), headers={**admin(), **YAML})).status == 201
    # later, ops add a file for the same id in git; check runs on a machine with no replica's data
    (tmp_path / "one" / "adspaces" / "4.yaml").write_text(space_4("From-git"), encoding="utf-8")
    assert await asyncio.to_thread(main, ["check", "--config", str(one)]) == 0  # the CLI runs its own loop
    out = capsys.readouterr().out
    assert out.count("also in the shared store") == 1 and "adspaces/4.yaml" in out
    shutil.rmtree(tmp_path / "one" / "data")
    assert await asyncio.to_thread(main, ["check", "--config", str(one)]) == 0
    assert capsys.readouterr().out.count("also in the shared store") == 1
    async with replica(one) as a:
        text = await feed_text(a)
        assert "From-git" in text and "Stored" not in text  # the file wins


async def test_clicks_and_pixels_count_once_across_replicas(tmp_path: Path, postgres_url: str) -> None:
    one, two = replica_site(tmp_path / "one", postgres_url), replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        clicks, pixels = await ad_links(a)
        for n in range(10):  # ten readers, each clicking on both replicas and loading the pixel on both
            for client in (a, b, a, b):
                headers = {"User-Agent": CHROME, "X-Forwarded-For": f"203.0.113.{n}"}
                assert (await client.get(clicks[0], allow_redirects=False, headers=headers)).status == 302
                assert (await client.get(pixels[0], headers=headers)).status == 200
        for client in (a, b):
            assert await client.app[TRACKER].flush()
        for client in (a, b):
            report = await (await client.get("/admin/stats.json?by=space", headers=admin())).json()
            assert (report["totals"]["clicks"], report["totals"]["rendered"]) == (10, 10)


async def test_a_partner_burst_holds_across_replicas(tmp_path: Path, postgres_url: str) -> None:
    one, two = replica_site(tmp_path / "one", postgres_url), replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        await within(3.0, lambda: _both_see_two(a, b))
        allowed = 0
        partner = {"Authorization": f"Bearer {PARTNER_KEY}"}
        for _ in range(60):  # over about a second: leases left on one replica go back within a few syncs
            for client in (a, b):
                response = await client.get("/feeds/news.json", headers=partner)
                assert response.status in (200, 429)
                allowed += response.status == 200
            await asyncio.sleep(0.015)
        assert 36 <= allowed <= 44, allowed  # burst 40 for the fleet, within 10 %
        assert a.app[FLEET].error is None and b.app[FLEET].error is None  # decided by leases, not alone


async def _both_see_two(*clients: object) -> bool:
    return all(client.app[FLEET].replicas == 2 for client in clients)  # type: ignore[attr-defined]


async def test_a_shared_store_refuses_the_random_development_key(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNDICATE_SIGNING_KEYS")
    config = replica_site(tmp_path / "one", postgres_url)
    with pytest.raises(LoadError) as caught:
        create_app(build_snapshot(config))
    assert "needs configured signing keys" in caught.value.problems[0].message
    assert await asyncio.to_thread(main, ["serve", "--config", str(config), "--workers", "2"]) == 1


async def test_health_shows_an_unreachable_store(tmp_path: Path) -> None:
    config = replica_site(tmp_path / "one", "postgresql://postgres@127.0.0.1:1/nowhere")
    async with replica(config) as a:
        assert (await a.get("/feeds/news.rss")).status == 200
        health = await (await a.get("/healthz")).json()
        assert health["status"] == "degraded" and not health["store"]["reachable"]
        assert "Connection refused" in health["store"]["error"] or "connect" in health["store"]["error"]
        assert ADMIN_TOKEN not in str(health)
