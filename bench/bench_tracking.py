"""Benchmark: the click (/c/) and pixel (/i/) endpoints against a minimal aiohttp handler, and the store.

Run by hand, not in CI:  .venv/bin/python bench/bench_tracking.py [--seconds 3] [--rounds 3]

Both servers run in this same script's ``--serve`` mode with no access log, one process each, on
127.0.0.1 only; wrk (Debian's, ``apt-get install -y wrk``) drives them for a bounded time, rounds
interleaved. Ours counts every request (dedupe off), so the number is the full verify + count path.
Then the store: how many events a second the tracker records and SQLite takes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syndicate.ads.resolver import Placed  # noqa: E402
from syndicate.tracking import stats  # noqa: E402
from syndicate.tracking.events import CountKey, Kind  # noqa: E402
from syndicate.tracking.store import FILE_NAME, SqliteStore  # noqa: E402
from syndicate.tracking.tokens import Claim  # noqa: E402
from syndicate.tracking.tracker import Tracker  # noqa: E402

KEYS = "bench:bench-signing-secret-0123456789"
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
SITE = {
    "feeds/news/_feed.yaml": "title: News\n",
    "feeds/news/a.md": "---\ntitle: A\ndate: 2024-05-01T10:00:00+00:00\n---\nText. [bsa_pro_ad_space id=4]\n",
    "adspaces/4.yaml": "units:\n  - {id: banner, type: image, url: 'https://ad.test/land?c=1', "
    "src: 'https://ad.test/b.png', width: 300, height: 250, alt: Banner}\n",
}


def site_config(port: int) -> str:
    return f"""site: {{title: Bench, base_url: "https://news.test"}}
server: {{host: 127.0.0.1, port: {port}, public_url: "http://127.0.0.1:{port}"}}
http:
  rate_limits: {{public: {{"off": true}}, partners: {{"off": true}}}}
tracking: {{dedupe_seconds: 0, flush_seconds: 1.0}}
"""


# -- the two servers (this script, --serve mode) -------------------------------------------------


def serve(kind: str, port: int, config: str | None) -> None:
    from aiohttp import web

    if kind == "ours":
        from syndicate.web.app import create_app

        app = create_app(Path(str(config)))
    else:

        async def click(request: web.Request) -> web.Response:
            return web.Response(status=302, headers={"Location": "https://ad.test/land?c=1"})

        async def pixel(request: web.Request) -> web.Response:
            return web.Response(body=GIF, content_type="image/gif")

        async def healthz(request: web.Request) -> web.Response:
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_get("/c/{token}", click)
        app.router.add_get("/i/{token}.gif", pixel)
        app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(kind: str, work: Path, config: Path | None = None) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    if config is not None:
        config.write_text(site_config(port), encoding="utf-8")
    argv = [sys.executable, __file__, "--serve", kind, str(port), str(config or "")]
    with (work / f"{kind}.log").open("wb") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "SYNDICATE_SIGNING_KEYS": KEYS},
        )
    try:
        for _ in range(200):  # up to ~20 s to come up
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response,
            ):
                if response.status == 200:
                    break
            if process.poll() is not None:
                raise RuntimeError(f"{kind} server exited:\n{(work / f'{kind}.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield process, port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # graceful: ours flushes its counts
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


# -- load ------------------------------------------------------------------------------------------

_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s+(\d+) requests in", re.MULTILINE)
_ERRORS = re.compile(
    r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors: connect (\d+), read (\d+), write (\d+), "
    r"timeout (\d+)"
)
_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float, int]:
    """requests/s, p50 ms, p99 ms, completed requests; bounded by ``seconds`` (plus wrk's own exit)."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"User-Agent: {CHROME}", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    errors = sum(int(n) for match in _ERRORS.finditer(out) for n in match.groups() if n)
    if errors:
        raise RuntimeError(f"wrk saw {errors} errors:\n{out}")
    rps, total = _RPS.search(out), _TOTAL.search(out)
    latency = {m.group(1): float(m.group(2)) * _MS[m.group(3)] for m in _LATENCY.finditer(out)}
    if not (rps and total and len(latency) == 2):
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return float(rps.group(1)), latency["50"], latency["99"], int(total.group(1))


def endpoints(seconds: int, rounds: int, connections: int) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        work = Path(tmp)
        for name, text in SITE.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text, encoding="utf-8")
        with (
            server("ours", work, work / "config.yaml") as (ours, ours_port),
            server("minimal", work) as (_, minimal_port),
        ):
            with urllib.request.urlopen(f"http://127.0.0.1:{ours_port}/feeds/news.rss") as response:
                feed = response.read().decode()
            token = re.search(r"/c/([A-Za-z0-9_.-]+)", feed)
            assert token, "no signed link in the feed"
            paths = {"click": f"/c/{token.group(1)}", "pixel": f"/i/{token.group(1)}.gif"}
            results: dict[tuple[str, str], list[tuple[float, float, float, int]]] = {}
            for endpoint, path in paths.items():
                for port in (ours_port, minimal_port):  # warm-up, not reported
                    wrk(f"http://127.0.0.1:{port}{path}", 1, connections)
                for _ in range(rounds):
                    for who, port in (("ours", ours_port), ("minimal", minimal_port)):
                        results.setdefault((endpoint, who), []).append(
                            wrk(f"http://127.0.0.1:{port}{path}", seconds, connections)
                        )
            ours.send_signal(signal.SIGTERM)
            ours.wait(20)
        counted = stats.report(SqliteStore(work / "data" / FILE_NAME, repair=False), "space").totals
    print(
        f"wrk -t1 -c{connections} -d{seconds}s, {rounds} interleaved rounds, medians "
        f"(one server process each, no access log, 127.0.0.1):"
    )
    print(f"{'endpoint':8} {'server':8} {'req/s':>9} {'p50 ms':>7} {'p99 ms':>7}")
    for endpoint in paths:
        medians = {}
        for who in ("ours", "minimal"):
            runs = results[(endpoint, who)]
            medians[who] = statistics.median(r[0] for r in runs)
            print(
                f"{endpoint:8} {who:8} {medians[who]:9.0f} {statistics.median(r[1] for r in runs):7.2f} "
                f"{statistics.median(r[2] for r in runs):7.2f}"
            )
        print(f"{endpoint:8} ratio ours/minimal (req/s): {medians['ours'] / medians['minimal']:.2f}")
    sent = {e: sum(r[3] for r in results[(e, "ours")]) for e in paths}
    print(
        f"counted by ours after a graceful stop: clicks {counted.clicks}, rendered {counted.rendered} "
        f"(wrk completed at least {sent['click']} and {sent['pixel']} measured, plus warm-up)"
    )


