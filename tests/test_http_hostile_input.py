"""No request makes a 500: odd query strings, header bytes that are not UTF-8, deep JSON, and
error answers paid for like any other (so key guessing runs into 429)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import BaseTestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate.config import HttpConfig, RateLimit
from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.web.app import create_app
from tests.conftest import AppClient, SiteFactory
from tests.opsite import AUTH, TOKEN, ad_site
from tests.test_http_feeds import paged_site

Client = Callable[..., Any]


async def raw_status(server: BaseTestServer, target: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """The status of one request written byte for byte (aiohttp's client would re-encode the headers)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        lines = [b"GET " + target + b" HTTP/1.1", b"Host: test", b"Connection: close"]
        lines += [name + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n")
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


@pytest.mark.parametrize("page", ["%C2%B2", "%D9%A3", "%EF%BC%91", "0", "00", "-1", "+1", " 1", "1.0", "", "1e3"])
async def test_a_bad_page_number_is_400(client: AppClient, page: str) -> None:
    response = await client.get(f"/feeds/world.rss?page={page}")
    assert response.status == 400
    assert "page" in await response.text()


@pytest.mark.parametrize(
    "query",
    [
        "key=partner-a-demo-key&key=partner-b-demo-key",
        "page=1&page=2",
        "key=partner-a-demo-key&page=1&key=partner-a-demo-key",
    ],
)
async def test_a_parameter_given_twice_is_400_not_a_silent_choice(client: AppClient, query: str) -> None:
    response = await client.get(f"/feeds/world.json?{query}")
    assert response.status == 400
    assert "more than once" in await response.text()


async def test_an_out_of_range_page_is_still_404(client: AppClient) -> None:
    assert (await client.get("/feeds/world.rss?page=999")).status == 404


@pytest.mark.parametrize(
    "since",
    [
        "Mon, 01 Jan 20000000000000000000 00:00:00 GMT",
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 0000 00:00:00 GMT",
    ],
)
async def test_an_impossible_if_modified_since_is_ignored(client: AppClient, since: str) -> None:
    response = await client.get("/feeds/world.rss", headers={"If-Modified-Since": since})
    assert response.status == 200


async def test_an_undecodable_feed_key_is_401(aiohttp_client: Client, sample: Snapshot) -> None:
    client: AppClient = await aiohttp_client(create_app(sample))
    for value in (b"Bearer \xff", b"Bearer \xed\xa0\x80", b"bearer \xc3"):
        assert await raw_status(client.server, b"/feeds/world.rss", [(b"Authorization", value)]) == 401
    assert await raw_status(client.server, b"/feeds/world.rss?key=%FF", []) == 401
    assert await raw_status(client.server, b"/feeds/world.rss?key=%ED%A0%80", []) == 401


async def test_an_undecodable_admin_token_is_401(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(ad_site(make_site)))
    for path in (b"/admin/status", b"/admin/stats.json"):
        for value in (b"Bearer \xff", b"Basic \xff\xfe"):
            assert await raw_status(client.server, path, [(b"Authorization", value)]) == 401


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 900 + b"]" * 900,
        b'{"a":' * 900 + b"1" + b"}" * 900,
        b'{"name": "x", "units": ' + b"[" * 150 + b"]" * 150 + b"}",
        b"\xff\xfe",
        b'{"name": "\xff"}',
        b"{" * 100_000,
        b'{"a": 1' + b"0" * 5000 + b"}",
        b'{"a": NaN, "b": Infinity}',
        b"",
    ],
)
async def test_any_json_admin_body_the_parser_refuses_is_422(
    aiohttp_client: Client, make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)
    client: AppClient = await aiohttp_client(create_app(ad_site(make_site)))
    response = await client.put("/admin/adspaces/deep", data=body, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 422
    assert (await response.json())["error"] == "invalid ad space"
    assert (await client.get("/admin/adspaces/deep", headers=AUTH)).status == 404  # nothing written


GUESSING = """\
http:
  rate_limits:
    public: {rate: 0.01, burst: 5}
partners:
  - id: p
    keys: [partner-key-123456]
"""


async def test_wrong_keys_cost_tokens_so_guessing_meets_429(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client: AppClient = await aiohttp_client(create_app(paged_site(make_site, GUESSING)))
    statuses = [(await client.get(f"/feeds/news.rss?key=guess-{n}")).status for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    refused = await client.get("/feeds/news.rss", headers={"Authorization": "Bearer guess-9"})
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    # The right key is a partner's own bucket: guessing from this address did not spend it.
    assert (await client.get("/feeds/news.rss?key=partner-key-123456")).status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nope.rss",
        "/feeds/news.xml",
        "/feeds/news.rss?page=x",
        "/feeds/news.rss?page=99",
        "/feeds/news/tags/nope.rss",
    ],
)
async def test_every_error_answer_costs_a_token(aiohttp_client: Client, make_site: SiteFactory, path: str) -> None:
    client: AppClient = await aiohttp_client(create_app(paged_site(make_site, GUESSING)))
    first = await client.get(path)
    assert first.status in (400, 404) and first.headers["RateLimit-Remaining"] == "4"
    statuses = [(await client.get(path)).status for _ in range(5)]
    assert statuses[-1] == 429
    assert (await client.get("/feeds/news.rss")).status == 429


async def test_a_forbidden_feed_costs_the_partner_a_token(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = paged_site(
        make_site,
        """\
http:
  rate_limits:
    partners: {rate: 0.01, burst: 2}
partners:
  - id: p
    keys: [partner-key-123456]
    formats: [json]
""",
    )
    client: AppClient = await aiohttp_client(create_app(config))
    key = {"Authorization": "Bearer partner-key-123456"}
    assert [(await client.get("/feeds/news.rss", headers=key)).status for _ in range(3)] == [403, 403, 429]


# -- every query parameter and header the server reads, through the real app on a real socket --------------

READ_HEADERS = [
    b"Authorization",
    b"If-None-Match",
    b"If-Modified-Since",
    b"Accept-Encoding",
    b"X-Forwarded-For",
    b"User-Agent",
    b"Referer",
    b"Accept",
    b"If-Match",
    b"X-Admin-Actor",
    b"Content-Type",
]
READ_PARAMS = ["page", "key", "since", "until", "by", "format", "via", "partner", "at", "k%65y", "PAGE"]
PATHS = [
    "/feeds/world.rss",
    "/feeds/all.json",
    "/feeds/world.atom",
    "/feeds/world/tags/belarus.json",
    "/",
    "/feeds.opml",
    "/healthz",
    "/c/k1.abc",
    "/i/k1.abc.gif",
    "/admin/status",
    "/admin/stats.json",
    "/admin/stats",
    "/admin/adspaces/4",
    "/admin/adspaces",
    "/admin/preview/world/2020-09-18-baltic-reactions",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """The sample site served from a thread on a real socket, admin API on, limits out of the way."""
    from tests.conftest import SAMPLE_CONFIG

    folder = tmp_path_factory.mktemp("hostile")
    (folder / "token").write_text(TOKEN, encoding="utf-8")
    snapshot = build_snapshot(SAMPLE_CONFIG)
    roomy = RateLimit(10_000.0, 1_000_000.0)
    http: HttpConfig = dataclasses.replace(
        snapshot.config.http, public_limit=roomy, partner_limit=roomy, partner_limits={}, trust_forwarded=True
    )
    config = dataclasses.replace(
        snapshot.config, data_dir=folder / "data", http=http, admin_token_file=folder / "token"
    )
    app = create_app(dataclasses.replace(snapshot, config=config))
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", port
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def blocking_status(address: tuple[str, int], request: bytes) -> int:
    with socket.create_connection(address, timeout=20) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1])


header_bytes = st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\0", b""))
header_value = st.one_of(
    header_bytes,
    st.builds(
        lambda p, b: p + b, st.sampled_from([b"Bearer ", b"Basic ", b"bearer  ", b'W/"', b"gzip;q="]), header_bytes
    ),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass").replace(b"\r", b"").replace(b"\n", b"")),
    st.sampled_from(
        [
            b"Mon, 01 Jan 20000000000000000000 00:00:00 GMT",
            b"Bearer partner-a-demo-key",
            b"Bearer " + TOKEN.encode(),
            b"Basic " + base64.b64encode(b"x:" + TOKEN.encode()),
        ]
    ),
)
param_value = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=3),
    st.sampled_from(
        [
            "1",
            "2",
            "0",
            "²",
            "partner-a-demo-key",
            "day",
            "2024-02-30",
            "9999-99-99",
            "json",
            "rss",
            "0001-01-01T00:00:00+14:00",
            "partner-a",
        ]
    ),
)
query = st.lists(st.tuples(st.one_of(st.sampled_from(READ_PARAMS), st.text(max_size=8)), param_value), max_size=5)


