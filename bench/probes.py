"""Client-side measurements that wrk cannot make: latency of single requests placed in time.

Used for event-loop blocking (a /healthz probe every millisecond while something heavy runs) and for
latency during a reload. Probes go over one kept-alive connection, one at a time: a stalled server loop
shows up as one long probe, which is what "blocked for N ms" means. The client's own overhead is
measured the same way on an idle server, so it can be told apart from the server's.
"""

from __future__ import annotations

import asyncio
import base64
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

#: Response headers a replay must carry; per-response ones (Date, Content-Length, Server) are left out.
REPLAYED = ("Content-Type", "Content-Encoding", "ETag", "Last-Modified", "Cache-Control", "Vary", "Link")


@dataclass(frozen=True, slots=True)
class Captured:
    status: int
    body: bytes
    headers: dict[str, str]

    def as_json(self) -> dict[str, object]:
        return {"status": self.status, "body": base64.b64encode(self.body).decode(), "headers": self.headers}


@dataclass(frozen=True, slots=True)
class Latencies:
    """Latencies in milliseconds of the requests a measurement made."""

    values: tuple[float, ...]

    @property
    def max(self) -> float:
        return max(self.values, default=float("nan"))

    @property
    def p99(self) -> float:
        return percentile(self.values, 99)

    @property
    def count(self) -> int:
        return len(self.values)


def percentile(values: tuple[float, ...] | list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def session(connections: int = 8) -> aiohttp.ClientSession:
    """A client that sends only the headers we give it (aiohttp would add ``Accept-Encoding: gzip, deflate``)
    and never decompresses, so each representation is requested and captured exactly as wrk sees it."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding",),
        timeout=aiohttp.ClientTimeout(total=120),
    )


async def capture(client: aiohttp.ClientSession, url: str, headers: Mapping[str, str]) -> Captured:
    async with client.get(url, headers=headers) as response:
        body = await response.read()
        kept = {name: response.headers[name] for name in REPLAYED if name in response.headers}
        return Captured(response.status, body, kept)


async def timed_get(client: aiohttp.ClientSession, url: str, headers: Mapping[str, str] | None = None) -> float:
    """One request, body read in full; milliseconds. Raises on a non-2xx/3xx status."""
    begun = time.perf_counter()
    async with client.get(url, headers=headers) as response:
        await response.read()
        if response.status >= 400:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - begun) * 1000


async def probe_until(
    client: aiohttp.ClientSession, url: str, stop: asyncio.Event, interval: float = 0.001
) -> Latencies:
    """A request every ``interval`` seconds (or as soon as the last returns, if it took longer) until ``stop``."""
    values: list[float] = []
    next_at = time.perf_counter()
    while not stop.is_set():
        values.append(await timed_get(client, url))
        next_at += interval
        pause = next_at - time.perf_counter()
        if pause > 0:
            await asyncio.sleep(pause)
        else:
            next_at = time.perf_counter()
    return Latencies(tuple(values))


async def probe_for(client: aiohttp.ClientSession, url: str, seconds: float) -> Latencies:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    return await probe_until(client, url, stop)


@dataclass(frozen=True, slots=True)
class Timed:
    """A request's start (perf_counter seconds) and latency (ms), to place it before, in or after a window."""

    start: float
    ms: float


async def load_until(
    client: aiohttp.ClientSession, url: str, headers: Mapping[str, str], stop: asyncio.Event, workers: int = 4
) -> list[Timed]:
    """``workers`` back-to-back request loops until ``stop``: steady traffic whose latency we watch."""
    out: list[Timed] = []

    async def worker() -> None:
        while not stop.is_set():
            begun = time.perf_counter()
            ms = await timed_get(client, url, headers)
            out.append(Timed(begun, ms))

    await asyncio.gather(*(worker() for _ in range(workers)))
    return out


async def generation(client: aiohttp.ClientSession, url: str) -> int:
    async with client.get(url) as response:
        return int((await response.json())["generation"])
