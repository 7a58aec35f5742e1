"""The file watcher and the admin API: a file the admin API wrote and reloaded is not reloaded again when the
watcher reports it, while any other change to it, or beside it, still is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.reload import Reloader
from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import AppClient, SiteFactory
from tests.opsite import AUTH, TOKEN, ad_site, space, wait_for
from tests.test_reload import feed_text, until_watching

Client = Callable[..., Any]
PUT = {**AUTH, "Content-Type": "application/yaml"}


async def watching(aiohttp_client: Client, config: Path) -> tuple[AppClient, Reloader]:
    client: AppClient = await aiohttp_client(create_app(config, watch=True))
    reloader = client.app[RELOADER]
    await until_watching(config, reloader)
    await asyncio.sleep(0.5)  # the rewrites' last batch
    return client, reloader


async def test_an_admin_put_is_reloaded_once(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    config = ad_site(make_site)
    client, reloader = await watching(aiohttp_client, config)
    before = reloader.attempts
    response = await client.put("/admin/adspaces/top", data=space("Version B"), headers=PUT)
    assert response.status == 200, await response.text()
    assert reloader.attempts == before + 1

    async def seen() -> bool:
        return reloader.skipped > 0 or reloader.attempts > before + 1

    await wait_for(seen, "the watcher to report the written file")
    assert reloader.attempts == before + 1
    assert "Version B" in await feed_text(client)


async def test_an_edit_after_an_admin_put_is_reloaded(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    config = ad_site(make_site)
    client, _ = await watching(aiohttp_client, config)
    response = await client.put("/admin/adspaces/top", data=space("Version B"), headers=PUT)
    assert response.status == 200, await response.text()
    (config.parent / "adspaces/top.yaml").write_text(space("Version C"), encoding="utf-8")

    async def shows_c() -> bool:
        return "Version C" in await feed_text(client)

    await wait_for(shows_c, "the watcher to load the edit made after the PUT")


async def test_a_file_is_applied_only_as_the_reload_read_it(make_site: SiteFactory) -> None:
    """What the watcher asks: each path as the last reload that wrote it read it; anything else is a change."""
    config = ad_site(make_site)
    reloader = Reloader(_Holder(config))
    top = config.parent / "adspaces/top.yaml"
    other = config.parent / "adspaces/acme-top.yaml"
    assert not reloader.applied([top])
    async with reloader.lock:
        assert (await reloader.reload_locked("admin PUT adspaces/top", (top,))).accepted
    assert reloader.applied([top])
    assert not reloader.applied([top, other])  # a change beside it
    top.write_text(space("Version Z"), encoding="utf-8")
    assert not reloader.applied([top])  # rewritten since
    top.unlink()
    assert not reloader.applied([top])  # deleted since


class _Holder:
    def __init__(self, config: Path) -> None:
        from syndicate.snapshot import build_snapshot

        self.current = build_snapshot(config)

    def replace(self, snapshot: Any) -> None:
        self.current = snapshot
