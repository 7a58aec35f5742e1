"""Abuse over real sockets: oversized requests, odd methods, malformed validators, partner isolation."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import AppClient

A = {"Authorization": "Bearer partner-a-demo-key"}
B = {"Authorization": "Bearer partner-b-demo-key"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods_get_405_with_allow(client: AppClient, method: str) -> None:
    response = await client.request(method, "/feeds/world.rss")
    assert response.status == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


async def test_huge_query_and_headers_are_refused_cleanly(client: AppClient) -> None:
    response = await client.get("/feeds/world.rss?page=1&x=" + "a" * 20_000)
    assert response.status in (400, 414)
    response = await client.get("/feeds/world.rss", headers={"X-Big": "b" * 20_000})
    assert response.status in (400, 431)
    assert (await client.get("/feeds/world.rss")).status == 200  # and the server is fine


@pytest.mark.parametrize(
    "header",
    [
        {"If-None-Match": '"unterminated'},
        {"If-None-Match": ",,,"},
        {"If-None-Match": "W/"},
        {"If-Modified-Since": "Mon, 99 Foo 2020 99:99:99 GMT"},
        {"If-Modified-Since": "0"},
        {"If-Modified-Since": "\u00e9t\u00e9"},
        {"Accept-Encoding": "gzip;q=;;;,*;q=nan"},
        {"Accept-Encoding": ";" * 500},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic Zm9vOmJhcg=="},
    ],
)
async def test_malformed_headers_never_break_a_feed(client: AppClient, header: dict[str, str]) -> None:
    response = await client.get("/feeds/world.atom", headers=header)
    assert response.status in (200, 304)


async def test_partners_never_get_each_others_variant(client: AppClient) -> None:
    async def fetch(headers: dict[str, str]) -> str:
        return await (await client.get("/feeds/world.json", headers=headers)).text()

    # Interleaved and concurrent, so both cold and cached paths are exercised.
    for _ in range(3):
        texts = await asyncio.gather(fetch(A), fetch({}), fetch(A), fetch(B), fetch({}))
        partner_a, public, partner_a_again, partner_b, public_again = texts
        assert "partner-a.example.com" in partner_a and partner_a == partner_a_again
        assert "partner-a.example.com" not in public and public == public_again
        assert "sponsored" not in partner_b
    etag_a = (await client.get("/feeds/world.json", headers=A)).headers["ETag"]
    # A's validator must not make B's (or the public) response a 304 of A's bytes.
    assert (await client.get("/feeds/world.json", headers={**B, "If-None-Match": etag_a})).status == 200
    assert (await client.get("/feeds/world.json", headers={"If-None-Match": etag_a})).status == 200
