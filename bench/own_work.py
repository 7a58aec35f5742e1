"""The application's own work per cached request, in process: Syndicate's app against the minimal app's.

wrk's req/s on a shared 2-core machine swings with whatever else runs; this does not. Both apps answer
the same fresh requests, the minimal app through aiohttp's ``Application._handle`` (routing, middlewares,
handler, response object) and Syndicate's through its fast lane in front of it, as ``syndicate serve``
does; each response is then prepared and written, as aiohttp's server does, to a transport that
keeps nothing (no sockets, no HTTP parsing, which cost both the same). Timed with the thread's CPU
clock, the best of several repeats. Syndicate's access-log line is timed too, since the minimal app
writes none. The difference is the cost of Syndicate's own request path.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import minimal_app
from aiohttp import web
from aiohttp.http_writer import StreamWriter
from aiohttp.test_utils import make_mocked_request

from syndicate.web.accesslog import AccessLog, KeylessAccessLogger
from syndicate.web.app import create_app
from syndicate.web.fastlane import FastLane

PEER = ("127.0.0.1", 40000)


@dataclass(frozen=True, slots=True)
class OwnRow:
    name: str
    ours_us: float  # Syndicate's app, per request
    log_us: float  # Syndicate's access-log line, per request
    minimal_us: float  # the minimal app, per request

    @property
    def extra_us(self) -> float:
        return self.ours_us + self.log_us - self.minimal_us


class Sink:
    """The transport and protocol a response is written to: it keeps the last bytes written, or none."""

    def __init__(self, keep: bool = False) -> None:
        self.transport = self
        self._paused = False
        self.keep = keep
        self.written = b""

    def is_closing(self) -> bool:
        return False

    def write(self, data: bytes) -> None:
        if self.keep:
            self.written += data

    def writelines(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)


def _request(app: web.Application, path: str, headers: Mapping[str, str], sink: Sink | None = None) -> web.Request:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: PEER if name == "peername" else default
    writer = StreamWriter(sink or Sink(), asyncio.get_running_loop())  # type: ignore[arg-type]
    return make_mocked_request("GET", path, headers=dict(headers), app=app, transport=transport, writer=writer)


async def _answer(
    handle: Callable[[web.Request], Awaitable[web.StreamResponse]], request: web.Request
) -> web.StreamResponse:
    """The response to ``request``, prepared and written as aiohttp's server does."""
    response = await handle(request)
    await response.prepare(request)
    await response.write_eof()
    return response


async def _per_request(
    app: web.Application, path: str, headers: Mapping[str, str], count: int, repeats: int, lane: bool = False
) -> tuple[float, web.StreamResponse, web.Request]:
    """Best CPU seconds per request over ``repeats`` batches of ``count`` fresh requests (``lane``: through the
    fast lane in front of the app, as ``syndicate serve`` answers them)."""
    handle = FastLane(app, app._handle) if lane else app._handle
    best = float("inf")
    response: web.StreamResponse | None = None
    request: web.Request | None = None
    for _ in range(repeats):
        batch = [_request(app, path, headers) for _ in range(count)]
        begun = time.thread_time()
        for request in batch:
            response = await _answer(handle, request)
        best = min(best, (time.thread_time() - begun) / count)
    assert response is not None and request is not None
    return best, response, request


def _log_cost(
    app: web.Application, request: web.Request, response: web.StreamResponse, count: int, repeats: int
) -> float:
    """The access log's CPU a request: its facts taken, and its line formatted and written in a batch."""
    sink = KeylessAccessLogger.sink = AccessLog(io.StringIO())
    logger = KeylessAccessLogger.serving(app)(logging.getLogger("syndicate.access"), "")
    best = float("inf")
    try:
        for _ in range(repeats):
            begun = time.thread_time()
            for _ in range(count):
                logger.log(request, response, 0.001)
            sink.flush()
            best = min(best, (time.thread_time() - begun) / count)
    finally:
        KeylessAccessLogger.sink = None
    return best


async def _measure(
    config: Path, cases: list[tuple[str, str, dict[str, str], int]], count: int, repeats: int
) -> list[OwnRow]:
    ours = create_app(config)
    runner = web.AppRunner(ours)
    await runner.setup()  # startup hooks (tracking, caps) run as under ``serve``
    try:
        fixtures: dict[str, dict[str, minimal_app.Replay]] = {}
        for _, path, headers, _ in cases:
            if path not in fixtures:
                fixtures[path] = await _fixture(ours, path, {k: v for k, v in headers.items() if k == "Authorization"})
        minimal = minimal_app.make_app(fixtures)
        rows = []
        for name, path, headers, status in cases:
            wanted = dict(headers)
            if status == 304:  # this app's own ETag: its signing key is its own
                wanted["If-None-Match"] = fixtures[path]["plain"][2]["ETag"]
            ours_s, response, request = await _per_request(ours, path, wanted, count, repeats, lane=True)
            if response.status != status:
                raise RuntimeError(f"{name}: the app answered {response.status}, not {status}")
            minimal_s, replayed, _ = await _per_request(minimal, path, wanted, count, repeats)
            if replayed.status != status:
                raise RuntimeError(f"{name}: the minimal app answered {replayed.status}, not {status}")
            rows.append(
                OwnRow(name, ours_s * 1e6, _log_cost(ours, request, response, count, repeats) * 1e6, minimal_s * 1e6)
            )
        return rows
    finally:
        await runner.cleanup()


async def _fixture(app: web.Application, path: str, headers: dict[str, str]) -> dict[str, minimal_app.Replay]:
    """Syndicate's three answers for ``path``, as the bytes it wrote: the minimal app's replay."""
    out: dict[str, minimal_app.Replay] = {}
    for name, extra in (("plain", {}), ("gzip", {"Accept-Encoding": "gzip"})):
        out[name] = await _written(app, path, {**headers, **extra})
    out["not_modified"] = await _written(app, path, {**headers, "If-None-Match": out["plain"][2]["ETag"]})
    return out


async def _written(app: web.Application, path: str, headers: dict[str, str]) -> minimal_app.Replay:
    sink = Sink(keep=True)
    await _answer(app._handle, _request(app, path, headers, sink))
    head, _, body = sink.written.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    dropped = ("Content-Length", "Date", "Server", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
    kept = dict(line.split(": ", 1) for line in lines)
    return int(status.split()[1]), body, {k: v for k, v in kept.items() if k not in dropped}


def own_work(
    config: Path, cases: list[tuple[str, str, dict[str, str], int]], count: int = 1000, repeats: int = 7
) -> list[OwnRow]:
    """One row per (name, path, headers, expected status) case."""
    return asyncio.run(_measure(config, cases, count, repeats))


if __name__ == "__main__":  # python bench/own_work.py CONFIG CASES_JSON: rows as JSON, for another checkout
    import json
    import sys

    found = own_work(Path(sys.argv[1]), [tuple(case) for case in json.loads(sys.argv[2])])  # type: ignore[misc]
    print(json.dumps([[r.name, r.ours_us, r.log_us, r.minimal_us] for r in found]))
