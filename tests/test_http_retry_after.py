"""``Retry-After`` tells the truth: a client that waits exactly that long is served, at any rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from syndicate.web.app import create_app
from syndicate.web.ratelimit import RateLimiter
from syndicate.web.state import LIMITER
from tests.conftest import AppClient, SiteFactory
from tests.test_http_feeds import paged_site

Client = Callable[..., Any]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def slow_limits(rate: float, burst: int) -> str:
    return f"""\
http:
  rate_limits:
    public: {{rate: {rate}, burst: {burst}}}
    not_modified_cost: 0.25
"""


@pytest.mark.parametrize(("rate", "burst"), [(0.5, 1), (0.5, 3), (0.1, 2), (0.3, 1), (2.0, 1), (0.01, 1)])
async def test_obeying_retry_after_is_served(
    aiohttp_client: Client, make_site: SiteFactory, rate: float, burst: int
) -> None:
    app = create_app(paged_site(make_site, slow_limits(rate, burst)))
    clock = Clock()
    app[LIMITER] = RateLimiter(clock=clock)
    client: AppClient = await aiohttp_client(app)
    for _ in range(burst):
        assert (await client.get("/feeds/news.rss")).status == 200
    for _ in range(4):  # each time: refused, wait what it says, served
        refused = await client.get("/feeds/news.rss")
        assert refused.status == 429
        wait = int(refused.headers["Retry-After"])
        clock.now += wait
        served = await client.get("/feeds/news.rss")
        assert served.status == 200, f"waited Retry-After: {wait} at rate {rate} and was refused again"


async def test_retry_after_is_not_longer_than_needed(aiohttp_client: Client, make_site: SiteFactory) -> None:
    app = create_app(paged_site(make_site, slow_limits(0.5, 1)))
    clock = Clock()
    app[LIMITER] = RateLimiter(clock=clock)
    client: AppClient = await aiohttp_client(app)
    assert (await client.get("/feeds/news.rss")).status == 200
    refused = await client.get("/feeds/news.rss")
    assert refused.headers["Retry-After"] == "2"  # one token at half a token a second
    clock.now += 1.5
    assert (await client.get("/feeds/news.rss")).status == 429
