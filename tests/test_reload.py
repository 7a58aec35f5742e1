"""Hot reload: valid edits go live, bad ones leave the last good Snapshot in place.

Reloads are driven through the app's Reloader (what the watcher, SIGHUP and
POST /admin/reload all call) and checked over HTTP through the real app.
"""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import signal
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from syndicate.reload import SETTLED, WATCH, Reloader
from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.watch import Targets
from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import AppClient, SiteFactory, article
from tests.feedcheck import check_any
from tests.opsite import AUTH, TOKEN, ad_site, space, wait_for

Client = Callable[..., Any]


async def start(aiohttp_client: Client, config: Path, watch: bool = False) -> tuple[AppClient, Reloader]:
    client: AppClient = await aiohttp_client(create_app(config, watch=watch))
    return client, client.app[RELOADER]


def _rewrite(path: Path) -> None:
    path.write_bytes(path.read_bytes())


async def until_watching(config: Path, reloader: Reloader) -> None:
    """The watches start in the background: rewrite config.yaml unchanged until a reload shows they are live."""
    attempts = reloader.attempts
    for _ in range(40):
        _rewrite(config)
        for _ in range(10):
            await asyncio.sleep(0.05)
            if reloader.attempts > attempts:
                return
    pytest.fail("the file watcher never reported a change")


async def feed_text(client: AppClient, path: str = "/feeds/news.rss") -> str:
    response = await client.get(path)
    assert response.status == 200
    body = await response.read()
    check_any(path.rsplit(".", 1)[1], body)
    return body.decode("utf-8")


