"""The access log: Combined Log Format, keys and tracking tokens redacted, addresses cut, written in batches.

Formatting a record through ``logging`` for every request cost more than the
rest of a cached response, so ``syndicate serve`` gives the logger a sink that
buffers lines and writes them at most twice a second (nginx's ``buffer=`` idea).
Without a sink (tests, embedding) lines go to the ``syndicate.access`` logger.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import ClassVar, TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http import HttpVersion

from syndicate.web.redaction import redact, redact_text, truncate_address
from syndicate.web.state import ANSWERED_BY, SNAPSHOTS

__all__ = ["AccessLog", "KeylessAccessLogger", "redact"]
DEFAULT_PREFIXES = (24, 48)


def address_prefixes(request: web.BaseRequest) -> tuple[int, int]:
    """``http.log_ipv4_prefix`` and ``http.log_ipv6_prefix`` of the current config (a request aiohttp could
    not parse has no app: the defaults)."""
    root = request.get(ANSWERED_BY)  # the fast lane's answers are never routed
    if root is None:
        try:
            root = request.match_info.apps[0]  # type: ignore[attr-defined]  # a web.Request's outermost app
        except (AttributeError, AssertionError, IndexError):  # a BaseRequest, or one that was never routed
            return DEFAULT_PREFIXES
    holder = root.get(SNAPSHOTS)
    if holder is None:
        return DEFAULT_PREFIXES
    http = holder.current.config.http
    return (http.log_ipv4_prefix, http.log_ipv6_prefix)


def logged_address(request: web.BaseRequest) -> str:
    """The peer address as every log line shows it: cut to its network prefix (docs/tracking.md)."""
    return truncate_address(request.remote or "", *address_prefixes(request))


class AccessLog:
    """Collects lines and writes them to ``stream`` every ``interval`` seconds or ``max_lines`` lines."""

    def __init__(self, stream: TextIO, interval: float = 0.5, max_lines: int = 256) -> None:
        self.stream = stream
        self.interval = interval
        self.max_lines = max_lines
        self.lines: list[str] = []
        self.timer: asyncio.TimerHandle | None = None

    def add(self, line: str) -> None:
        self.lines.append(line)
        if len(self.lines) >= self.max_lines:
            self.flush()
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.interval, self.flush)

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.lines:
            self.stream.write("\n".join(self.lines) + "\n")
            self.stream.flush()
            self.lines.clear()


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


class KeylessAccessLogger(AbstractAccessLogger):
    """Combined Log Format plus the time taken, with keys and tracking tokens redacted (in the target and
    the Referer) and the client address cut to its network prefix."""

    sink: ClassVar[AccessLog | None] = None
    _second = -1
    _stamp = ""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time_taken: float) -> None:
        now = int(time.time())
        if now != KeylessAccessLogger._second:  # formatting the time once a second is enough
            KeylessAccessLogger._second = now
            KeylessAccessLogger._stamp = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime(now))
        headers = request.headers
        referer = headers.get("Referer")
        target = request_line(request.method, request.raw_path, request.version)
        line = (
            f'{logged_address(request)} - - [{self._stamp}] "{target}" '
            f'{response.status} {response.body_length or "-"} "{"-" if referer is None else redact_text(referer)}" '
            f'"{headers.get("User-Agent", "-")}" {time_taken * 1000:.1f}ms'
        )
        if self.sink is not None:
            self.sink.add(line)
        else:
            self.logger.info(line)
