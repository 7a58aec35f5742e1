"""The cached request path: checked requests remembered per Snapshot, one charge per answer, prepared headers.

What a repeated request is answered must be what checking it afresh would answer: after a reload,
for another key, for a key in the query instead of the header, and under every rate-limit setting.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from syndicate.config import HttpConfig, RateLimit
from syndicate.partners import Audience
from syndicate.snapshot import build_snapshot
from syndicate.web.app import create_app
from syndicate.web.ratelimit import RateLimiter
from syndicate.web.state import LIMITER, RELOADER, WANTED
from tests.conftest import MINIMAL_CONFIG, AppClient, SiteFactory, article

Client = Callable[..., Any]
KEY = "partner-key-123456"
OTHER = "other-key-1234567"
BEARER = {"Authorization": f"Bearer {KEY}"}


def partner_config(formats: str = "", limits: str = "") -> str:
    return (
        MINIMAL_CONFIG
        + limits
        + f"""\
partners:
  - id: p
    keys: [{KEY}]
{formats}  - id: q
    keys: [{OTHER}]
    ads: strip
"""
    )


def site(make_site: SiteFactory, config: str) -> Path:
    return make_site({"feeds/news/_feed.yaml": "title: News\n", "feeds/news/a.md": article()}, config=config)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_remembered_request_is_not_served_to_another_key(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    client: AppClient = await aiohttp_client(create_app(site(make_site, partner_config())))
    assert (await client.get("/feeds/news.rss", headers=BEARER)).status == 200
    assert (await client.get("/feeds/news.rss", headers=BEARER)).status == 200
    wrong = await client.get("/feeds/news.rss", headers={"Authorization": "Bearer not-a-key-at-all"})
    assert wrong.status == 401
    other = await client.get("/feeds/news.rss", headers={"Authorization": f"Bearer {OTHER}"})
    assert other.status == 200 and other.headers["RateLimit-Limit"] == "300"
    public = await client.get("/feeds/news.rss")
    assert public.status == 200 and public.headers["Cache-Control"].startswith("public")
    private = await client.get("/feeds/news.rss", headers=BEARER)
    assert private.headers["Cache-Control"].startswith("private")


async def test_a_query_key_and_a_header_key_stay_apart(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client: AppClient = await aiohttp_client(create_app(site(make_site, partner_config())))
    header = await (await client.get("/feeds/news.rss", headers=BEARER)).text()
    query = await (await client.get(f"/feeds/news.rss?key={KEY}")).text()
    assert f"key={KEY}" in query and f"key={KEY}" not in header
    assert f"key={KEY}" not in await (await client.get("/feeds/news.rss", headers=BEARER)).text()


async def test_a_reload_checks_remembered_requests_again(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = site(make_site, partner_config())
    client: AppClient = await aiohttp_client(create_app(config))
    assert (await client.get("/feeds/news.rss", headers=BEARER)).status == 200
    assert client.app[WANTED].table, "the checked request is remembered"
    config.write_text(partner_config(formats="    formats: [json]\n"), encoding="utf-8")
    assert (await client.app[RELOADER].reload("test")).accepted
    refused = await client.get("/feeds/news.rss", headers=BEARER)
    assert refused.status == 403
    assert (await client.get("/feeds/news.json", headers=BEARER)).status == 200


async def test_refusals_are_checked_and_charged_every_time(aiohttp_client: Client, make_site: SiteFactory) -> None:
    limits = "http:\n  rate_limits:\n    public: {rate: 0.01, burst: 3}\n"
    client: AppClient = await aiohttp_client(create_app(site(make_site, partner_config(limits=limits))))
    statuses = [(await client.get("/feeds/nope.rss")).status for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert not client.app[WANTED].table


async def limited_client(aiohttp_client: Client, make_site: SiteFactory, burst: int, cost: float) -> AppClient:
    limits = f"http:\n  rate_limits:\n    public: {{rate: 0.001, burst: {burst}}}\n    not_modified_cost: {cost}\n"
    app = create_app(site(make_site, partner_config(limits=limits)))
    app[LIMITER] = RateLimiter(clock=Clock())
    client: AppClient = await aiohttp_client(app)
    return client


async def test_a_cached_304_is_charged_once(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await limited_client(aiohttp_client, make_site, 2, 0.25)
    first = await client.get("/feeds/news.rss")
    fresh = {"If-None-Match": first.headers["ETag"]}
    statuses = [(await client.get("/feeds/news.rss", headers=fresh)).status for _ in range(5)]
    assert statuses == [304, 304, 304, 304, 429]  # 1 token left after the 200: four quarters


@pytest.mark.parametrize(("cost", "expected"), [(0.25, [200, 200, 200, 429]), (2.0, [200, 200, 429])])
async def test_a_client_short_of_the_dearest_answer_is_refused_first(
    aiohttp_client: Client, make_site: SiteFactory, cost: float, expected: list[int]
) -> None:
    """Before answering, a client must hold what the dearest answer costs (a 304 may cost more than a 200):
    a cached answer is refused exactly when a render would have been."""
    client = await limited_client(aiohttp_client, make_site, 3, cost)
    statuses = [(await client.get("/feeds/news.rss")).status for _ in expected]
    assert statuses == expected


async def test_prepared_headers_carry_nothing_of_an_earlier_response(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    client: AppClient = await aiohttp_client(create_app(site(make_site, partner_config())))
    # the test client asks for gzip unless told not to
    identity: dict[str, Any] = {"skip_auto_headers": ("Accept-Encoding",)}
    plain = await client.get("/feeds/news.rss", headers=BEARER, **identity)
    gzipped = await client.get("/feeds/news.rss", headers={**BEARER, "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers and gzipped.headers["Content-Encoding"] == "gzip"
    fresh = await client.get(
        "/feeds/news.rss", headers={**BEARER, "Accept-Encoding": "gzip", "If-None-Match": gzipped.headers["ETag"]}
    )
    assert fresh.status == 304 and fresh.headers["ETag"] == gzipped.headers["ETag"]
    assert "Content-Type" not in fresh.headers and "Content-Encoding" not in fresh.headers
    again = await client.get("/feeds/news.rss", headers=BEARER, **identity)
    assert again.headers["ETag"] == plain.headers["ETag"] and "Content-Encoding" not in again.headers
    remaining = [int(r.headers["RateLimit-Remaining"]) for r in (plain, gzipped, again)]
    assert remaining[0] > remaining[1] > remaining[2]


def test_an_audience_spends_its_own_bucket(make_site: SiteFactory) -> None:
    limits = (
        "http:\n  rate_limits:\n    public: {rate: 1, burst: 5}\n    partners: {enabled: false}\n"
        "    per_partner:\n      q: {rate: 3, burst: 7}\n"
    )
    snapshot = build_snapshot(site(make_site, partner_config(limits=limits)))
    http: HttpConfig = snapshot.config.http
    p, q = (snapshot.audience(name) for name in ("p", "q"))
    assert isinstance(p, Audience) and isinstance(q, Audience)
    assert snapshot.config.public.limit(http) == RateLimit(1.0, 5.0)
    assert p.limit(http) is None
    assert q.limit(http) == RateLimit(3.0, 7.0)
