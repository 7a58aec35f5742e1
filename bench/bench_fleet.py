"""Replicas on one machine: clicks/s and pixel loads/s by one replica and by three behind nginx, the cached
path with the shared store on and off, and the fleet rate limit's error. Real processes, real PostgreSQL.

    python bench/bench_fleet.py [--seconds 10]

It needs PostgreSQL on 127.0.0.1:5432 (or $SYNDICATE_TEST_POSTGRES), nginx and wrk. All on one machine,
so the three replicas share its cores with nginx, PostgreSQL and wrk: the ratios are what to read.
The sites run the realistic defaults (the public rate limit on, the default flush interval); every request
comes from an address of its own (``X-Forwarded-For``, as readers behind the proxy), so the cached path
pays for a rate-limit bucket per reader. The replica without the shared store first gets the same clicks
and pixel loads as replica one, so both carry as many client buckets. Output is also saved to
bench/out/fleet.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.wrk_runner import ensure_wrk, parse, wrk_argv  # noqa: E402
from tests.fleet_processes import (  # noqa: E402
    Nginx,
    Replica,
    fleet_sites,
    free_port,
    proxy_config,
    shutil_nginx,
)
from tests.pg import fresh_database  # noqa: E402
from tests.tracking_support import ADMIN_TOKEN, CHROME, PARTNER_KEY  # noqa: E402

#: A new client address for every request (each wrk thread and each run its own range), as many readers.
UNIQUE_CLIENTS = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  counter = 0
  offset = tonumber(args[1] or "0")
end
request = function()
  counter = counter + 1
  local n = offset * 16000000 + id * 2000000 + counter
  local ip = string.format("%d.%d.%d.%d", 10 + math.floor(n / 16777216) % 200, math.floor(n / 65536) % 256,
                           math.floor(n / 256) % 256, n % 256)
  return wrk.format("GET", nil, {["X-Forwarded-For"] = ip, ["User-Agent"] = "Mozilla/5.0 (X11) Firefox/125.0"})
end
"""
RUNS = iter(range(1, 1000))


def links(base: str) -> tuple[str, str]:
    with urllib.request.urlopen(f"{base}/feeds/news.rss", timeout=5) as response:
        text = html.unescape(html.unescape(response.read().decode()))
    click = re.search(r'href="http://127\.0\.0\.1:\d+(/c/[^"]+)"', text)
    pixel = re.search(r'src="http://127\.0\.0\.1:\d+(/i/[^"]+\.gif)"', text)
    assert click and pixel
    return click.group(1), pixel.group(1)


def wrk(url: str, seconds: int, script: Path | None = None, connections: int = 64) -> tuple[float, int, int]:
    argv = wrk_argv(url, {}, seconds, threads=2, connections=connections)
    if script is not None:
        argv[1:1] = ["-s", str(script)]
        argv += ["--", str(next(RUNS))]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=True)
    result = parse(done.stdout)
    return result.rps, result.requests, result.errors


def totals(replica: Replica) -> dict[str, int]:
    request = urllib.request.Request(
        f"{replica.url}/admin/stats.json?by=space", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.load(response)["totals"])


async def burst_error(base: str, burst: float, rate: float) -> tuple[int, float]:
    allowed = 0
    async with aiohttp.ClientSession(headers={"User-Agent": CHROME}) as session:
        started = time.monotonic()
        for _ in range(60):
            answers = await asyncio.gather(
                *(
                    session.get(f"{base}/feeds/news.json", headers={"Authorization": f"Bearer {PARTNER_KEY}"})
                    for _ in range(6)
                )
            )
            for answer in answers:
                allowed += answer.status == 200
                answer.release()
            await asyncio.sleep(0.02)
        expected = burst + rate * (time.monotonic() - started)
    return allowed, expected


def with_defaults(config: Path) -> None:
    """The test site's config with what an outsider would run: the public rate limit on, the default flush."""
    text = config.read_text(encoding="utf-8")
    for test_only in ('public: {"off": true}, ', "  flush_seconds: 0.2\n"):
        assert test_only in text, f"{config}: the test site changed; update with_defaults"
        text = text.replace(test_only, "")
    config.write_text(text, encoding="utf-8")


