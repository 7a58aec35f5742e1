"""The access log: Combined Log Format, keys and tracking tokens redacted, written in batches.

Formatting a record through ``logging`` for every request cost more than the
rest of a cached response, so ``syndicate serve`` gives the logger a sink that
buffers lines and writes them at most twice a second (nginx's ``buffer=`` idea).
Without a sink (tests, embedding) lines go to the ``syndicate.access`` logger.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import ClassVar, TextIO

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

_SECRET_PARAM = re.compile(r"([?&](?:key|token)=)[^&\s]*", re.IGNORECASE)
_TRACKING_TOKEN = re.compile(r"^(/[ci]/)[^/?]+")


def redact(target: str) -> str:
    """A request target with partner keys and tracking tokens hidden: neither ever reaches the logs."""
    if "=" in target:
        target = _SECRET_PARAM.sub(r"\1REDACTED", target)
    return _TRACKING_TOKEN.sub(r"\1REDACTED", target) if target.startswith(("/c/", "/i/")) else target


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
    """Combined Log Format plus the time taken, with ``?key=`` values and tracking tokens redacted."""

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
        line = (f'{request.remote or "-"} - - [{self._stamp}] "{request.method} {redact(request.path_qs)} '
                f'HTTP/{version.major}.{version.minor}" {response.status} {size or "-"} '
                f'"{request.headers.get("Referer", "-")}" "{request.headers.get("User-Agent", "-")}" '
                f"{time_taken * 1000:.1f}ms")
        if self.sink is not None:
            self.sink.add(line)
        else:
            self.logger.info(line)
