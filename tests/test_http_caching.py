"""Conditional GET, compression and caching headers: a matrix of validators x encodings x methods."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
from collections.abc import Callable

import pytest

from syndicate.web.conditional import accepts_gzip, etag_matches, http_date, not_modified, parse_http_date
from syndicate.web.state import VARIANTS
from syndicate.web.variants import Rendered, VariantCache
from tests.conftest import AppClient

PARTNER = {"Authorization": "Bearer partner-a-demo-key"}


async def test_headers_of_a_public_feed(client: AppClient) -> None:
    response = await client.get("/feeds/world.rss", headers={"Accept-Encoding": "identity"})
    assert response.status == 200
    headers = response.headers
    assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert headers["ETag"].startswith('"') and headers["ETag"].endswith('"')
    assert headers["Cache-Control"] == "public, max-age=300"
    assert headers["Vary"] == "Accept-Encoding, Authorization"
    assert parse_http_date(headers["Last-Modified"]) is not None
    assert 'rel="self"' in headers["Link"] and "/feeds/world.rss" in headers["Link"]
    assert "Content-Encoding" not in headers


async def test_partner_feeds_are_private(client: AppClient) -> None:
    response = await client.get("/feeds/world.json", headers=PARTNER)
    assert response.headers["Cache-Control"] == "private, max-age=300"


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("encoding", ["identity", "gzip", "gzip;q=0, deflate", "*"])
@pytest.mark.parametrize(
    "validator", ["none", "etag", "etag-list", "weak-etag", "star", "ims", "ims-old", "etag-wrong+ims", "bad-ims"]
)
async def test_matrix(client: AppClient, method: str, encoding: str, validator: str) -> None:
    first = await client.get("/feeds/world.atom", headers={"Accept-Encoding": encoding})
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    body = await first.read()
    old = http_date(dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    conditions: dict[str, dict[str, str]] = {
        "none": {},
        "etag": {"If-None-Match": etag},
        "etag-list": {"If-None-Match": f'"nope", {etag}'},
        "weak-etag": {"If-None-Match": f"W/{etag}"},
        "star": {"If-None-Match": "*"},
        "ims": {"If-Modified-Since": last_modified},
        "ims-old": {"If-Modified-Since": old},
        "etag-wrong+ims": {"If-None-Match": '"nope"', "If-Modified-Since": last_modified},  # ETag wins
        "bad-ims": {"If-Modified-Since": "yesterday-ish"},
    }
    response = await client.request(
        method, "/feeds/world.atom", headers={"Accept-Encoding": encoding, **conditions[validator]}
    )
    expect_304 = validator in {"etag", "etag-list", "weak-etag", "star", "ims"}
    assert response.status == (304 if expect_304 else 200)
    assert response.headers["ETag"] == etag
    assert response.headers["Last-Modified"] == last_modified
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers["Vary"] == "Accept-Encoding, Authorization"
    wants_gzip = encoding in {"gzip", "*"}
    assert etag.endswith('-gz"') == wants_gzip
    payload = await response.read()
    if expect_304 or method == "HEAD":
        assert payload == b""
    else:
        assert payload == body
        assert response.headers.get("Content-Encoding") == ("gzip" if wants_gzip else None)


async def test_gzip_body_is_the_same_feed(client: AppClient) -> None:
    plain = await (await client.get("/feeds/all.json", headers={"Accept-Encoding": "identity"})).read()
    response = await client.get("/feeds/all.json", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await response.read()) == plain


async def test_same_request_same_etag_and_hits_the_cache(client: AppClient) -> None:
    cache = client.app[VARIANTS]
    first = await client.get("/feeds/business.rss")
    renders = cache.renders
    second = await client.get("/feeds/business.rss")
    assert first.headers["ETag"] == second.headers["ETag"]
    assert cache.renders == renders and cache.hits >= 1


async def test_method_not_allowed(client: AppClient) -> None:
    response = await client.post("/feeds/world.rss")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]


async def test_concurrent_misses_render_once() -> None:
    cache = VariantCache(10_000_000)
    calls: list[int] = []

    def render() -> Rendered:
        calls.append(1)
        return Rendered(b"x" * 1000, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), ())

    results = await asyncio.gather(*(cache.get(("k",), render) for _ in range(20)))
    assert len(calls) == 1
    assert len({r.etag for r in results}) == 1


async def test_cache_is_bounded_by_bytes() -> None:
    cache = VariantCache(50_000)

    def render_n(n: int) -> Callable[[], Rendered]:
        return lambda: Rendered(bytes([n % 256]) * 10_000, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), ())

    for n in range(20):
        await cache.get((n,), render_n(n))
    assert cache.bytes <= 50_000
    assert len(cache.entries) < 20 and (19,) in cache.entries and (0,) not in cache.entries


def test_validator_rules() -> None:
    moment = dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    tags = ('"abc"', '"abc-gz"')
    assert etag_matches('"abc"', tags) and etag_matches('W/"abc-gz"', tags) and etag_matches("*", tags)
    assert not etag_matches('"ab"', tags) and not etag_matches("", tags) and not etag_matches("garbage", tags)
    assert not_modified(None, http_date(moment), tags, moment)
    assert not not_modified(None, http_date(moment - dt.timedelta(seconds=1)), tags, moment)
    assert not not_modified('"zzz"', http_date(moment), tags, moment)
    assert not not_modified(None, "not a date", tags, moment)
    assert accepts_gzip("gzip, deflate, br") and accepts_gzip("*") and accepts_gzip("GZIP;q=0.5")
    assert not accepts_gzip("gzip;q=0") and not accepts_gzip("identity") and not accepts_gzip(None)
    assert not accepts_gzip("*;q=0") and not accepts_gzip("gzip;q=bogus") and accepts_gzip("x-gzip")
