"""Every benchmark in one run, each figure a ratio against a baseline measured in the same run.

Run: python bench/run_all.py [--articles N] [--feeds F] [--duration S] [--runs R] [--quick]

One synthetic site of N articles (``bench/corpus.py``), one ``syndicate serve``, and in order:

1. the cached path (``bench/cached_path.py --floor``, on its own site of short articles): wrk req/s, p99
   and server CPU per request against the minimal aiohttp app replaying the same bytes, and Syndicate's
   own process answering by that replay, which splits the gap into process and fast lane;
2. idle latency and loop blocking: /healthz probed every 1 ms idle (the baseline), then while cold
   1,000-item feeds render;
3. reload (``bench/bench_reload.py``, on a corpus of the same size): cold start, an edit to live, an admin
   PUT, resident memory, and p99 of a feed during reloads against its idle p99;
4. render cost in process: the first render after a reload and a new variant, against feedgen (RSS,
   Atom) and orjson (JSON) fed the same items, with the loop's stall while a render runs;

then every goal with PASS/MISS. Each section is one function below taking the shared ``Run``; the
output is also written to bench/out/all-<timestamp>.txt. Speed is never asserted in tests: this
command is where it is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bench_http  # first of the bench modules: it puts the repository on sys.path
import bench_reload
import cached_path as bench_cached
import render_cost
import report
from corpus import Corpus
from report import Target, section, table
from servers import Processes, Server, free_port, wait_healthy


@dataclasses.dataclass(slots=True)
class Run:
    """What every section shares: the options, the site, the server under test and the idle baseline."""

    args: argparse.Namespace
    corpus: Corpus
    tmp: Path
    procs: Processes
    server: Server | None = None  # ``syndicate serve`` on ``corpus``, while the live sections run

    @property
    def live(self) -> Server:
        assert self.server is not None, "a live section runs while the server is up"
        return self.server


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    positive = bench_cached.positive
    p.add_argument("--articles", type=positive, help="corpus size (default 10000; --quick 1000)")
    p.add_argument("--feeds", type=positive, default=10, help="feed folders (default 10)")
    p.add_argument("--duration", type=positive, help="seconds per wrk run (default 10; --quick 3)")
    p.add_argument("--runs", type=positive, help="runs per figure, the median is reported (default 3; --quick 1)")
    p.add_argument("--quick", action="store_true", help="a fast smoke run")
    args = p.parse_args(argv)
    args.articles = args.articles or (1000 if args.quick else 10_000)
    args.duration = args.duration or (3 if args.quick else 10)
    args.runs = args.runs or (1 if args.quick else 3)
    args.scale, args.only = [args.articles], list(bench_http.SECTIONS)  # what bench_http's sections read
    return args


# --- the sections: each prints its tables and returns its goals -------------------------------------------------


#: The cached path against the minimal app replaying the same bytes: every row's req/s ratio at least this,
#: and its p99 at most this many times the minimal app's.
CACHED_RATIO, CACHED_P99 = 0.85, 1.5
#: The cached path's rounds and their length, whatever ``--runs`` and ``--duration`` say: its site is its own
#: (the corpus size does not change it), and on a machine whose speed drifts by a third from one run to the
#: next, the median of many short interleaved rounds is steadier than that of three long ones.
CACHED_ROUNDS, CACHED_SECONDS = 7, 3
#: Reload rounds (an edit and an admin PUT each) at least: p99 during reloads is the 99th percentile of the
#: requests overlapping them, and one round's ~1,300 requests (at 100,000 articles) let a handful decide it.
RELOAD_ROUNDS = 5


def cached_path(run: Run) -> list[Target]:
    """``bench/cached_path.py`` on its own site (short articles, tracking and limits on), rounds interleaved."""
    rounds, seconds = (1, 2) if run.args.quick else (CACHED_ROUNDS, CACHED_SECONDS)
    section(
        f"Cached path: wrk -c50 against the minimal app replaying the same bytes, {rounds} interleaved "
        f"rounds of {seconds} s",
        f"python bench/cached_path.py --duration {seconds} --rounds {rounds} --floor",
    )
    rows = bench_cached.run_cached_path(bench_cached.CachedPathOptions(duration=seconds, rounds=rounds, floor=True))
    bench_cached.print_rows(rows)
    goals = [report.at_least(f"cached {r.case.name} req/s vs minimal", r.ratio, CACHED_RATIO) for r in rows]
    goals += [report.at_most(f"cached {r.case.name} p99 vs minimal", r.p99_ratio, CACHED_P99) for r in rows]
    return goals


def loop_blocking(run: Run) -> list[Target]:
    blocking = bench_http.block_section(run.args, run.live)
    worst_p99 = max((r.probes.p99 for r in blocking.runs), default=float("nan"))
    print(
        f"   idle /healthz p99 {report.fmt(blocking.idle.p99, 2)} ms (the baseline); during cold renders, worst "
        f"p99 {report.fmt(worst_p99, 2)} ms = {report.fmt(worst_p99 / blocking.idle.p99, 2)}× idle"
    )
    excess = blocking.worst_ms - blocking.idle.max
    print(
        f"   worst probe during cold renders {report.fmt(blocking.worst_ms, 2)} ms, idle worst "
        f"{report.fmt(blocking.idle.max, 2)} ms: {report.fmt(excess, 2)} ms more"
    )
    return [
        report.at_most("loop block during cold 1,000-item renders (worst probe beyond idle worst)", excess, 5, " ms")
    ]


def reload(run: Run) -> list[Target]:
    """``bench/bench_reload.py`` on a corpus of the same size: a first start (every article parsed) and a
    restart (from the parse cache on disk), edit to live, admin PUT, memory, p99 during reloads against idle p99."""
    rounds = run.args.runs if run.args.quick else max(run.args.runs, RELOAD_ROUNDS)
    section(
        f"Reload at {run.args.articles:,} articles: cold start, edit to live, admin PUT, memory, p99 during "
        f"reloads vs idle, {rounds} rounds",
        f"python bench/bench_reload.py --articles {run.args.articles} "
        f"--feeds {run.args.feeds} --rounds {rounds} --first-start",
    )
    rows = bench_reload.run_reloads(run.args.articles, run.args.feeds, rounds, first_start=True)
    print(table(["metric", "value", "detail"], [[r.metric, report.fmt(r.value, 2) + r.unit, r.detail] for r in rows]))
    return [t for r in rows if (t := r.target) is not None]


def render(run: Run) -> list[Target]:
    repeats = max(run.args.runs, 5)
    section(
        f"Render cost in process, partner-a, median of {repeats}: first render after a reload, a new variant, a "
        "new partner and a cold render, against feedgen / orjson fed the same items",
        reproduce(run.args),
    )
    rows = render_cost.measure_all(run.corpus.config, run.corpus.feeds[0], "all", "partner-a", repeats)
    print(render_cost.render_table(rows))
    print(
        "   after reload = the first render after a reload that changed nothing (the server's: through the build\n"
        "   cache, a fresh reload before each timed render); new variant = items written, slots resolved (the next\n"
        "   window under rotation: per_item); new partner = items written, every slot resolved for this audience;\n"
        "   cold = nothing written or resolved. FeedView = ads resolved, bodies joined. loop stall = the longest\n"
        "   a 1 ms loop tick came late while the first render ran in a worker thread (with the switch interval\n"
        "   serve sets); idle stall = the same with a worker that only sleeps, the machine's own floor.\n"
        "   Times are this process's CPU time, so other load on the machine barely moves them. Ad links are\n"
        "   direct here; the server signs them."
    )
    return render_cost.render_targets(rows)


Section = Callable[[Run], list[Target]]
#: Sections with servers of their own, then those against ``syndicate serve`` on the corpus, then in process.
OWN_SERVERS: list[Section] = [cached_path, reload]
LIVE: list[Section] = [loop_blocking]
IN_PROCESS: list[Section] = [render]


# --- running -------------------------------------------------------------------------------------------------------


def reproduce(args: argparse.Namespace) -> str:
    return (
        f"python bench/run_all.py --articles {args.articles} --feeds {args.feeds} --duration {args.duration} "
        f"--runs {args.runs}"
    )


def run_all(args: argparse.Namespace, tmp: Path) -> list[Target]:
    print(f"run_all: {bench_http.describe_machine()}")
    print(f"command: {reproduce(args)}", flush=True)
    begun = time.perf_counter()
    corpus = bench_reload.cached_corpus(args.articles, args.feeds, free_port())  # the one bench_reload uses too
    print(
        f"corpus: {args.articles:,} articles in {args.feeds} feeds under {corpus.root}, ready in "
        f"{time.perf_counter() - begun:.1f} s",
        flush=True,
    )
    goals: list[Target] = []
    with Processes() as procs:
        run = Run(args, corpus, tmp, procs)
        for measure in OWN_SERVERS:
            goals += measure(run)
        # The shared site's config names one port: the sections above rewrote it for theirs.
        corpus = run.corpus = bench_reload.cached_corpus(args.articles, args.feeds, free_port())
        run.server = procs.serve(
            corpus.config,
            corpus.port,
            tmp / "syndicate.log",
            corpus.root,
            {"PYTHONPATH": str(bench_http.REPO)},
        )
        print(f"\nsyndicate serve on the corpus healthy after {wait_healthy(run.server):.1f} s", flush=True)
        for measure in LIVE:
            goals += measure(run)
            if run.server.process.poll() is not None:
                raise RuntimeError(f"syndicate exited during the benchmark:\n{run.server.log_tail()}")
        procs.stop(run.server)
        run.server = None
        for measure in IN_PROCESS:
            goals += measure(run)
    section("Summary: every goal against what this run measured", reproduce(args))
    print(report.summary(goals))
    print(f"   whole run: {time.perf_counter() - begun:.0f} s")
    return goals


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return report.teed("all", bench_http.BENCH / "out", bench_http.REPO, lambda tmp: run_all(args, tmp))


if __name__ == "__main__":
    raise SystemExit(main())