def cached_on_off(
    alone: Replica, replica: Replica, tracked: tuple[str, str], seconds: int, script: Path, say: Callable[[str], None]
) -> None:
    """The cached feed on a replica without the shared store and on one with it, after the same traffic."""
    for path in tracked:  # the replica alone carries the same client buckets as replica one
        wrk(f"{alone.url}{path}", seconds, script)
    cached: dict[str, list[float]] = {}
    rounds = (("shared store off (SQLite)", alone), ("shared store on (PostgreSQL)", replica))
    for _ in range(5):  # alternated, the median of five: the machine's noise is larger than the gap
        for name, server in rounds:
            wrk(f"{server.url}/feeds/news.rss", 1, script)  # warm the variant cache
            rps, _, errors = wrk(f"{server.url}/feeds/news.rss", seconds, script)
            assert errors == 0, f"{name}: {errors} answers were not 2xx/3xx"
            cached.setdefault(name, []).append(rps)
    for name, runs in cached.items():
        spread = f"runs {', '.join(f'{r:.0f}' for r in runs)}"
        say(f"{'cached feed, ' + name + ', median':<46} {statistics.median(runs):>10.0f}   {spread}")
    on, off = (statistics.median(cached[name]) for name, _ in reversed(rounds))
    say(f"cached path (every reader its own address, public limit on), store on / off = {on / off:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    ensure_wrk()
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        proxy_port = free_port()
        sites = fleet_sites(root, url, f"http://127.0.0.1:{proxy_port}", count=3)
        alone_site = fleet_sites(root / "alone", url, f"http://127.0.0.1:{proxy_port}", count=1)[0]
        text = alone_site.read_text(encoding="utf-8")
        alone_site.write_text(re.sub(r"store:\n  url: .*\n  timeout_seconds: 3\n", "", text), encoding="utf-8")
        for site in (*sites, alone_site):
            with_defaults(site)
        replicas = [Replica(site.parent, free_port()) for site in sites]
        alone = Replica(alone_site.parent, free_port())
        proxy = Nginx(root / "nginx", proxy_port, [r.port for r in replicas], shutil_nginx() or "nginx")
        script = root / "clients.lua"
        script.write_text(UNIQUE_CLIENTS, encoding="utf-8")
        try:
            for replica in [*replicas, alone]:
                replica.start()
            proxy.start(proxy_config(proxy_port, [r.port for r in replicas], proxy.prefix))
            time.sleep(3)  # every replica's heartbeat has seen the others
            click, pixel = links(proxy.url)
            say(f"{'what':<46} {'req/s':>10} {'requests':>10} {'errors':>7}")
            results: dict[str, float] = {}
            for name, base in (("one replica", replicas[0].url), ("three replicas behind nginx", proxy.url)):
                for kind, path in (("clicks", click), ("pixel loads", pixel)):
                    before = totals(replicas[0])
                    rps, requests, errors = wrk(f"{base}{path}", args.seconds, script)
                    for replica in replicas:
                        totals(replica)  # each flushes what it holds
                    after = totals(replicas[0])
                    column = "clicks" if kind == "clicks" else "rendered"
                    counted = after[column] - before[column]
                    results[f"{kind} {name}"] = rps
                    say(
                        f"{kind + ', ' + name:<46} {rps:>10.0f} {requests:>10} {errors:>7}   counted {counted} "
                        f"({counted / max(1, requests):.1%} of answered)"
                    )
            for kind in ("clicks", "pixel loads"):
                ratio = results[f"{kind} three replicas behind nginx"] / results[f"{kind} one replica"]
                say(f"{kind}: three replicas / one = {ratio:.2f}x (one machine: the replicas share its cores)")
            cached_on_off(alone, replicas[0], (click, pixel), args.seconds, script, say)
            allowed, expected = asyncio.run(burst_error(proxy.url, 40.0, 0.01))
            say(
                f"fleet rate limit: burst 40 over three replicas: {allowed} allowed, {expected:.1f} expected, "
                f"error {(allowed - expected) / expected:+.1%}"
            )
        finally:
            proxy.stop()
            for replica in [*replicas, alone]:
                replica.stop()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fleet.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
