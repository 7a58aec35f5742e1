"""Prepared answers (``web/wire.py``) put on the socket what aiohttp's own response path would.

Each case is sent over a real socket to one server twice: once answered by a ``WireResponse``, once
by an aiohttp ``web.Response`` with the same status, headers and body. Status line, header lines
(Date aside), body and whether the connection stays open must agree, for every HTTP version,
method, status and Connection header a client may send.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.http_writer import _py_serialize_headers
from aiohttp.test_utils import TestServer
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from syndicate.web.wire import WireResponse, header_lines, prepared

HEADERS = [
    ("Content-Type", "application/rss+xml; charset=utf-8"),
    ("Cache-Control", "public, max-age=300"),
    ("Link", '<http://127.0.0.1/feeds/ünï.rss>; rel="self"'),
    ("ETag", '"0123456789abcdef"'),
]
EXTRA = [("RateLimit-Limit", "60"), ("RateLimit-Remaining", "59"), ("RateLimit-Reset", "1")]
BODY = b"<rss>" + b"x" * 70_000 + b"</rss>"  # past aiohttp's 64 KiB write limit


def _reference(request: web.Request) -> web.Response:
    status = int(request.match_info["status"])
    headers = CIMultiDict(HEADERS[1:] if status == 304 else HEADERS)
    headers.extend(EXTRA)
    return web.Response(status=status, body=None if status == 304 else BODY, headers=headers)


def _wire(request: web.Request) -> web.StreamResponse:
    status = int(request.match_info["status"])
    answer = prepared(status, HEADERS[1:], None) if status == 304 else prepared(status, HEADERS, BODY)
    return WireResponse(answer, header_lines(EXTRA))


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def reference(request: web.Request) -> web.StreamResponse:
        return _reference(request)

    async def wire(request: web.Request) -> web.StreamResponse:
        return _wire(request)

    app = web.Application()
    app.router.add_get("/reference/{status}", reference)
    app.router.add_get("/wire/{status}", wire)
    running = TestServer(app)
    await running.start_server()
    try:
        yield running
    finally:
        await running.close()


async def _exchange(server: TestServer, request: bytes) -> tuple[bytes, list[bytes], bytes, bool]:
    """(status line, sorted header lines but the one Date, body, whether the server closed the connection)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status, *lines = head[:-4].split(b"\r\n")
        fields = dict(line.split(b": ", 1) for line in lines)
        length = 0 if request.startswith(b"HEAD") else int(fields.get(b"Content-Length", b"0"))
        body = await reader.readexactly(length)
        after = b""  # nothing may follow the answer: the connection stays open, or closes
        try:
            while chunk := await asyncio.wait_for(reader.read(65536), 0.2):
                after += chunk
            closed = True
        except TimeoutError:
            closed = False
        assert after == b""
        dates = [line for line in lines if line.startswith(b"Date: ")]
        assert len(dates) == 1 and dates[0].endswith(b" GMT")
        return status, sorted(line for line in lines if line not in dates), body, closed
    finally:
        writer.close()


CASES = [
    (method, version, connection, status)
    for method in ("GET", "HEAD")
    for version in ("1.1", "1.0")
    for connection in (None, "keep-alive", "close")
    for status in (200, 304)
]


@pytest.mark.parametrize(("method", "version", "connection", "status"), CASES)
async def test_a_prepared_answer_goes_out_as_aiohttp_would_send_it(
    server: TestServer, method: str, version: str, connection: str | None, status: int
) -> None:
    def request(kind: str) -> bytes:
        lines = [f"{method} /{kind}/{status} HTTP/{version}", "Host: test"]
        if connection is not None:
            lines.append(f"Connection: {connection}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    reference = await _exchange(server, request("reference"))
    wire = await _exchange(server, request("wire"))
    assert wire == reference
    assert wire[1], "headers were compared"


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=24)), max_size=5))
def test_header_lines_are_what_aiohttp_serializes_or_refuses(headers: list[tuple[str, str]]) -> None:
    try:
        expected = _py_serialize_headers("HTTP/1.1 200 OK", CIMultiDict(headers))
    except ValueError:  # a control character, or a lone surrogate UTF-8 cannot encode
        with pytest.raises(ValueError):
            header_lines(headers)
        return
    if not headers:
        assert header_lines(headers) == b""
        return
    assert b"HTTP/1.1 200 OK\r\n" + header_lines(headers) + b"\r\n" == expected


def test_a_header_injection_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'Link' header"):
        prepared(200, [("Link", "<http://x/>\r\nSet-Cookie: a=b")], b"")
