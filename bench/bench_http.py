"""HTTP and render benchmark: Syndicate against the least its libraries could do, on a synthetic site.

Run: python bench/bench_http.py [--quick] [--articles N] [--feeds F] [--duration S] [--runs R] [--big]
                                [--articles-scale 1000,10000] [--only http,block,reload,render,snapshot]

Builds a site in a temp dir (N articles of ~5 KB HTML with 3 ad shortcodes, F feed folders of 50 items a
page, the "all" feed at 1,000 a page), starts ``syndicate serve`` on a free loopback port, and reports:

1. the cached path (``bench/cached_path.py``): wrk req/s and p99 of a cached 50-item feed (partner RSS
   plain, gzip and 304, public JSON) with the realistic defaults on, against a minimal aiohttp app
   replaying the same bytes and headers, in interleaved rounds;
2. cold render time of 50 and 1,000 items per format against feedgen / orjson alone;
3. Snapshot build time and memory per corpus size, each in a fresh process;
4. reload time (SIGHUP, when the server handles it) and request latency during the reload;
5. event-loop blocking: /healthz probed every 1 ms while a cold 1,000-item feed renders;

then the targets with PASS/MISS. Every figure is the median of --runs runs and comes with the command
that reproduces it. Output is also written to bench/out/http-<timestamp>.txt. All servers are killed on
exit, whatever happens.
"""

# ruff: noqa: E402  (the interpreter check must run before third-party imports)

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV_PYTHON = REPO / ".venv" / "bin" / "python"


def _use_project_venv() -> None:
    """Re-run under the project's venv when started by a Python without aiohttp (``python`` not activated)."""
    if importlib.util.find_spec("aiohttp") is None and VENV_PYTHON.exists() and Path(sys.executable) != VENV_PYTHON:
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), *sys.argv])


_use_project_venv()
sys.path[:0] = [str(REPO), str(BENCH)]

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import math
import platform
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence

import aiohttp
import cached_path
import live
import render_cost
import report
from corpus import PARTNER_KEY, Corpus, build_corpus
from probes import Latencies, median
from render_cost import RenderRow
from report import Target, fmt, section, table
from servers import Processes, Server, free_port, wait_healthy

from syndicate.formats import FORMATS

SECTIONS = ("http", "block", "reload", "render", "snapshot")
AUTH = {"Authorization": f"Bearer {PARTNER_KEY}"}
BIG_SCALE = 100_000


@dataclasses.dataclass(frozen=True, slots=True)
class SnapshotRow:
    articles: int
    seconds: float
    rss_mib: float  # resident after the build
    snapshot_mib: float  # resident after the build minus resident after imports
    peak_mib: float

    @property
    def ms_per_article(self) -> float:
        return self.seconds * 1000 / self.articles

    @property
    def kib_per_article(self) -> float:
        return self.snapshot_mib * 1024 / self.articles


@dataclasses.dataclass(slots=True)
class Figures:
    """What one run measured; sections that did not run leave their field empty."""

    cached: list[cached_path.Row] = dataclasses.field(default_factory=list)
    blocking: live.Blocking | None = None
    reloads: list[live.ReloadRun] = dataclasses.field(default_factory=list)
    reload_fallback_s: float = math.nan
    renders: list[RenderRow] = dataclasses.field(default_factory=list)
    snapshots: list[SnapshotRow] = dataclasses.field(default_factory=list)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--articles", type=int, help="corpus size (default 10000; --quick 1000)")
    p.add_argument("--feeds", type=int, default=10, help="feed folders (default 10)")
    p.add_argument("--duration", type=int, help="seconds per wrk run (default 10; --quick 3)")
    p.add_argument("--runs", type=int, help="runs per figure, the median is reported (default 3; --quick 1)")
    p.add_argument("--quick", action="store_true", help="a fast smoke run")
    p.add_argument("--articles-scale", help="corpus sizes for the Snapshot section (default 1000,10000)")
    p.add_argument("--big", action="store_true", help=f"add {BIG_SCALE:,} articles to the Snapshot section")
    p.add_argument("--only", default=",".join(SECTIONS), help="comma list of: " + ", ".join(SECTIONS))
    args = p.parse_args(argv)
    args.articles = args.articles or (1000 if args.quick else 10_000)
    args.duration = args.duration or (3 if args.quick else 10)
    args.runs = args.runs or (1 if args.quick else 3)
    scale = args.articles_scale or ("250,1000" if args.quick else "1000,10000")
    args.scale = sorted({int(n) for n in scale.split(",")} | ({BIG_SCALE} if args.big else set()))
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        p.error(f"unknown section(s) {', '.join(sorted(unknown))}; use {', '.join(SECTIONS)}")
    return args


