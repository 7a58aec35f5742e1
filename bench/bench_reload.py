"""What a reload costs at size: cold start, an edit going live, an admin PUT, memory, latency meanwhile.

    python bench/bench_reload.py [--articles 10000] [--feeds 10] [--rounds 3]

Starts ``syndicate serve`` (file watcher on) on a generated site and measures, over real HTTP:

- cold start: process start to ``/healthz`` answering 200, the whole Snapshot built (``--first-start``: with
  the parse cache removed first, so every article is parsed, as on a site's first start; then also a
  restart from the parse cache that start wrote);
- edit to live: one article rewritten on disk to the moment its feed serves the new text
  (the watcher's 100 ms debounce included);
- admin PUT: ``PUT /admin/adspaces/5`` sent to its answer (written, reloaded, swapped);
- resident memory (VmRSS) after all of it, and the peak (VmHWM);
- p99 of a feed requested by 4 clients back to back, idle (once the watcher's full check after start has
  run) and during the reloads above, and their ratio. The edited feed is polled every 10 ms throughout,
  idle too, so that both phases carry the same client work.

Rounds interleave the edit and the PUT. Every response must be 2xx/3xx. The generated site is kept under
``/tmp/syndicate-bench-corpus/<articles>-<feeds>/`` and reused by later runs of the same size (100,000
articles take minutes to write); the article the benchmark edits is put back afterwards.

``run_reloads(articles, ...)`` returns the rows, for a command that runs every benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import probes
from corpus import Corpus, build_corpus, write_config
from probes import Latencies, median
from report import Target, at_most, fmt, summary, table
from servers import Processes, Server, free_port, wait_healthy

from syndicate.snapshot import PARSE_CACHE_DIR

CORPORA = Path("/tmp/syndicate-bench-corpus")
ADMIN_TOKEN = "bench-reload-admin-token-0123456789abcdef"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
LIVE_TIMEOUT = 120.0
COLD_TIMEOUT = 3600.0  # 100,000 articles on a busy machine take many minutes
LOAD_WORKERS = 4


@dataclass(frozen=True, slots=True)
class ReloadRow:
    """One measured figure: median over rounds where there are rounds."""

    metric: str
    value: float
    unit: str
    goal: float | None = None  # the most it may be, when there is a target
    detail: str = ""

    @property
    def target(self) -> Target | None:
        return None if self.goal is None else at_most(self.metric, self.value, self.goal, self.unit)


def cached_corpus(articles: int, feeds: int, port: int, folder: Path = CORPORA) -> Corpus:
    """The generated site of this size, written once and reused; its config rewritten for ``port``."""
    root = folder / f"{articles}-{feeds}"
    done = root / ".complete"
    if not done.exists():
        print(f"   writing a {articles:,}-article site under {root} (kept for later runs)", flush=True)
        build_corpus(root, articles, feeds, port)
        done.write_text("written by bench/corpus.py\n", encoding="utf-8")
    names = tuple(f"section-{i:02d}" for i in range(feeds))
    return Corpus(root, write_config(root, port), articles, names, port)


def wait_ours(server: Server) -> None:
    """Until ``/healthz`` answers from this very process: a build of many minutes leaves time for
    another process to take the port the benchmark picked."""
    wait_healthy(server, timeout=COLD_TIMEOUT)
    with urllib.request.urlopen(server.url("/healthz"), timeout=10) as response:
        pid = json.load(response).get("pid")
    if pid != server.process.pid:
        raise RuntimeError(
            f"port {server.port} is answered by pid {pid}, not by the server started ({server.process.pid})"
        )


def wait_settled(server: Server, timeout: float = 120.0) -> None:
    """Until the watcher's one full check after start (``reload.SETTLED``) has run: it stats every file, so
    an idle baseline measured across it is not idle."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(server.url("/admin/status"), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=10) as response:
            if json.load(response)["reload"]["attempts"] > 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"no reload within {timeout:.0f} s of start: the watcher's settling check never ran")


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def newest_article(corpus: Corpus) -> Path:
    """The newest article of the first feed: on its first page, so an edit to it shows there."""
    return min((corpus.root / "feeds" / corpus.feeds[0]).glob("*-a000000.html"))


@dataclass(slots=True)
class Rounds:
    live_s: list[float]
    put_s: list[float]
    during: list[float]  # latencies (ms) of the requests overlapping a reload


