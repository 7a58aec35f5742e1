"""Faults under a running server and secrets that must never show: config vanishing, an unusable
data folder, keys and tokens in logs, responses and the status endpoint."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import AppClient, SiteFactory, serve_like_cli
from tests.feedcheck import check_any
from tests.tracking_support import ADMIN_TOKEN, CLICK_LINK, PARTNER_KEY, SIGNING_KEYS, tracked_site, use_test_secrets

Client = Callable[..., Any]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


async def test_config_vanishing_and_coming_back(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = tracked_site(make_site)
    client: AppClient = await aiohttp_client(create_app(config))
    reloader = client.app[RELOADER]
    generation = reloader.holder.current.generation
    moved = config.with_name("config.yaml.away")
    config.rename(moved)
    outcome = await reloader.reload("test")
    assert not outcome.accepted and any("config file not found" in p.message for p in outcome.errors)
    response = await client.get("/feeds/news.rss")
    assert response.status == 200 and reloader.holder.current.generation == generation
    check_any("rss", await response.read())
    moved.rename(config)
    assert (await reloader.reload("test")).accepted
    assert (await client.get("/feeds/news.rss")).status == 200


async def test_unusable_data_folder_keeps_feeds_and_clicks_working(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = tracked_site(make_site)
    blocker = config.parent / "not-a-folder"
    blocker.write_text("a file where the data folder should be", encoding="utf-8")
    config.write_text(config.read_text(encoding="utf-8") + "paths:\n  data: not-a-folder/data\n", encoding="utf-8")
    client: AppClient = await aiohttp_client(create_app(config))
    feed = await client.get("/feeds/news.rss")
    assert feed.status == 200
    links = CLICK_LINK.findall(await feed.text())
    assert links
    click = await client.get(links[0].removeprefix("https://feeds.test"), allow_redirects=False)
    assert click.status == 302 and click.headers["Location"].startswith("https://ad.test/")
    await client.close()
    assert "tracking store" in caplog.text


async def test_secrets_never_show(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = tracked_site(make_site)
    client = await serve_like_cli(aiohttp_client, create_app(config))
    bodies = []
    for headers in (
        {"Authorization": f"Bearer {PARTNER_KEY}"},
        {"Authorization": "Bearer wrong-but-long-key"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ):
        for path in (
            "/feeds/news.rss",
            f"/feeds/news.rss?key={PARTNER_KEY}",
            "/feeds/nope.rss",
            "/admin/status",
            "/admin/adspaces",
            "/admin/stats.json",
            "/c/garbage",
            "/i/x.gif",
        ):
            response = await client.get(path, headers=headers, allow_redirects=False)
            assert response.status < 500, path
            bodies.append(await response.text())
    status = await client.get("/admin/status", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert status.status == 200
    secrets = [PARTNER_KEY, ADMIN_TOKEN, SIGNING_KEYS.split(":", 1)[1], "wrong-but-long-key"]
    everything = "\n".join(bodies) + caplog.text
    for secret in secrets:
        assert secret not in everything
    assert (await client.get("/admin/status")).status in (401, 403)
    assert (await client.get("/admin/status", headers={"Authorization": "Bearer " + ADMIN_TOKEN[:-1]})).status in (
        401,
        403,
    )


def test_only_constant_time_comparisons_of_secrets() -> None:
    """Secrets are compared with hmac.compare_digest or looked up by digest, never with == on the secret."""
    root = Path(__file__).resolve().parent.parent / "syndicate"
    suspicious = re.compile(r"(token|secret|mac|digest|key)\w*\s*[!=]=\s*\w*(token|secret|mac|digest|key)", re.I)
    offenders = [
        f"{path.name}:{number}"
        for path in root.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if suspicious.search(line) and "compare_digest" not in line and "len(" not in line
    ]
    assert offenders == []