def reproduce(args: argparse.Namespace, only: str) -> str:
    extra = f" --articles-scale {','.join(map(str, args.scale))}" if only == "snapshot" else ""
    return (
        f"python bench/bench_http.py --only {only} --articles {args.articles} --feeds {args.feeds} "
        f"--duration {args.duration} --runs {args.runs}{extra}"
    )


# --- 1. throughput -------------------------------------------------------------------------------------------------


def http_section(args: argparse.Namespace) -> list[cached_path.Row]:
    opts = cached_path.CachedPathOptions(
        duration=args.duration, rounds=args.runs, say=lambda line: print(line, flush=True)
    )
    section(
        f"1. Cached path: a 50-item feed of a {opts.articles}-article folder, realistic defaults on, "
        f"wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s, {opts.rounds} interleaved rounds "
        "against bench/minimal_app.py replaying the same bytes",
        f"python bench/cached_path.py --duration {opts.duration} --rounds {opts.rounds}",
    )
    rows = cached_path.run_cached_path(opts)
    cached_path.print_rows(rows)
    return rows


# --- 5. loop blocking ----------------------------------------------------------------------------------------------


def block_section(args: argparse.Namespace, ours: Server) -> live.Blocking:
    gzip = {"Accept-Encoding": "gzip"}  # as feed readers ask
    cold = [
        (f"{who} all.{fmt_}", f"/feeds/all.{fmt_}", headers)
        for who, headers in (("partner-a", {**AUTH, **gzip}), ("public", gzip))
        for fmt_ in FORMATS
    ]
    section(
        "5. Event-loop blocking: /healthz every 1 ms while a cold 1,000-item feed renders (first request "
        "to a fresh variant)",
        reproduce(args, "block"),
    )
    result = asyncio.run(live.blocking(ours, cold))
    rows = [["idle (client floor)", "", str(result.idle.count), fmt(result.idle.p99, 2), fmt(result.idle.max, 2)]]
    rows += [
        [r.label, fmt(r.render_ms, 0), str(r.probes.count), fmt(r.probes.p99, 2), fmt(r.probes.max, 2)]
        for r in result.runs
    ]
    print(table(["cold request", "request ms", "probes", "probe p99 ms", "probe max ms"], rows))
    print(
        f"   worst probe {fmt(result.worst_ms, 2)} ms; median of per-render maxima "
        f"{fmt(median([r.probes.max for r in result.runs]), 2)} ms"
    )
    return result


# --- 4. reload -----------------------------------------------------------------------------------------------------


def reload_section(args: argparse.Namespace, corpus: Corpus, ours: Server, figures: Figures) -> None:
    section("4. Reload: SIGHUP while 4 clients request the cached partner feed", reproduce(args, "reload"))
    if not ours.catches(signal.SIGHUP):
        seconds = probe_snapshot(corpus.config)["seconds"]
        figures.reload_fallback_s = float(seconds)
        print(
            "   the server does not handle SIGHUP (no handler in /proc/<pid>/status SigCgt): reload measured as\n"
            f"   an in-process build_snapshot of the same corpus instead: {seconds:.2f} s. Latency during a reload\n"
            "   needs the SIGHUP handler; this section measures it as soon as the server has one."
        )
        return
    path = f"/feeds/{corpus.feeds[0]}.rss"
    for run in range(args.runs):
        result = asyncio.run(live.reload_once(ours, path, AUTH))
        figures.reloads.append(result)
        print(f"   run {run + 1}/{args.runs}: reload {result.seconds:.2f} s", flush=True)
    rows = [
        [str(i + 1), fmt(r.seconds, 2), *_lat(r.before), *_lat(r.during), *_lat(r.after)]
        for i, r in enumerate(figures.reloads)
    ]
    rows.append(
        [
            "median",
            fmt(median([r.seconds for r in figures.reloads]), 2),
            *_median_lat([r.before for r in figures.reloads]),
            *_median_lat([r.during for r in figures.reloads]),
            *_median_lat([r.after for r in figures.reloads]),
        ]
    )
    print(
        table(
            [
                "run",
                "reload s",
                "before n",
                "p99 ms",
                "max ms",
                "during n",
                "p99 ms",
                "max ms",
                "after n",
                "p99 ms",
                "max ms",
            ],
            rows,
        )
    )
    print(
        "   before: the second before SIGHUP; during: requests overlapping SIGHUP..new generation on /healthz;\n"
        "   after: the second after, whose first request re-renders the feed for the new generation"
    )


