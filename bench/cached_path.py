"""The cached request path: Syndicate against a minimal aiohttp app replaying the very bytes it served.

Run: python bench/cached_path.py [--duration 3] [--rounds 3] [--connections 50] [--articles 200] [--source DIR]
     [--floor]

Or from another benchmark: ``rows = run_cached_path(CachedPathOptions(...))``, then ``print_rows(rows)``.

The site is a fresh copy of the repository's config.yaml with the realistic defaults on (access log,
ad tracking with its counts, rate limits, partner keys); only the rate limits are raised, so that no
request is refused with a 429. One feed folder of ``--articles`` short articles is served 50 items a page
(a 120 KB RSS page with its signed ad links). Each scenario is measured with ``wrk -t1 -c50`` against
``syndicate serve`` (one worker) and against ``bench/minimal_app.py``, which replays the same body, ETag
and headers with the gzip body precomputed and no access log. Rounds are interleaved (every scenario on
both servers, then again), so machine drift lands on both sides of each ratio; the medians are reported.
Every run must answer only 2xx/3xx (wrk counts the rest) and each scenario's status is checked once.

``--floor`` adds a third server to every round: ``bench/replay_in_syndicate.py``, Syndicate's own serving
process with the minimal app's replay answering the feed requests in front of its fast lane. Its CPU a
request against the minimal app's is what Syndicate's process and access log add to aiohttp's work; ours
against it is what the fast lane's own steps cost live, cache misses included, which the in-process
figures (``bench/own_work.py``, a hot loop) understate.
"""

# ruff: noqa: E402  (the path setup must run before the bench imports)

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import probes
import wrk_runner
import yaml
from corpus import PARTNER_KEY, build_corpus
from own_work import OwnRow
from probes import median
from report import fmt, table
from servers import Processes, Server, free_port, wait_healthy
from wrk_runner import WrkResult

#: Limits high enough that no benchmark request is refused, still applied (and charged) on every request.
RAISED_LIMIT = {"rate": 1_000_000, "burst": 1_000_000_000}


@dataclass(frozen=True, slots=True)
class Case:
    """One scenario: a path, the request headers, and the status every response must have."""

    name: str
    path: str
    headers: dict[str, str]
    status: int


@dataclass(frozen=True, slots=True)
class CachedPathOptions:
    duration: int = 3  # seconds per wrk run
    rounds: int = 3  # interleaved rounds; medians are reported
    threads: int = 1
    connections: int = 50
    articles: int = 200  # in one feed folder, served 50 a page
    body_bytes: int = 400  # short news items (one paragraph, one ad): a ~100 KB RSS page
    source: Path = REPO  # the checkout whose ``syndicate`` is served (another one: a before/after comparison)
    floor: bool = False  # also run bench/replay_in_syndicate.py: Syndicate's process answering by replay
    say: Callable[[str], None] = print  # progress lines


@dataclass(frozen=True, slots=True)
class Run:
    """One wrk run and the CPU time the server process spent during it."""

    wrk: WrkResult
    cpu_seconds: float

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds * 1e6 / self.wrk.requests if self.wrk.requests else float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system time of ``pid`` (all its threads) so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class Row:
    """One scenario's runs against both servers, in round order."""

    case: Case
    ours_cmd: str
    minimal_cmd: str
    ours: list[Run] = field(default_factory=list)
    minimal: list[Run] = field(default_factory=list)
    floor: list[Run] = field(default_factory=list)  # Syndicate's process answering by replay (``--floor``)
    own: OwnRow | None = None  # the application's own work, in process (bench/own_work.py)

    @property
    def ours_rps(self) -> float:
        return median([r.wrk.rps for r in self.ours])

    @property
    def minimal_rps(self) -> float:
        return median([r.wrk.rps for r in self.minimal])

    @property
    def ours_p99(self) -> float:
        return median([r.wrk.p99_ms for r in self.ours])

    @property
    def minimal_p99(self) -> float:
        return median([r.wrk.p99_ms for r in self.minimal])

    @property
    def ratio(self) -> float:
        """Median of the per-round ratios: each round's two runs saw the same machine."""
        return median([o.wrk.rps / m.wrk.rps for o, m in zip(self.ours, self.minimal, strict=True)])

    @property
    def p99_ratio(self) -> float:
        return median([o.wrk.p99_ms / m.wrk.p99_ms for o, m in zip(self.ours, self.minimal, strict=True)])

    @property
    def ours_cpu_us(self) -> float:
        """Server CPU per request: less disturbed by other load on the machine than req/s."""
        return median([r.cpu_us_per_request for r in self.ours])

    @property
    def minimal_cpu_us(self) -> float:
        return median([r.cpu_us_per_request for r in self.minimal])

    @property
    def floor_cpu_us(self) -> float:
        return median([r.cpu_us_per_request for r in self.floor])

    def runs_of(self, server: Server) -> list[Run]:
        """The runs of ``server`` (``syndicate``, ``minimal`` or ``floor``)."""
        return {"syndicate": self.ours, "minimal": self.minimal, "floor": self.floor}[server.name]

    @property
    def errors(self) -> int:
        return sum(r.wrk.errors for r in [*self.ours, *self.minimal, *self.floor])


