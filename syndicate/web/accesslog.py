"""The access log: Combined Log Format, keys and tracking tokens redacted, addresses cut, written in batches.

Formatting a line per request, between the socket work of one request and the next, cost a cached
response a fifth of its time, so ``syndicate serve`` gives the logger a sink (nginx's ``buffer=``
idea): a request leaves only the facts its line needs (``Answered``), and the sink formats and
writes them together, at most twice a second. Without a sink (tests, embedding) each line goes to
the ``syndicate.access`` logger as the request ends.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from typing import ClassVar, TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http import HttpVersion

from syndicate.timestamps import EverySecond
from syndicate.web.redaction import redact, redact_text, truncate_address
from syndicate.web.state import SNAPSHOTS

__all__ = ["AccessLog", "Answered", "KeylessAccessLogger", "redact"]
DEFAULT_PREFIXES = (24, 48)


def _root(request: web.BaseRequest) -> web.Application | None:
    """The outermost application ``request`` was routed to; None for one never routed (a request aiohttp
    could not parse, or one the fast lane answered: its server's logger knows the app, ``serving``)."""
    try:
        apps: tuple[web.Application, ...] = request.match_info.apps  # type: ignore[attr-defined]
        return apps[0]
    except (AttributeError, AssertionError, IndexError):  # a BaseRequest, or one that was never routed
        return None


def _prefixes(root: web.Application | None) -> tuple[int, int]:
    """``http.log_ipv4_prefix`` and ``http.log_ipv6_prefix`` of ``root``'s current config (the defaults
    without one)."""
    holder = None if root is None else root.get(SNAPSHOTS)
    if holder is None:
        return DEFAULT_PREFIXES
    http = holder.current.config.http
    return (http.log_ipv4_prefix, http.log_ipv6_prefix)


def address_prefixes(request: web.BaseRequest) -> tuple[int, int]:
    """The address prefixes that apply to ``request``'s log lines."""
    return _prefixes(_root(request))


def logged_address(request: web.BaseRequest) -> str:
    """The peer address as every log line shows it: cut to its network prefix (docs/tracking.md)."""
    return truncate_address(request.remote or "", *address_prefixes(request))


#: One answered request, as its log line needs it: (remote address, answering app, method, target,
#: HTTP version, Referer, User-Agent, status, bytes sent, seconds taken, wall-clock time).
Answered = tuple[
    str | None, web.Application | None, str, str, HttpVersion, str | None, str | None, int, int, float, float
]


class AccessLog:
    """Collects answered requests and writes their lines to ``stream`` every ``interval`` seconds or
    ``max_lines`` requests. Addresses are cut by the prefixes configured when the lines are written."""

    def __init__(self, stream: TextIO, interval: float = 0.5, max_lines: int = 256) -> None:
        self.stream = stream
        self.interval = interval
        self.max_lines = max_lines
        self.pending: list[Answered] = []
        self.timer: asyncio.TimerHandle | None = None

    def add(self, answered: Answered) -> None:
        self.pending.append(answered)
        if len(self.pending) >= self.max_lines:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.interval, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.pending:
            prefixes: dict[web.Application | None, tuple[int, int]] = {}
            lines = []
            for answered in self.pending:
                root = answered[1]
                cut = prefixes.get(root)
                if cut is None:
                    cut = prefixes[root] = _prefixes(root)
                lines.append(format_line(answered, cut))
            self.pending.clear()
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


#: Request lines longer than this are redacted anew each time rather than remembered.
_REMEMBERED_TARGET = 1024


@functools.lru_cache(maxsize=4096)
def _remembered_line(method: str, target: str, version: HttpVersion) -> str:
    return f"{method} {redact(target)} HTTP/{version.major}.{version.minor}"


def request_line(method: str, target: str, version: HttpVersion) -> str:
    """The request line as logged, its target redacted. Pollers send the same few lines again and again:
    the redacted form of a short one is remembered (bounded)."""
    if len(target) > _REMEMBERED_TARGET:
        return f"{method} {redact(target)} HTTP/{version.major}.{version.minor}"
    return _remembered_line(method, target, version)


#: The log's time of day, as Combined Log Format writes it.
_STAMP = EverySecond(lambda second: time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(second)))


#: What a client could use to end a quoted field early or to fool a terminal: written as ``\xHH``, as nginx does.
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f]')


def quoted(text: str) -> str:
    """``text`` as a quoted log field holds it: quotes, backslashes and control characters as ``\\xHH``."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def format_line(answered: Answered, prefixes: tuple[int, int]) -> str:
    """Combined Log Format plus the time taken, with keys and tracking tokens redacted (in the target and
    the Referer), quoted fields escaped (``quoted``) and the client address cut to its network prefix."""
    remote, _, method, target, version, referer, user_agent, status, length, took, when = answered
    address = truncate_address(remote or "", *prefixes)
    return (
        f'{address} - - [{_STAMP.at(when)}] "{quoted(request_line(method, target, version))}" '
        f'{status} {length or "-"} "{"-" if referer is None else quoted(redact_text(referer))}" '
        f'"{"-" if user_agent is None else quoted(user_agent)}" {took * 1000:.1f}ms'
    )


class KeylessAccessLogger(AbstractAccessLogger):
    """Each answered request as one line (``format_line``): to the sink when ``serve`` gave one, else to
    the ``syndicate.access`` logger."""

    sink: ClassVar[AccessLog | None] = None
    app: ClassVar[web.Application | None] = None  # the server's application (``serving``)

    @classmethod
    def serving(cls, app: web.Application) -> type[KeylessAccessLogger]:
        """The logger class for a server of ``app``: every line, routed or answered by the fast lane, cut
        addresses by ``app``'s current config."""
        return type(cls.__name__, (cls,), {"app": app})

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        headers = request.headers
        answered: Answered = (
            request.remote,
            self.app if self.app is not None else _root(request),
            request.method,
            request.raw_path,
            request.version,
            headers.get("Referer"),
            headers.get("User-Agent"),
            response.status,
            response.body_length,
            time_taken,
            time.time(),
        )
        sink = self.sink
        if sink is not None:
            sink.add(answered)
        else:
            self.logger.info(format_line(answered, _prefixes(answered[1])))