def _lat(values: Latencies) -> list[str]:
    return [str(values.count), fmt(values.p99, 1), fmt(values.max, 1)]


def _median_lat(values: list[Latencies]) -> list[str]:
    return ["", fmt(median([v.p99 for v in values]), 1), fmt(median([v.max for v in values]), 1)]


# --- 2. render -----------------------------------------------------------------------------------------------------


def render_section(args: argparse.Namespace, corpus: Corpus) -> list[RenderRow]:
    repeats = max(args.runs, 5)
    section(
        f"2. Cold render in process (FeedView + format), partner-a, median of {repeats} renders, "
        "against feedgen / orjson fed the same items",
        reproduce(args, "render"),
    )
    rows = render_cost.measure_all(corpus.config, corpus.feeds[0], "all", "partner-a", repeats)
    print(
        table(
            [
                "format",
                "items",
                "new variant ms",
                "first render ms",
                "of which FeedView",
                "baseline ms",
                "ratio",
                "first ratio",
                "ours µs/item",
                "ours KB",
                "baseline KB",
            ],
            [
                [
                    r.fmt,
                    str(r.items),
                    fmt(r.ours_ms, 1),
                    fmt(r.first_ms, 1),
                    fmt(r.view_ms, 1),
                    fmt(r.base_ms, 1),
                    fmt(r.ratio, 2),
                    fmt(r.first_ratio, 2),
                    fmt(r.ours_us_per_item, 0),
                    fmt(r.ours_bytes / 1000, 0),
                    fmt(r.base_bytes / 1000, 0),
                ]
                for r in rows
            ],
        )
    )
    print(
        "   baseline: a bare FeedGenerator (rss, atom) or orjson.dumps of a plain dict (json) given the\n"
        "   ids, titles, links, dates and content HTML Syndicate produced; ours also writes summary, tags,\n"
        "   authors, media. new variant = items already written for this Snapshot (another partner, the\n"
        "   next window); first render = every item written (after a reload). FeedView = ads resolved and\n"
        "   bodies joined (publish.feed_view). In process ad links are direct; the server signs them."
    )
    return rows


# --- 3. snapshot ---------------------------------------------------------------------------------------------------