segment = st.text(max_size=20).map(lambda t: quote(t, safe="", errors="surrogatepass"))
path = st.one_of(
    st.sampled_from(PATHS),
    st.builds(
        lambda template, s: template.format(s),
        st.sampled_from(
            [
                "/feeds/{}.rss",
                "/feeds/world.{}",
                "/feeds/all/tags/{}.json",
                "/feeds/world/authors/{}.atom",
                "/c/{}",
                "/i/{}.gif",
                "/admin/adspaces/{}",
                "/admin/preview/world/{}",
                "/admin/preview/{}/x",
            ]
        ),
        segment,
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=path,
    params=query,
    raw_tail=st.binary(max_size=20),
    headers=st.lists(st.tuples(st.sampled_from(READ_HEADERS), header_value), max_size=4),
    auth=st.sampled_from([b"", b"Bearer " + TOKEN.encode(), b"Bearer partner-a-demo-key"]),
)
@example(path="/feeds/world.rss", params=[("page", "²")], raw_tail=b"", headers=[], auth=b"")
@example(path="/feeds/world.rss", params=[], raw_tail=b"", headers=[(b"Authorization", b"Bearer \xff")], auth=b"")
@example(path="/admin/status", params=[], raw_tail=b"", headers=[(b"Authorization", b"Bearer \xff")], auth=b"")
@example(
    path=PATHS[-1],
    params=[("at", "0001-01-01T00:00:00+14:00"), ("format", "rss")],
    raw_tail=b"",
    headers=[],
    auth=b"Bearer " + TOKEN.encode(),
)
@example(
    path="/feeds/world.rss",
    params=[],
    raw_tail=b"",
    headers=[(b"If-Modified-Since", b"Mon, 01 Jan 20000000000000000000 00:00:00 GMT")],
    auth=b"",
)
def test_no_query_string_or_header_value_makes_a_500(
    live_server: tuple[str, int],
    path: str,
    params: list[tuple[str, str]],
    raw_tail: bytes,
    headers: list[tuple[bytes, bytes]],
    auth: bytes,
) -> None:
    pairs = "&".join(
        f"{name if name == 'k%65y' else quote(name, safe='')}={quote(value, safe='', errors='surrogatepass')}"
        for name, value in params
    )
    tail = "".join(f"%{b:02X}" for b in raw_tail)
    target = f"{path}?{pairs}{'&x=' + tail if tail else ''}".encode("ascii")
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: test", b"Connection: close"]
    lines += [name + b": " + value for name, value in headers]
    if auth and not any(name == b"Authorization" for name, _ in headers):  # reach what is behind the door too
        lines.append(b"Authorization: " + auth)
    status = blocking_status(live_server, b"\r\n".join(lines) + b"\r\n\r\n")
    assert status < 500, (target, headers)


def test_the_sweep_reaches_the_handlers(live_server: tuple[str, int]) -> None:
    """Guards the property test above: its requests are answered by the app, not refused by the parser."""
    request = b"GET /feeds/world.rss?key=partner-a-demo-key HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    assert blocking_status(live_server, request) == 200
    token = b"Authorization: Bearer " + TOKEN.encode()
    assert blocking_status(live_server, b"GET /admin/status HTTP/1.1\r\nHost: t\r\n" + token + b"\r\n\r\n") == 200