def realistic_config(config: Path) -> None:
    """The corpus config with the realistic defaults back on: rate limits raised, not off; tracking on."""
    data: dict[str, Any] = yaml.safe_load(config.read_text(encoding="utf-8"))
    limits = data["http"]["rate_limits"]
    limits["public"] = dict(RAISED_LIMIT)
    limits["partners"] = dict(RAISED_LIMIT)
    data.setdefault("tracking", {})["enabled"] = True
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def cases(feed: str, partner_etag: str) -> list[Case]:
    auth = {"Authorization": f"Bearer {PARTNER_KEY}"}
    rss, json_feed = f"/feeds/{feed}.rss", f"/feeds/{feed}.json"
    return [
        Case("partner RSS 200", rss, auth, 200),
        Case("partner RSS gzip", rss, {**auth, "Accept-Encoding": "gzip"}, 200),
        Case("partner RSS 304", rss, {**auth, "If-None-Match": partner_etag}, 304),
        Case("public JSON 200", json_feed, {}, 200),
    ]


async def _capture(server: Server, path: str, headers: dict[str, str]) -> dict[str, probes.Captured]:
    """The three responses the minimal app replays for ``path``; this also fills Syndicate's cache."""
    async with probes.session() as client:
        url = server.url(path)
        plain = await probes.capture(client, url, headers)
        gzipped = await probes.capture(client, url, {**headers, "Accept-Encoding": "gzip"})
        fresh = await probes.capture(client, url, {**headers, "If-None-Match": plain.headers["ETag"]})
    if (plain.status, gzipped.status, fresh.status) != (200, 200, 304):
        raise RuntimeError(f"unexpected statuses {plain.status}, {gzipped.status}, {fresh.status} for {url}")
    if gzipped.headers.get("Content-Encoding") != "gzip" or "Content-Encoding" in plain.headers:
        raise RuntimeError(f"{url}: gzip negotiation is not what the benchmark expects")
    return {"plain": plain, "gzip": gzipped, "not_modified": fresh}


async def _check_status(server: Server, case: Case) -> None:
    async with probes.session() as client, client.get(server.url(case.path), headers=case.headers) as response:
        await response.read()
        if response.status != case.status:
            raise RuntimeError(f"{server.name} answered {case.name} with {response.status}, not {case.status}")