def probe_snapshot(config: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, str(BENCH / "snapshot_probe.py"), str(config)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def snapshot_section(args: argparse.Namespace, corpus: Corpus, tmp: Path) -> list[SnapshotRow]:
    section(f"3. Snapshot build, fresh process per build, median of {args.runs}", reproduce(args, "snapshot"))
    rows: list[SnapshotRow] = []
    for size in args.scale:
        site = corpus if size == corpus.articles else None
        if site is None:
            begun = time.perf_counter()
            site = build_corpus(tmp / f"scale-{size}", size, args.feeds, corpus.port)
            print(f"   generated {size:,} articles in {time.perf_counter() - begun:.1f} s", flush=True)
        builds = [probe_snapshot(site.config) for _ in range(args.runs)]
        if site is not corpus:
            shutil.rmtree(site.root, ignore_errors=True)
        mib = 1 / 1024
        rows.append(
            SnapshotRow(
                size,
                median([p["seconds"] for p in builds]),
                median([p["rss_after_kib"] * mib for p in builds]),
                median([(p["rss_after_kib"] - p["rss_import_kib"]) * mib for p in builds]),
                median([p["hwm_kib"] * mib for p in builds]),
            )
        )
        print(f"   {size:,} articles: {rows[-1].seconds:.2f} s", flush=True)
    print(
        table(
            ["articles", "build s", "ms/article", "RSS MiB", "snapshot MiB", "KiB/article", "peak MiB"],
            [
                [
                    f"{r.articles:,}",
                    fmt(r.seconds, 2),
                    fmt(r.ms_per_article, 3),
                    fmt(r.rss_mib, 0),
                    fmt(r.snapshot_mib, 0),
                    fmt(r.kib_per_article, 1),
                    fmt(r.peak_mib, 0),
                ]
                for r in rows
            ],
        )
    )
    return rows


# --- summary -------------------------------------------------------------------------------------------------------


def _growth(small: float, big: float) -> float:
    """How much a per-unit cost grew from the smallest to the largest size: about 1 when linear."""
    return big / small if small and not math.isnan(small) else math.nan


def targets(fig: Figures) -> list[Target]:
    nan = math.nan
    out = []
    for row in fig.cached:
        out.append(report.at_least(f"{row.case.name} req/s vs minimal", row.ratio, 0.85))
        out.append(report.at_most(f"{row.case.name} p99 vs minimal", row.p99_ratio, 1.5))
    out += [
        report.at_most(
            f"cold render {r.fmt} {r.items} items vs {'orjson' if r.fmt == 'json' else 'feedgen'}", r.ratio, 1.5
        )
        for r in fig.renders
    ]
    out += [
        report.at_most(
            f"first render after reload {r.fmt} {r.items} items vs {'orjson' if r.fmt == 'json' else 'feedgen'}",
            r.first_ratio,
            1.5,
        )
        for r in fig.renders
    ]
    out.append(
        report.at_most(
            "loop block during cold 1,000-item renders", fig.blocking.worst_ms if fig.blocking else nan, 5, " ms"
        )
    )
    per_item = {(r.fmt, r.items): r.ours_us_per_item for r in fig.renders}
    sizes = sorted({r.items for r in fig.renders})
    growth = [_growth(per_item[(f, sizes[0])], per_item[(f, sizes[-1])]) for f in FORMATS if len(sizes) > 1]
    span = f"{sizes[-1]} vs {sizes[0]}" if sizes else "largest vs smallest page"
    out.append(report.at_most(f"render linear in items (µs/item {span}, worst format)", max(growth, default=nan), 1.3))
    snaps = fig.snapshots
    two = len(snaps) > 1
    out.append(
        report.at_most(
            "snapshot time linear in articles (ms/article, largest vs smallest)",
            _growth(snaps[0].ms_per_article, snaps[-1].ms_per_article) if two else nan,
            1.3,
        )
    )
    out.append(
        report.at_most(
            "snapshot memory linear in articles (KiB/article, largest vs smallest)",
            _growth(snaps[0].kib_per_article, snaps[-1].kib_per_article) if two else nan,
            1.3,
        )
    )
    return out


# --- running -------------------------------------------------------------------------------------------------------


def describe_machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.split("\n")[0]
    commit = (
        subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        or "?"
    )
    changed = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout.strip()
    return (
        f"{dt.datetime.now():%Y-%m-%d %H:%M:%S}, {os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, "
        f"aiohttp {aiohttp.__version__}, {wrk_version.split(' Copyright')[0]}, HEAD {commit}"
        + (" with uncommitted changes" if changed else "")
    )


def live_sections(args: argparse.Namespace, corpus: Corpus, tmp: Path, procs: Processes, figures: Figures) -> None:
    ours = procs.serve(
        corpus.config,
        corpus.port,
        tmp / "syndicate.log",
        corpus.root,
        {"PYTHONPATH": str(REPO)},
    )
    waited = wait_healthy(ours)
    print(f"syndicate serve (pid {ours.process.pid}) healthy after {waited:.1f} s on {ours.url('/')}", flush=True)
    if "block" in args.only:
        figures.blocking = block_section(args, ours)
    if "reload" in args.only:
        reload_section(args, corpus, ours, figures)
    if ours.process.poll() is not None:
        raise RuntimeError(f"syndicate exited during the benchmark:\n{ours.log_tail()}")
    procs.stop(ours)


def run(args: argparse.Namespace, tmp: Path) -> Figures:
    print(f"bench_http: {describe_machine()}")
    print(f"command: python bench/bench_http.py {' '.join(sys.argv[1:])}".rstrip())
    begun = time.perf_counter()
    corpus = build_corpus(tmp / "site", args.articles, args.feeds, free_port())
    print(
        f"corpus: {args.articles:,} articles in {args.feeds} feeds under {corpus.root}, "
        f"generated in {time.perf_counter() - begun:.1f} s",
        flush=True,
    )
    figures = Figures()
    if "http" in args.only:
        figures.cached = http_section(args)
    with Processes() as procs:
        if {"block", "reload"} & set(args.only):
            live_sections(args, corpus, tmp, procs, figures)
    if "render" in args.only:
        figures.renders = render_section(args, corpus)
    if "snapshot" in args.only:
        figures.snapshots = snapshot_section(args, corpus, tmp)
    section("Summary: targets against measured", f"python bench/bench_http.py {' '.join(sys.argv[1:])}".rstrip())
    print(report.summary(targets(figures)))
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return report.teed("http", BENCH / "out", REPO, lambda tmp: run(args, tmp))


if __name__ == "__main__":
    raise SystemExit(main())