async def test_a_valid_edit_goes_live(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = ad_site(make_site)
    client, reloader = await start(aiohttp_client, config)
    before = reloader.holder.current.generation
    assert "Version A" in await feed_text(client)
    (config.parent / "adspaces/top.yaml").write_text(space("Version B"), encoding="utf-8")
    outcome = await reloader.reload("test")
    assert outcome.accepted and outcome.generation > before
    text = await feed_text(client)
    assert "Version B" in text and "Version A" not in text
    assert reloader.rejected is None and reloader.last is outcome


async def test_watcher_follows_edits_and_keeps_last_good(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edit a space under a running server, see the feed change; break it, see the old ads and the error."""
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    config = ad_site(make_site)
    client, reloader = await start(aiohttp_client, config, watch=True)
    await until_watching(config, reloader)
    space_file = config.parent / "adspaces/top.yaml"

    space_file.write_text(space("Version B"), encoding="utf-8")

    async def shows_b() -> bool:
        return "Version B" in await feed_text(client)

    await wait_for(shows_b, "the watcher to load Version B")

    space_file.write_text(space("Version C") + "    wieght: 3\n", encoding="utf-8")

    async def rejected() -> bool:  # its final text: a reload may have read the file half written, and rejected that
        last = reloader.rejected
        return last is not None and any("wieght" in problem.message for problem in last.errors)

    await wait_for(rejected, "the watcher to reject the broken file")
    assert "Version B" in await feed_text(client)
    status = await (await client.get("/admin/status", headers=AUTH)).json()
    assert status["reload"]["rejected"]["trigger"] in (WATCH, SETTLED)  # its reload, or its first full check
    assert {
        "path": "adspaces/top.yaml",
        "line": 7,
        "level": "error",
        "message": "units[0].wieght: unknown field",
    } in status["reload"]["rejected"]["errors"]

    space_file.write_text(space("Version D"), encoding="utf-8")

    async def recovered() -> bool:
        return reloader.rejected is None and "Version D" in await feed_text(client)

    await wait_for(recovered, "the fixed file to go live")


def test_watch_filter_keeps_content_and_drops_scratch_files(make_site: SiteFactory) -> None:
    config = ad_site(make_site)
    root = config.parent.resolve()
    (root / "data").mkdir()
    targets = Targets.of(build_snapshot(config).config)
    assert targets.trees == (root / "feeds", root / "adspaces")
    assert root in targets.parents
    for wanted in (
        "config.yaml",
        "adspaces/top.yaml",
        "feeds/news/one.md",
        "feeds/news/_feed.yaml",
        "feeds/sport",
        "adspaces",
    ):
        assert targets.wanted(str(root / wanted)), wanted
    for ignored in (
        "adspaces/.top.yaml.swp",
        "adspaces/top.yaml~",
        "adspaces/.top.yaml.x1.tmp",
        "feeds/news/4913",
        "feeds/.git/index",
        "feeds/news/#one.md#",
        "data/admin/audit.log",
        "notes.txt",
        "config.yaml.bak",
    ):
        assert not targets.wanted(str(root / ignored)), ignored


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
async def test_sighup_reloads(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = ad_site(make_site)
    _, reloader = await start(aiohttp_client, config, watch=True)
    generation = reloader.holder.current.generation
    # Sending SIGHUP with no handler would end the test run: make sure the app installed one.
    assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN, None)
    os.kill(os.getpid(), signal.SIGHUP)  # no file changes, so the watcher cannot be the one reloading

    async def sighup_seen() -> bool:
        return reloader.last is not None and reloader.last.trigger == "SIGHUP"

    await wait_for(sighup_seen, "the SIGHUP reload")
    assert reloader.last is not None and reloader.last.accepted
    assert reloader.holder.current.generation > generation


async def test_watching_stops_with_the_app(make_site: SiteFactory) -> None:
    """The app's cleanup removes the SIGHUP handler and stops the watcher tasks."""

    def watcher_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if "Watcher." in repr(t.get_coro())]

    runner = web.AppRunner(create_app(ad_site(make_site), watch=True))
    await runner.setup()
    try:
        assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        assert watcher_tasks()
    finally:
        await runner.cleanup()
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL
    assert not watcher_tasks()


def _half_written(root: Path) -> None:
    (root / "adspaces/top.yaml").write_text(space("Version B")[:40], encoding="utf-8")


def _no_adspaces(root: Path) -> None:
    shutil.rmtree(root / "adspaces")


def _bad_utf8(root: Path) -> None:
    (root / "feeds/news/one.md").write_bytes(article("One").encode() + b"caf\xe9\n")


def _yaml_bomb(root: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (root / "adspaces/top.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _self_alias(root: Path) -> None:
    (root / "adspaces/top.yaml").write_text("units: &u [*u]\n", encoding="utf-8")


def _huge_article(root: Path) -> None:
    with (root / "feeds/news/huge.md").open("wb") as handle:
        handle.write(article("Huge").encode())
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing to read into memory


def _symlink_outside(root: Path) -> None:
    outside = root.parent / f"{root.name}-outside.md"
    outside.write_text(article("Secret"), encoding="utf-8")
    (root / "feeds/news/link.md").symlink_to(outside)


def _broken_config(root: Path) -> None:
    (root / "config.yaml").write_text("site: [\n", encoding="utf-8")


def _no_feeds(root: Path) -> None:
    shutil.rmtree(root / "feeds")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_half_written, "adspaces/top.yaml"),
        (_no_adspaces, "ad spaces folder is gone"),
        (_bad_utf8, "not valid UTF-8"),
        (_yaml_bomb, "document too large"),
        (_self_alias, "an alias inside itself"),
        (_huge_article, "over the 5242880-byte limit"),
        (_symlink_outside, "points outside the content folder"),
        (_broken_config, "invalid YAML"),
        (_no_feeds, "feeds folder not found"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else "",
)
async def test_bad_input_keeps_the_last_good_snapshot(
    aiohttp_client: Client, make_site: SiteFactory, breakage: Callable[[Path], None], message: str
) -> None:
    config = ad_site(make_site)
    client, reloader = await start(aiohttp_client, config)
    generation = reloader.holder.current.generation
    breakage(config.parent)
    tracemalloc.start()
    try:
        outcome = await reloader.reload("test")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not outcome.accepted
    assert any(message in p.format(config.parent) for p in outcome.errors), outcome.errors
    assert peak < 20 * 1024 * 1024, "a reload reads no file whole that it will reject for its size"
    assert reloader.holder.current.generation == generation and reloader.rejected is outcome
    text = await feed_text(client)
    assert "Version A" in text and "<title>One</title>" in text


async def test_second_half_of_a_save_goes_live(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = ad_site(make_site)
    client, reloader = await start(aiohttp_client, config)
    _half_written(config.parent)
    assert not (await reloader.reload("test")).accepted
    (config.parent / "adspaces/top.yaml").write_text(space("Version B"), encoding="utf-8")
    assert (await reloader.reload("test")).accepted
    assert reloader.rejected is None
    assert "Version B" in await feed_text(client)


async def test_known_errors_do_not_block_a_reload(aiohttp_client: Client, make_site: SiteFactory) -> None:
    """Errors present at startup are tolerated on reload, even when edits move their line; new ones are not."""
    config = ad_site(make_site)
    broken = config.parent / "feeds/news/broken.md"
    broken.write_text(article("Broken", date="2024-01-01T00:00:00"), encoding="utf-8")
    client, reloader = await start(aiohttp_client, config)
    assert any("timestamp has no timezone" in p.message for p in reloader.holder.current.problems)

    broken.write_text("---\n# a comment above\n" + article("Broken", date="2024-01-01T00:00:00")[4:], encoding="utf-8")
    (config.parent / "adspaces/top.yaml").write_text(space("Version B"), encoding="utf-8")
    assert (await reloader.reload("test")).accepted
    assert "Version B" in await feed_text(client)

    (config.parent / "feeds/news/new.md").write_text(article("New", date="yesterday"), encoding="utf-8")
    outcome = await reloader.reload("test")
    assert not outcome.accepted
    assert [p.path.name for p in outcome.errors] == ["new.md"]


async def test_concurrent_reloads_share_one_build(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = ad_site(make_site)
    _, reloader = await start(aiohttp_client, config)
    outcomes = await asyncio.gather(*(reloader.reload(f"r{i}") for i in range(6)))
    assert all(o.accepted for o in outcomes)
    assert reloader.attempts == 2  # the five queued behind the first share the second build
    assert outcomes[-1].generation == reloader.holder.current.generation


def _live_snapshots() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Snapshot)


async def test_reloading_under_load(aiohttp_client: Client, make_site: SiteFactory) -> None:
    """Every response during 30 reloads is a 200 with a complete feed from one Snapshot; old ones are freed."""
    config = ad_site(make_site)
    client, reloader = await start(aiohttp_client, config)
    space_file = config.parent / "adspaces/top.yaml"
    baseline = _live_snapshots()
    done = asyncio.Event()
    seen: list[str] = []

    async def reader(fmt: str) -> None:
        while not done.is_set():
            text = await feed_text(client, f"/feeds/news.{fmt}")
            versions = {v for v in ("Version A", "Version B") if v in text}
            assert len(versions) == 1, "one response, one Snapshot"
            version = versions.pop()
            assert text.count(version) == 2, "both articles carry their ad"
            seen.append(version)

    readers = [asyncio.create_task(reader(fmt)) for fmt in ("rss", "atom", "json") * 3]
    for i in range(30):
        space_file.write_text(space("Version B" if i % 2 == 0 else "Version A"), encoding="utf-8")
        assert (await reloader.reload("load")).accepted
        await asyncio.sleep(0.01)
    done.set()
    await asyncio.gather(*readers)
    assert {"Version A", "Version B"} <= set(seen)
    assert _live_snapshots() <= baseline + 1
