"""Soak: minutes of mixed traffic against a real server, with reloads every few seconds.

    python bench/soak.py [--seconds 120] [--concurrency 32] [--reload-every 3]

Copies the bundled sample site to a temp folder, starts ``syndicate serve`` on a
free loopback port, and for the given time sends feeds in every format for the
public and both demo partners, conditional GETs, clicks and pixels, while the
ad space file is rewritten (a real reload) every few seconds. It prints the
status counts, how many sampled feeds failed to parse, and the server's
resident memory over time; it exits 1 on any 5xx, failed request or invalid feed.
Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO

import aiohttp
import feedparser
import orjson

ROOT = Path(__file__).resolve().parent.parent
KEYS = [None, "partner-a-demo-key", "partner-b-demo-key"]
FEEDS = ["world", "business", "all", "world/tags/belarus"]
CLICK = re.compile(r'href="(http://127\.0\.0\.1:\d+/c/[^"]+)"')
PIXEL = re.compile(r'src="(http://127\.0\.0\.1:\d+/i/[^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def make_site(folder: Path, port: int) -> Path:
    for name in ("feeds", "adspaces"):
        shutil.copytree(ROOT / name, folder / name)
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("port: 8080", f"port: {port}")
    text += "\n# soak: no rate limits\n"
    text = text.replace("public: {rate: 2, burst: 60}", "public: {enabled: false}")
    text = text.replace("partners: {rate: 10, burst: 300}", "partners: {enabled: false}")
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    return folder / "config.yaml"


def valid(fmt: str, body: bytes) -> bool:
    if fmt == "json":
        try:
            feed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        return feed.get("version") == "https://jsonfeed.org/version/1.1" and isinstance(feed.get("items"), list)
    parsed = feedparser.parse(body)
    return not parsed.bozo and len(parsed.entries) > 0


async def wait_healthy(base: str) -> None:
    """Until the server answers /healthz (at most ~20 s)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)


class Soak:
    def __init__(self, base: str, seconds: float) -> None:
        self.base = base
        self.deadline = time.monotonic() + seconds
        self.statuses: Counter[str] = Counter()
        self.invalid = 0
        self.sampled = 0
        self.errors: Counter[str] = Counter()
        self.etags: dict[str, str] = {}
        self.links: list[str] = []

    async def one(self, session: aiohttp.ClientSession) -> None:
        roll = random.random()
        if roll < 0.15 and self.links:
            url = random.choice(self.links)
            async with session.get(url, allow_redirects=False) as response:
                await response.read()
                self.statuses[f"{'click' if '/c/' in url else 'pixel'} {response.status}"] += 1
            return
        feed, fmt, key = random.choice(FEEDS), random.choice(["rss", "atom", "json"]), random.choice(KEYS)
        if key == "partner-b-demo-key" and fmt == "rss":
            fmt = "json"
        url = f"{self.base}/feeds/{feed}.{fmt}"
        headers = {"Accept-Encoding": random.choice(["gzip", "identity"])}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        cache_key = f"{url} {key}"
        if roll < 0.45 and cache_key in self.etags:
            headers["If-None-Match"] = self.etags[cache_key]
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            self.statuses[f"feed {response.status}"] += 1
            if response.status == 200:
                self.etags[cache_key] = response.headers.get("ETag", "")
                if random.random() < 0.1:
                    self.sampled += 1
                    if not valid(fmt, body):
                        self.invalid += 1
                text = body.decode("utf-8", "replace")
                self.links = (self.links + CLICK.findall(text) + PIXEL.findall(text))[-200:]

    async def worker(self, session: aiohttp.ClientSession) -> None:
        while time.monotonic() < self.deadline:
            try:
                await self.one(session)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.errors[type(exc).__name__] += 1


async def reloader(site: Path, every: float, deadline: float) -> int:
    """Rewrites the ad space file (alternating two weights) so the watcher reloads."""
    space = site.parent / "adspaces" / "4.yaml"
    original = space.read_text(encoding="utf-8")
    count = 0
    while time.monotonic() + every < deadline:
        await asyncio.sleep(every)
        count += 1
        space.write_text(original.replace("weight: 3", f"weight: {2 + count % 2}"), encoding="utf-8")
    return count


def start_server(config: Path, log: IO[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SYNDICATE_SIGNING_KEYS": "soak:" + "s" * 32}
    return subprocess.Popen(
        [sys.executable, "-m", "syndicate", "serve", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=env,
    )


async def run(args: argparse.Namespace) -> int:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="syndicate-soak-") as tmp, (Path(tmp) / "server.log").open("w") as log:
        config = make_site(Path(tmp), port)
        server = start_server(config, log)
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_healthy(base)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                soak = Soak(base, args.seconds)
                memory: list[tuple[float, int]] = []

                async def sample_memory() -> None:
                    start = time.monotonic()
                    while time.monotonic() < soak.deadline:
                        memory.append((time.monotonic() - start, rss_kib(server.pid)))
                        await asyncio.sleep(max(1.0, args.seconds / 20))

                started = time.monotonic()
                results = await asyncio.gather(
                    reloader(config, args.reload_every, soak.deadline),
                    sample_memory(),
                    *(soak.worker(session) for _ in range(args.concurrency)),
                )
                elapsed = time.monotonic() - started
                async with session.get(f"{base}/healthz") as response:
                    generation = (await response.json())["generation"]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log_text = (Path(tmp) / "server.log").read_text()
    total = sum(soak.statuses.values())
    fives = sum(n for status, n in soak.statuses.items() if status.split()[-1].startswith("5"))
    print(
        f"soak: {elapsed:.0f} s, concurrency {args.concurrency}, {total} requests ({total / elapsed:.0f}/s), "
        f"{results[0]} ad-space rewrites, server generation {generation}"
    )
    for status, count in sorted(soak.statuses.items()):
        print(f"  {status:<12} {count}")
    print(
        f"  client errors {dict(soak.errors) or 0}; 5xx: {fives}; sampled feeds {soak.sampled}, invalid {soak.invalid}"
    )
    warm = [kib for t, kib in memory if t >= args.seconds / 4]
    if warm:
        print(
            f"  server RSS after warm-up: first {warm[0] / 1024:.1f} MiB, max {max(warm) / 1024:.1f} MiB, "
            f"last {warm[-1] / 1024:.1f} MiB ({len(memory)} samples)"
        )
    tracebacks = log_text.count("Traceback")
    print(f"  tracebacks in the server log: {tracebacks}")
    return 1 if fives or soak.errors or soak.invalid or tracebacks else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--reload-every", type=float, default=3)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
