"""Measurements against running servers: cached-feed throughput, loop blocking, latency during reload.

Throughput alternates Syndicate and the minimal app run by run, so drift in the machine (thermal, other
tenants) lands on both sides of each ratio instead of on one.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import probes
import wrk_runner
from probes import Captured, Latencies, median
from servers import Server
from wrk_runner import WrkResult

RELOAD_TIMEOUT = 600.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    headers: dict[str, str]


@dataclass(slots=True)
class Pair:
    """One scenario's wrk runs against both servers."""

    scenario: Scenario
    ours_cmd: str
    minimal_cmd: str
    ours: list[WrkResult] = field(default_factory=list)
    minimal: list[WrkResult] = field(default_factory=list)

    def rps(self, side: list[WrkResult]) -> float:
        return median([r.rps for r in side])

    def p99(self, side: list[WrkResult]) -> float:
        return median([r.p99_ms for r in side])

    @property
    def rps_ratio(self) -> float:
        return self.rps(self.ours) / self.rps(self.minimal)

    @property
    def p99_ratio(self) -> float:
        return self.p99(self.ours) / self.p99(self.minimal)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in [*self.ours, *self.minimal])


def scenarios(auth: Mapping[str, str], etag: str) -> list[Scenario]:
    return [Scenario("cached partner feed", dict(auth)),
            Scenario("cached partner feed, gzip", {**auth, "Accept-Encoding": "gzip"}),
            Scenario("cached partner feed, 304", {**auth, "If-None-Match": etag})]


async def capture_fixture(server: Server, path: str, auth: Mapping[str, str]) -> dict[str, Captured]:
    """The three responses the minimal app must replay; this also puts the variant in Syndicate's cache."""
    async with probes.session() as client:
        url = server.url(path)
        plain = await probes.capture(client, url, auth)
        gzipped = await probes.capture(client, url, {**auth, "Accept-Encoding": "gzip"})
        fresh = await probes.capture(client, url, {**auth, "If-None-Match": plain.headers["ETag"]})
    if (plain.status, gzipped.status, fresh.status) != (200, 200, 304):
        raise RuntimeError(f"unexpected statuses {plain.status}, {gzipped.status}, {fresh.status} for {url}")
    if "Content-Encoding" in plain.headers or plain.headers["ETag"] == gzipped.headers["ETag"]:
        raise RuntimeError(f"{url} answered a request without Accept-Encoding with an encoded body")
    if gzipped.headers.get("Content-Encoding") != "gzip":
        raise RuntimeError(f"{url} did not answer gzip to Accept-Encoding: gzip")
    return {"plain": plain, "gzip": gzipped, "not_modified": fresh}


def write_fixture(responses: Mapping[str, Captured], path: Path) -> None:
    path.write_text(json.dumps({name: r.as_json() for name, r in responses.items()}))


def throughput(ours: Server, minimal: Server, path: str, cases: list[Scenario], duration: int,
               runs: int) -> list[Pair]:
    pairs = [Pair(case, wrk_runner.command_line(wrk_runner.wrk_argv(ours.url(path), case.headers, duration)),
                  wrk_runner.command_line(wrk_runner.wrk_argv(minimal.url(path), case.headers, duration)))
             for case in cases]
    for run in range(runs):
        for pair in pairs:
            for server, side in ((ours, pair.ours), (minimal, pair.minimal)):
                result = wrk_runner.run(wrk_runner.wrk_argv(server.url(path), pair.scenario.headers, duration),
                                        duration)
                side.append(result)
                print(f"   run {run + 1}/{runs} {pair.scenario.name:<28} {server.name:<9} "
                      f"{result.rps:>10,.0f} req/s  p99 {result.p99_ms:7.2f} ms  errors {result.errors}",
                      flush=True)
    return pairs


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