def _start(
    procs: Processes, tmp: Path, opts: CachedPathOptions
) -> tuple[Server, Server, Server | None, list[Case], Path]:
    corpus = build_corpus(tmp / "site", opts.articles, 1, free_port(), opts.body_bytes)
    realistic_config(corpus.config)
    ours = procs.serve(
        corpus.config,
        corpus.port,
        tmp / "syndicate.log",
        corpus.root,
        {"PYTHONPATH": str(opts.source)},
    )
    wait_healthy(ours)
    partner = asyncio.run(_capture(ours, f"/feeds/{corpus.feeds[0]}.rss", {"Authorization": f"Bearer {PARTNER_KEY}"}))
    public = asyncio.run(_capture(ours, f"/feeds/{corpus.feeds[0]}.json", {}))
    all_cases = cases(corpus.feeds[0], partner["plain"].headers["ETag"])
    fixture = tmp / "fixture.json"
    fixture.write_text(
        json.dumps(
            {
                path: {name: r.as_json() for name, r in kinds.items()}
                for path, kinds in ((all_cases[0].path, partner), (all_cases[3].path, public))
            }
        )
    )
    port = free_port()
    minimal = procs.start(
        "minimal",
        [sys.executable, str(BENCH / "minimal_app.py"), str(fixture), str(port)],
        port,
        tmp / "minimal.log",
        tmp,
    )
    wait_healthy(minimal, timeout=60)
    floor = None
    if opts.floor:
        floor_port = free_port()
        floor = procs.start(
            "floor",
            [sys.executable, str(BENCH / "replay_in_syndicate.py"), str(corpus.config), str(floor_port), str(fixture)],
            floor_port,
            tmp / "floor.log",
            corpus.root,
            {"PYTHONPATH": os.pathsep.join([str(opts.source), str(BENCH)])},
        )
        wait_healthy(floor)
    opts.say(
        f"   RSS body {len(partner['plain'].body):,} bytes (gzip {len(partner['gzip'].body):,}), JSON body "
        f"{len(public['plain'].body):,} bytes; syndicate pid {ours.process.pid}, minimal pid "
        f"{minimal.process.pid}"
    )
    return ours, minimal, floor, all_cases, corpus.config


def run_cached_path(opts: CachedPathOptions | None = None) -> list[Row]:
    """Start the servers on a fresh site, run the interleaved rounds, stop them; one Row per scenario."""
    opts = opts or CachedPathOptions()
    wrk_runner.ensure_wrk()

    def argv(server: Server, case: Case) -> list[str]:
        return wrk_runner.wrk_argv(server.url(case.path), case.headers, opts.duration, opts.threads, opts.connections)

    with tempfile.TemporaryDirectory(prefix="syndicate-cached-") as tmp, Processes() as procs:
        ours, minimal, floor, all_cases, config = _start(procs, Path(tmp), opts)
        servers = [server for server in (ours, minimal, floor) if server is not None]
        for case in all_cases:
            for server in servers:
                asyncio.run(_check_status(server, case))
        rows = [
            Row(case, wrk_runner.command_line(argv(ours, case)), wrk_runner.command_line(argv(minimal, case)))
            for case in all_cases
        ]
        for number in range(opts.rounds):
            for row in rows:
                # Alternate which server goes first, so neither always runs on a machine the other warmed.
                for server in servers if number % 2 == 0 else servers[::-1]:
                    before = cpu_seconds(server.process.pid)
                    result = wrk_runner.run(argv(server, row.case), opts.duration)
                    run = Run(result, cpu_seconds(server.process.pid) - before)
                    row.runs_of(server).append(run)
                    opts.say(
                        f"   round {number + 1}/{opts.rounds} {row.case.name:<18} {server.name:<9} "
                        f"{result.rps:>9,.0f} req/s  p99 {result.p99_ms:6.2f} ms  "
                        f"CPU {run.cpu_us_per_request:5.1f} µs/request  errors {result.errors}"
                    )
        for server in servers:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited during the benchmark:\n{server.log_tail()}")
        for server in servers:  # quiet before the in-process figures
            procs.stop(server)
        for row, own in zip(rows, own_work_rows(config, all_cases, opts.source), strict=True):
            row.own = own
    bad = [row.case.name for row in rows if row.errors]
    if bad:
        raise RuntimeError("responses other than 2xx/3xx (or socket errors) in: " + ", ".join(bad))
    return rows


