"""No key, token or whole client address in any log line, through the real app on a real socket."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.web.app import create_app
from syndicate.web.redaction import truncate_address
from tests.conftest import AppClient, SiteFactory, serve_like_cli
from tests.opsite import AUTH, PARTNER_KEY, TOKEN, ad_site, space
from tests.test_tracking_http import ad_links
from tests.tracking_support import tracked_site, use_test_secrets

Client = Callable[..., Any]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)
    monkeypatch.setenv("SYNDICATE_ADMIN_TOKEN", TOKEN)


async def _client(aiohttp_client: Client, config: Path) -> AppClient:
    return await serve_like_cli(aiohttp_client, create_app(config))


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "query",
    [
        f"k%65y={PARTNER_KEY}",
        f"%6B%65%79={PARTNER_KEY}",
        f"key={PARTNER_KEY}",
        f"page=1&key={PARTNER_KEY}",
        f"key=x&key={PARTNER_KEY}",
    ],
)
async def test_a_key_in_any_spelling_is_redacted_from_the_access_log(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    client = await _client(aiohttp_client, ad_site(make_site))
    with caplog.at_level(logging.INFO):
        response = await client.get(
            f"/feeds/news.json?{query}", headers={"Referer": f"https://partner.test/feed?k%65y={PARTNER_KEY}"}
        )
        assert response.status in (200, 400, 401)  # a key given twice is a 400
        await asyncio.sleep(0)
    lines = [r.getMessage() for r in caplog.records if r.name == "syndicate.access"]
    assert lines and all(PARTNER_KEY not in line for line in lines), lines
    assert "REDACTED" in lines[-1]


async def test_k_65_y_authenticates_so_it_must_be_redacted(aiohttp_client: Client, make_site: SiteFactory) -> None:
    client = await _client(aiohttp_client, ad_site(make_site))
    response = await client.get(f"/feeds/news.json?k%65y={PARTNER_KEY}")
    assert response.status == 200 and "private" in response.headers["Cache-Control"]  # the partner's feed


async def test_tracking_tokens_are_redacted_however_the_path_is_spelled(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = await _client(aiohttp_client, tracked_site(make_site))
    clicks, pixels = await ad_links(client)
    token = clicks[0].removeprefix("/c/")
    with caplog.at_level(logging.INFO):
        for path in (clicks[0], pixels[0], f"/%63/{token}", f"/%69/{token}.gif", f"/c/{token}?x=1"):
            await client.get(path, allow_redirects=False)
        await asyncio.sleep(0)
    lines = [r.getMessage() for r in caplog.records if r.name == "syndicate.access"]
    assert len(lines) == 5
    assert all(token not in line for line in lines), lines


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /feeds/news.json?key=" + PARTNER_KEY.encode() + b"&x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /feeds/news.json?k%65y=" + PARTNER_KEY.encode() + b"&x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /feeds/news.json?key=" + PARTNER_KEY.encode() + b"\x01 HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /c/k1.AbCdEfGhIjKlMnOpQrStUvWxYz012345" + b"x" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
    ],
)
async def test_aiohttp_errors_about_a_bad_request_line_never_log_the_key(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    client = await _client(aiohttp_client, ad_site(make_site))
    port = client.server.port
    assert port is not None
    with caplog.at_level(logging.DEBUG):
        answer = await asyncio.get_running_loop().run_in_executor(None, _raw, port, request_bytes)
        assert answer.startswith(b"HTTP/1.")
        await asyncio.sleep(0.05)
    logged = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "Got more than" in logged or "Invalid" in logged  # aiohttp did log the fault …
    assert PARTNER_KEY not in logged and "AbCdEfGhIjKlMnOp" not in logged  # … with nothing secret in it


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("", "127.0.0.0"),
        ("  log_ipv4_prefix: 32\n", "127.0.0.1"),
        ("  log_ipv4_prefix: 16\n", "127.0.0.0"),
        ("  log_ipv4_prefix: 0\n", "-"),
    ],
)
async def test_client_addresses_are_cut_in_the_access_log(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture, setting: str, shown: str
) -> None:
    config = ad_site(make_site)
    text = config.read_text(encoding="utf-8").replace("http:\n", "http:\n" + setting, 1)
    config.write_text(text, encoding="utf-8")
    client = await _client(aiohttp_client, config)
    with caplog.at_level(logging.INFO):
        await client.get("/feeds/news.rss")
        await client.get("/feeds/news.rss")  # answered by the fast lane, unrouted: the same setting holds
        await asyncio.sleep(0)
    lines = [r.getMessage() for r in caplog.records if r.name == "syndicate.access"]
    assert [line.split(" ", 1)[0] for line in lines] == [shown, shown]


async def test_the_audit_log_and_admin_refusals_keep_only_the_network(
    aiohttp_client: Client, make_site: SiteFactory, caplog: pytest.LogCaptureFixture
) -> None:
    config = ad_site(make_site)
    client = await _client(aiohttp_client, config)
    response = await client.put(
        "/admin/adspaces/top", data=space("B").encode(), headers={**AUTH, "Content-Type": "application/yaml"}
    )
    assert response.status == 200
    [entry] = (config.parent / "data" / "admin" / "audit.log").read_text(encoding="utf-8").splitlines()
    assert json.loads(entry)["remote"] == "127.0.0.0"
    with caplog.at_level(logging.WARNING, logger="syndicate.admin"):
        assert (await client.get("/admin/status")).status == 401
    assert "from 127.0.0.0" in caplog.text and "127.0.0.1" not in caplog.text


@given(st.ip_addresses(), st.integers(0, 32), st.integers(0, 128))
def test_a_cut_address_is_the_network_of_the_prefix(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, v4: int, v6: int
) -> None:
    shown = truncate_address(str(address), v4, v6)
    real = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
    bits = v4 if real.version == 4 else v6
    if bits == 0:
        assert shown == "-"
    else:
        assert ipaddress.ip_address(shown) == ipaddress.ip_network(f"{real}/{bits}", strict=False).network_address


def test_anything_else_is_not_logged_as_an_address() -> None:
    assert truncate_address("unknown") == truncate_address("") == truncate_address("1.2.3.4 evil") == "-"
    assert truncate_address("2001:db8:1234:5678::1") == "2001:db8:1234::"
    assert truncate_address("::ffff:192.0.2.77") == "192.0.2.0"