class Poller:
    """Fetches the edited feed every 10 ms, as a reader waiting for an edit would, from before the idle phase
    to the end of the rounds: so the idle baseline carries the same client work as the rounds, and the
    ratio compares the server with and without reloads, not the client with and without this poller."""

    def __init__(self, client: aiohttp.ClientSession, url: str) -> None:
        self.client = client
        self.url = url
        self.waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}  # marker: (written at, when served)

    def served(self, marker: str, since: float) -> asyncio.Future[float]:
        """When a response begun after ``since`` first carried ``marker``."""
        found: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[marker] = (since, found)
        return found

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._poll(stop)
        except Exception as exc:  # an edit waiting for this poller fails with it, not after LIVE_TIMEOUT
            for _, found in self.waiting.values():
                found.set_exception(exc)
            raise

    async def _poll(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            begun = time.perf_counter()
            async with self.client.get(self.url) as response:
                body = await response.read()
                if response.status >= 400:
                    raise RuntimeError(f"{self.url}: HTTP {response.status}")
            for marker, (since, found) in list(self.waiting.items()):
                if begun >= since and marker.encode() in body:
                    del self.waiting[marker]
                    found.set_result(time.perf_counter())
            await asyncio.sleep(0.01)


async def _edit_live(poller: Poller, path: Path, original: str, marker: str) -> float:
    begun = time.perf_counter()
    served = poller.served(marker, begun)
    # Written on the loop (a 5 KB write, tens of µs): a thread would have to take the GIL from the loop that
    # times the requests, and its switches (5 ms apart by default) showed as 6-13 ms requests at every write.
    path.write_text(original.replace("\ntitle: ", f"\ntitle: {marker} ", 1), "utf-8")  # noqa: ASYNC240
    try:
        return await asyncio.wait_for(served, LIVE_TIMEOUT) - begun
    except TimeoutError:
        raise TimeoutError(f"{marker!r} not served {LIVE_TIMEOUT:.0f} s after the write") from None


async def _put_space(client: aiohttp.ClientSession, server: Server, space: bytes, round_: int) -> float:
    body = space.replace(b"name: ", f"name: Round {round_} ".encode(), 1)
    begun = time.perf_counter()
    async with client.put(
        server.url("/admin/adspaces/5"), data=body, headers={**ADMIN, "Content-Type": "application/yaml"}
    ) as response:
        await response.read()
        if response.status >= 400:
            raise RuntimeError(f"PUT /admin/adspaces/5: HTTP {response.status}")
    return time.perf_counter() - begun


def _overlapping(timed: list[probes.Timed], windows: list[tuple[float, float]]) -> list[float]:
    return [t.ms for t in timed if any(t.start < end and t.start + t.ms / 1000 >= start for start, end in windows)]


async def measure(server: Server, corpus: Corpus, rounds: int) -> tuple[Latencies, Rounds]:
    feed_url = server.url(f"/feeds/{corpus.feeds[0]}.rss")
    load_url = server.url(f"/feeds/{corpus.feeds[1]}.rss")
    path = newest_article(corpus)
    original = path.read_text(encoding="utf-8")
    space_path = corpus.root / "adspaces" / "5.yaml"
    space = space_path.read_bytes()
    result = Rounds([], [], [])
    run = secrets.token_hex(4)  # in every marker: one a killed run left in the article never counts as live
    async with probes.session(16) as client:
        await probes.timed_get(client, load_url)
        await probes.timed_get(client, feed_url)  # its first render is a first request's cost, not a reload's
        polled, poller = asyncio.Event(), Poller(client, feed_url)
        polling = asyncio.create_task(poller.run(polled))
        idle_stop = asyncio.Event()
        asyncio.get_running_loop().call_later(3.0, idle_stop.set)
        idle = Latencies(tuple(t.ms for t in await probes.load_until(client, load_url, {}, idle_stop, LOAD_WORKERS)))
        stop = asyncio.Event()
        loader = asyncio.create_task(probes.load_until(client, load_url, {}, stop, LOAD_WORKERS))
        windows: list[tuple[float, float]] = []
        try:
            for n in range(rounds):
                await asyncio.sleep(1.0)
                start = time.perf_counter()
                result.live_s.append(await _edit_live(poller, path, original, f"Edit{n}x{run}"))
                windows.append((start, time.perf_counter()))
                await asyncio.sleep(1.0)
                start = time.perf_counter()
                result.put_s.append(await _put_space(client, server, space, n))
                windows.append((start, time.perf_counter()))
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            polled.set()
            timed = await loader
            await polling
            await asyncio.to_thread(path.write_text, original, "utf-8")
            await asyncio.to_thread(space_path.write_bytes, space)
        result.during = _overlapping(timed, windows)
    return idle, result


def run_reloads(
    articles: int, feeds: int = 10, rounds: int = 3, corpora: Path = CORPORA, first_start: bool = False
) -> list[ReloadRow]:
    """Start a server on the ``articles``-article site, measure, stop it; the figures as rows.
    ``first_start``: remove the parse cache the last run wrote before starting."""
    port = free_port()
    corpus = cached_corpus(articles, feeds, port, corpora)
    if first_start:
        shutil.rmtree(corpus.root / "data" / PARSE_CACHE_DIR, ignore_errors=True)
    log = corpus.root / "serve.log"
    env = {"SYNDICATE_ADMIN_TOKEN": ADMIN_TOKEN}
    with Processes() as procs:
        begun = time.monotonic()
        server = procs.serve(
            corpus.config,
            port,
            log,
            corpus.root,
            env,
        )
        wait_ours(server)
        cold = time.monotonic() - begun
        wait_settled(server)
        idle, measured = asyncio.run(measure(server, corpus, rounds))
        rss = vm_kib(server.process.pid, "VmRSS") / 1024
        peak = vm_kib(server.process.pid, "VmHWM") / 1024
        restart = _restart(procs, server, corpus, log, env) if first_start else None
    during = Latencies(tuple(measured.during))
    ratio = during.p99 / idle.p99
    starts = [
        ReloadRow("cold start", cold, " s", 30.0, f"{articles:,} articles" + (", first start" if first_start else ""))
    ]
    if restart is not None:
        starts.append(ReloadRow("restart", restart, " s", 30.0, "from the parse cache the first start wrote"))
    return [
        *starts,
        ReloadRow(
            "edit to live",
            median(measured.live_s),
            " s",
            1.0,
            "rounds: " + ", ".join(fmt(s, 2) for s in measured.live_s),
        ),
        ReloadRow(
            "admin PUT answered",
            median(measured.put_s),
            " s",
            1.0,
            "rounds: " + ", ".join(fmt(s, 2) for s in measured.put_s),
        ),
        ReloadRow("resident memory", rss, " MiB", 1536.0, f"peak {peak:,.0f} MiB"),
        ReloadRow("p99 idle", idle.p99, " ms", None, f"{idle.count} requests"),
        ReloadRow("p99 during reloads", during.p99, " ms", None, f"{during.count} requests"),
        ReloadRow("p99 during / idle", ratio, "×", 2.0, ""),
    ]


def _parse_cache_written(corpus: Corpus, timeout: float = 600.0) -> None:
    """Until the parse cache files have stopped changing (the server writes them after its build)."""
    folder = corpus.root / "data" / PARSE_CACHE_DIR
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        state = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*") if p.is_file())
        if state and state == last:
            return
        last = state
        time.sleep(2.0)
    raise TimeoutError(f"the parse cache in {folder} still changing after {timeout:.0f} s")


def _restart(procs: Processes, server: Server, corpus: Corpus, log: Path, env: dict[str, str]) -> float:
    """Stop ``server`` once its parse cache is on disk, start it again: the seconds until it serves."""
    _parse_cache_written(corpus)
    procs.stop(server)
    begun = time.monotonic()
    again = procs.serve(corpus.config, server.port, log, corpus.root, env)
    wait_ours(again)
    return time.monotonic() - begun


def print_rows(rows: Sequence[ReloadRow]) -> None:
    print(table(["metric", "value", "detail"], [[r.metric, fmt(r.value, 2) + r.unit, r.detail] for r in rows]))
    print(summary([t for r in rows if (t := r.target) is not None]))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--feeds", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--first-start", action="store_true", help="remove the parse cache first: every article parsed")
    args = p.parse_args(argv)
    print(f"command: python bench/bench_reload.py {' '.join(sys.argv[1:])}".rstrip(), flush=True)
    rows = run_reloads(args.articles, args.feeds, args.rounds, first_start=args.first_start)
    print_rows(rows)
    return 0 if all(t.ok is not False for r in rows if (t := r.target) is not None) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
