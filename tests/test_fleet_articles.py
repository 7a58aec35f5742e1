"""Articles pushed through the admin API with a shared store: stored in PostgreSQL, applied on every replica."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from syndicate.cli import main
from syndicate.web.state import FLEET
from tests.conftest import article
from tests.fleet_support import feed_text, replica, replica_site, within, without_shared_store
from tests.tracking_support import admin

MARKDOWN = {"Content-Type": "text/markdown"}


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    without_shared_store(monkeypatch)


async def test_an_article_pushed_to_one_replica_is_served_by_the_others(tmp_path: Path, postgres_url: str) -> None:
    one, two = replica_site(tmp_path / "one", postgres_url), replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        body = article("Pushed-everywhere", "2024-05-04T10:00:00+00:00", "Hello from the CMS.")
        put = await a.put("/admin/articles/news/pushed", data=body, headers={**admin(), **MARKDOWN})
        assert put.status == 201, await put.text()
        assert "Pushed-everywhere" in await feed_text(a)
        assert not (tmp_path / "one" / "feeds" / "news" / "pushed.md").exists()  # the store's, not the site's

        async def served_on_b() -> bool:
            return "Pushed-everywhere" in await feed_text(b)

        assert await within(2.0, served_on_b) < 2.0
        got = await b.get("/admin/articles/news/pushed", headers=admin())
        assert got.status == 200 and await got.text() == body

        async with replica(replica_site(tmp_path / "three", postgres_url)) as c:  # a replica started later
            assert "Pushed-everywhere" in await feed_text(c)

        gone = await b.delete("/admin/articles/news/pushed", headers=admin())
        assert gone.status == 200, await gone.text()

        async def removed_on_a() -> bool:
            return "Pushed-everywhere" not in await feed_text(a)

        await within(2.0, removed_on_a)
        assert (await a.get("/admin/articles/news/pushed", headers=admin())).status == 404


async def test_an_article_file_wins_and_bad_pushes_reach_no_replica(tmp_path: Path, postgres_url: str) -> None:
    one, two = replica_site(tmp_path / "one", postgres_url), replica_site(tmp_path / "two", postgres_url)
    async with replica(one) as a, replica(two) as b:
        over = article("Over-the-file", "2024-05-04T10:00:00+00:00", "x")
        refused = await a.put("/admin/articles/news/a", data=over, headers={**admin(), **MARKDOWN})
        assert refused.status == 422, await refused.text()
        [problem] = (await refused.json())["problems"]
        assert problem["path"] == "feeds/news/a.md" and "wins over the shared store" in problem["message"]
        bad = await a.put("/admin/articles/news/b", data="---\ntitle: [\n---\nx\n", headers={**admin(), **MARKDOWN})
        assert bad.status == 422
        assert a.app[FLEET].latest == 0 and b.app[FLEET].latest == 0  # nothing was stored
        assert "Over-the-file" not in await feed_text(b)


async def test_check_flags_an_article_file_and_a_stored_article_with_one_id(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    one = replica_site(tmp_path / "one", postgres_url)
    async with replica(one) as a:
        stored = article("Stored-one", "2024-05-04T10:00:00+00:00", "x")
        assert (await a.put("/admin/articles/news/b", data=stored, headers={**admin(), **MARKDOWN})).status == 201
    (tmp_path / "one" / "feeds" / "news" / "b.md").write_text(
        article("From-git", "2024-05-04T10:00:00+00:00", "y"), encoding="utf-8"
    )
    shutil.rmtree(tmp_path / "one" / "data")  # check on a machine with no replica's copy
    assert await asyncio.to_thread(main, ["check", "--config", str(one)]) == 0
    out = capsys.readouterr().out
    assert out.count("also in the shared store") == 1 and "feeds/news/b.md" in out
    async with replica(one) as a:
        text = await feed_text(a)
        assert "From-git" in text and "Stored-one" not in text  # the file wins
        health = await (await a.get("/admin/status", headers=admin())).json()
        assert "also in the shared store" in str(health)