def own_work_rows(config: Path, all_cases: list[Case], source: Path) -> list[OwnRow]:
    """``bench/own_work.py`` run on ``source``'s package, in a process of its own."""
    cases = [[c.name, c.path, c.headers, c.status] for c in all_cases]
    done = subprocess.run(
        [sys.executable, str(BENCH / "own_work.py"), str(config), json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(BENCH)])},
    )
    return [OwnRow(*row) for row in json.loads(done.stdout.strip().splitlines()[-1])]


def print_rows(rows: list[Row], say: Callable[[str], None] = print) -> None:
    say(
        table(
            [
                "scenario",
                "ours req/s",
                "minimal req/s",
                "ratio",
                "ours p99 ms",
                "minimal p99 ms",
                "p99 ratio",
                "ours CPU µs/req",
                "minimal CPU µs/req",
                "errors",
            ],
            [
                [
                    r.case.name,
                    fmt(r.ours_rps, 0),
                    fmt(r.minimal_rps, 0),
                    fmt(r.ratio, 2),
                    fmt(r.ours_p99, 2),
                    fmt(r.minimal_p99, 2),
                    fmt(r.p99_ratio, 2),
                    fmt(r.ours_cpu_us, 1),
                    fmt(r.minimal_cpu_us, 1),
                    str(r.errors),
                ]
                for r in rows
            ],
        )
    )
    say(
        "   ratio and p99 ratio: medians of the per-round ratios (ours / minimal); CPU: the server process's\n"
        "   user + system time during a run over the requests wrk completed"
    )
    if any(r.floor for r in rows):
        say("\n   Floor (--floor): Syndicate's own process answering by the minimal app's replay, CPU µs a request")
        say(
            table(
                ["scenario", "minimal", "our process, replay", "our process + log extra", "fast lane live extra"],
                [
                    [
                        r.case.name,
                        fmt(r.minimal_cpu_us, 1),
                        fmt(r.floor_cpu_us, 1),
                        fmt(r.floor_cpu_us - r.minimal_cpu_us, 1),
                        fmt(r.ours_cpu_us - r.floor_cpu_us, 1),
                    ]
                    for r in rows
                ],
            )
        )
    own = [r.own for r in rows if r.own is not None]
    if own:
        say(
            "\n   In process (bench/own_work.py): ours through its fast lane, the minimal app through\n"
            "   Application._handle, on fresh requests, CPU µs a request, best of 7 x 1,000; no sockets or\n"
            "   HTTP parsing, which cost both apps the same"
        )
        say(
            table(
                ["scenario", "ours app µs", "ours access log µs", "minimal app µs", "our own extra µs"],
                [[o.name, fmt(o.ours_us, 1), fmt(o.log_us, 1), fmt(o.minimal_us, 1), fmt(o.extra_us, 1)] for o in own],
            )
        )
    for r in rows:
        say(f"   {r.case.name}:\n     ours:    {r.ours_cmd}\n     minimal: {r.minimal_cmd}")


def positive(text: str) -> int:
    """A whole number of at least 1, for the benchmarks' arguments: zero rounds measure nothing and a duration
    of 0 or less leaves wrk running until its timeout."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    defaults = CachedPathOptions()
    p.add_argument("--duration", type=positive, default=defaults.duration, help="seconds per wrk run")
    p.add_argument("--rounds", type=positive, default=defaults.rounds, help="interleaved rounds")
    p.add_argument("--connections", type=positive, default=defaults.connections)
    p.add_argument("--articles", type=positive, default=defaults.articles)
    p.add_argument("--source", type=Path, default=REPO, help="serve the syndicate package of this checkout")
    p.add_argument(
        "--floor", action="store_true", help="add Syndicate's process answering by replay (the cached path's floor)"
    )
    args = p.parse_args(argv)
    opts = CachedPathOptions(
        args.duration, args.rounds, 1, args.connections, args.articles, source=args.source.resolve(), floor=args.floor
    )
    print(
        f"command: python bench/cached_path.py --duration {opts.duration} --rounds {opts.rounds} "
        f"--connections {opts.connections} --articles {opts.articles} --source {opts.source}"
        + (" --floor" if opts.floor else ""),
        flush=True,
    )
    print_rows(run_cached_path(opts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
