"""Measurements against running servers: loop blocking and latency during reload.

Cached-path throughput against the minimal app is ``cached_path.py``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import probes
from probes import Latencies
from servers import Server

RELOAD_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class BlockRun:
    label: str
    render_ms: float  # the cold request, as the client saw it
    probes: Latencies  # /healthz probes while it was in flight


@dataclass(frozen=True, slots=True)
class Blocking:
    idle: Latencies  # the same probes with nothing else happening: the floor of what they can show
    runs: list[BlockRun]

    @property
    def worst_ms(self) -> float:
        return max((r.probes.max for r in self.runs), default=float("nan"))


async def blocking(server: Server, cold: list[tuple[str, str, dict[str, str]]]) -> Blocking:
    """For each (label, path, headers) never requested before: probe /healthz every 1 ms while it renders."""
    health = server.url("/healthz")
    async with probes.session() as client:
        await probes.probe_for(client, health, 0.3)  # warm the connection and the handler
        idle = await probes.probe_for(client, health, 1.0)
        runs: list[BlockRun] = []
        for label, path, headers in cold:
            stop = asyncio.Event()
            watcher = asyncio.create_task(probes.probe_until(client, health, stop))
            await asyncio.sleep(0.02)
            try:
                render_ms = await probes.timed_get(client, server.url(path), headers)
            finally:
                stop.set()
            runs.append(BlockRun(label, render_ms, await watcher))
    return Blocking(idle, runs)


@dataclass(frozen=True, slots=True)
class ReloadRun:
    seconds: float  # SIGHUP to /healthz showing the new generation
    before: Latencies  # the request loop before the signal
    during: Latencies  # requests overlapping the reload window
    after: Latencies  # requests after the swap: the first ones re-render the feed for the new generation


def _split(timed: list[probes.Timed], start: float, end: float) -> tuple[Latencies, Latencies, Latencies]:
    before = [t.ms for t in timed if t.start + t.ms / 1000 < start]
    during = [t.ms for t in timed if t.start < end and t.start + t.ms / 1000 >= start]
    after = [t.ms for t in timed if t.start >= end]
    return Latencies(tuple(before)), Latencies(tuple(during)), Latencies(tuple(after))


async def _await_generation(client: aiohttp.ClientSession, health: str, old: int) -> None:
    deadline = time.monotonic() + RELOAD_TIMEOUT
    while await probes.generation(client, health) <= old:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no new generation {RELOAD_TIMEOUT:.0f} s after SIGHUP")
        await asyncio.sleep(0.01)


async def reload_once(server: Server, path: str, headers: Mapping[str, str]) -> ReloadRun:
    """SIGHUP while 4 clients request the cached feed; the window ends when /healthz shows the new generation."""
    health = server.url("/healthz")
    async with probes.session(16) as client:
        old = await probes.generation(client, health)
        await probes.timed_get(client, server.url(path), headers)  # cached, so "before" is the steady state
        stop = asyncio.Event()
        loader = asyncio.create_task(probes.load_until(client, server.url(path), headers, stop))
        try:
            await asyncio.sleep(1.0)
            start = time.perf_counter()
            os.kill(server.process.pid, signal.SIGHUP)
            await _await_generation(client, health, old)
            end = time.perf_counter()
            await asyncio.sleep(1.0)
        finally:
            stop.set()
        timed = await loader
    return ReloadRun(end - start, *_split(timed, start, end))
