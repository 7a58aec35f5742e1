"""A cached answer sent as bytes made once: the response a poller gets costs one join and one write.

aiohttp's own response path builds a header map per response, then prepares, serializes and writes
it through half a dozen coroutines; for a cached feed that was most of what a request cost. Here a
variant's four answers (``web/respond.py``) keep their header lines as bytes, written the first time
one is needed, and a response adds only what changes per request: the status line for the client's
HTTP version, the rate-limit headers, Date, Server and Connection. What reaches the socket is what
aiohttp would have sent for the same headers (``tests/test_wire.py`` holds the two side by side):
the same control-character refusal, the same Content-Length rules for HEAD and 304, the same
keep-alive rules.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import SERVER_SOFTWARE, HttpVersion10, HttpVersion11

from syndicate.timestamps import EverySecond

#: What aiohttp refuses in a header name or value (a header injection): control characters but tab.
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_SERVER = f"Server: {SERVER_SOFTWARE}\r\n".encode()
_KEEP_ALIVE = b"Connection: keep-alive\r\n"
_CLOSE = b"Connection: close\r\n"


def header_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    """``Name: value\\r\\n`` for each header, UTF-8, as aiohttp writes them; ValueError for a name or value
    with a control character in it, as aiohttp raises."""
    out = []
    for name, value in headers:
        if _FORBIDDEN.search(name) is not None or _FORBIDDEN.search(value) is not None:
            raise ValueError(f"forbidden control character in the {name!r} header")
        out.append(f"{name}: {value}\r\n")
    return "".join(out).encode()


@dataclass(frozen=True, slots=True)
class Prepared:
    """One answer of a variant, made once: its status, the header lines no request changes (Content-Length
    among them where the answer has one), and the body a GET gets."""

    status: int
    lines: bytes
    body: bytes = b""


def prepared(status: int, headers: Iterable[tuple[str, str]], body: bytes | None) -> Prepared:
    """The answer with ``headers`` and ``body`` (None: a 304, which has neither body nor length)."""
    if body is None:
        return Prepared(status, header_lines(headers))
    return Prepared(status, header_lines([*headers, ("Content-Length", str(len(body)))]), body)


_status_lines: dict[tuple[int, int, int], bytes] = {}


def _status_line(major: int, minor: int, status: int) -> bytes:
    made = _status_lines.get((major, minor, status))
    if made is None:
        made = f"HTTP/{major}.{minor} {status} {HTTPStatus(status).phrase}\r\n".encode()
        if len(_status_lines) < 64:  # a client may name any version: remember only a few
            _status_lines[(major, minor, status)] = made
    return made


#: The Date header line of the current second.
_DATE = EverySecond(lambda second: f"Date: {formatdate(second, usegmt=True)}\r\n".encode())


class WireResponse(web.StreamResponse):
    """A ``Prepared`` answer plus this request's own header lines, written in one piece when aiohttp
    prepares it. Its ``headers`` map stays empty: every header is already in the bytes."""

    def __init__(self, answer: Prepared, extra: bytes = b"") -> None:
        super().__init__(status=answer.status)
        self._answer = answer
        self._extra = extra
        self._written: AbstractStreamWriter | None = None
        self._kept_alive: bool | None = None
        self._sent = 0

    @property
    def keep_alive(self) -> bool | None:
        return self._kept_alive

    @property
    def body_length(self) -> int:
        """Bytes written, the header block included, as aiohttp counts them for a response."""
        return self._sent

    @property
    def prepared(self) -> bool:
        return self._written is not None

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self._written is not None:
            return self._written
        version = request.version
        keep_alive = request.keep_alive
        if keep_alive:
            connection = _KEEP_ALIVE if version == HttpVersion10 else b""
        else:
            connection = _CLOSE if version == HttpVersion11 else b""
        answer = self._answer
        head = (
            _status_line(version.major, version.minor, answer.status),
            answer.lines,
            self._extra,
            _DATE.at(time.time()),
            _SERVER,
            connection,
            b"\r\n",
        )
        body = b"" if request.method == "HEAD" else answer.body
        writer = self._written = request.writer
        self._kept_alive = keep_alive
        await writer.write_eof(b"".join((*head, body)))
        self._sent = writer.output_size
        return writer

    async def write_eof(self, data: bytes = b"") -> None:
        if data or self._written is None:
            raise RuntimeError("a prepared answer is written whole by prepare()")
