"""The access log: Combined Log Format, keys and tracking tokens redacted, addresses cut, written in batches.

Formatting a record through ``logging`` for every request cost more than the
rest of a cached response, so ``syndicate serve`` gives the logger a sink that
buffers lines and writes them at most twice a second (nginx's ``buffer=`` idea).
Without a sink (tests, embedding) lines go to the ``syndicate.access`` logger.
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar, TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from syndicate.web.redaction import redact, redact_text, truncate_address
from syndicate.web.state import SNAPSHOTS

__all__ = ["AccessLog", "KeylessAccessLogger", "redact"]
DEFAULT_PREFIXES = (24, 48)


def address_prefixes(request: web.BaseRequest) -> tuple[int, int]:
    """``http.log_ipv4_prefix`` and ``http.log_ipv6_prefix`` of the current config (a request aiohttp could
    not parse has no app: the defaults)."""
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
        version = request.version
        size = response.body_length
        line = (
            f'{logged_address(request)} - - [{self._stamp}] "{request.method} {redact(request.raw_path)} '
            f'HTTP/{version.major}.{version.minor}" {response.status} {size or "-"} '
            f'"{redact_text(request.headers.get("Referer", "-"))}" "{request.headers.get("User-Agent", "-")}" '
            f"{time_taken * 1000:.1f}ms"
        )
        if self.sink is not None:
            self.sink.add(line)
        else:
            self.logger.info(line)