# -- the store -------------------------------------------------------------------------------------


async def store_rates(events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        store = SqliteStore(Path(tmp) / FILE_NAME)
        tracker = Tracker(store, flush_seconds=3600, dedupe_seconds=0)
        await tracker.start()
        claims = [
            Claim(str(s), f"unit-{u}", f"partner-{p}", "a", 1, "https://ad.test/")
            for s in range(5)
            for u in range(20)
            for p in range(10)
        ]  # 1,000 (space, unit, partner)
        begun = time.perf_counter()
        for i in range(events):
            tracker.record(Kind.CLICK, claims[i % len(claims)], "t", CHROME, "c")
        recorded = time.perf_counter() - begun
        begun = time.perf_counter()
        await tracker.flush()
        flushed = time.perf_counter() - begun
        served = [Placed(c.space, c.unit, c.partner, 1) for c in claims[:4]]
        begun = time.perf_counter()
        for _ in range(events // 4):
            tracker.record_served(served, CHROME)
        served_time = time.perf_counter() - begun
        rows = {}
        for day in range(30):  # worst case for SQLite: every counter new
            for c in claims:
                rows[CountKey(f"2024-06-{day + 1:02d}", c.space, c.unit, c.partner, "served", "browser")] = 1
        begun = time.perf_counter()
        await tracker.in_store(lambda: store.add(rows))
        upsert = time.perf_counter() - begun
        await tracker.stop()
    print(
        f"store: record {events / recorded:,.0f} clicks/s on the event loop (verify excluded); "
        f"record_served {events / served_time:,.0f} ads/s"
    )
    print(
        f"store: one flush of {events:,} events in {len(claims):,} counters took {flushed * 1000:.1f} ms "
        f"({events / (recorded + flushed):,.0f} events/s end to end)"
    )
    print(f"store: SQLite upsert of {len(rows):,} new counters in one batch: {len(rows) / upsert:,.0f} counters/s")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] or None)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=3, help="each wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per server and endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--events", type=int, default=1_000_000, help="events for the store measurement")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    endpoints(args.seconds, args.rounds, args.connections)
    asyncio.run(store_rates(args.events))


if __name__ == "__main__":
    main()
