"""Where a Snapshot's memory goes: bytes per article of each part, and the process's resident size.

    python bench/bench_memory.py [--articles 10000] [--feeds 10]

Builds the generated site's Snapshot in this process as ``serve`` does (the parse cache on disk
under the site's data folder: a second run starts from it), waits for that cache's write, and
prints VmRSS and VmHWM after the build and after the write, then every object the Snapshot and
the build cache reach, once each, summed by what holds it and by type (``sys.getsizeof``).
``bench_reload.py`` measures the server's resident size after reloads; this says what makes it.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import sys
import time
import types
from collections.abc import Sequence
from pathlib import Path

from bench_reload import CORPORA, cached_corpus, vm_kib
from report import table

from syndicate.snapshot import BuildCache, build_snapshot

_LEAVES = (str, bytes, int, float, bool, type(None), dt.datetime, dt.timezone, Path)


class Walk:
    """Sizes of the objects reached, each object counted once, by type."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.size: collections.Counter[str] = collections.Counter()
        self.count: collections.Counter[str] = collections.Counter()

    def total(self) -> int:
        return sum(self.size.values())

    def visit(self, root: object) -> None:
        stack = [root]
        while stack:
            value = stack.pop()
            if id(value) in self.seen or isinstance(value, type):
                continue
            self.seen.add(id(value))
            name = type(value).__name__
            self.size[name] += sys.getsizeof(value)
            self.count[name] += 1
            if isinstance(value, Path):
                stack.append(str(value))
            elif isinstance(value, _LEAVES):
                continue
            elif isinstance(value, dict):
                stack.extend(value.keys())
                stack.extend(value.values())
            elif isinstance(value, tuple | list | set | frozenset):
                stack.extend(value)
            elif not callable(value) and not isinstance(value, types.ModuleType):
                slots = (s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ()))
                stack.extend(getattr(value, s) for s in slots if hasattr(value, s))
                stack.extend(getattr(value, "__dict__", {}).values())


def mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--feeds", type=int, default=10)
    p.add_argument("--corpora", type=Path, default=CORPORA, help="where generated sites are kept")
    args = p.parse_args(argv)
    corpus = cached_corpus(args.articles, args.feeds, 8080, args.corpora)
    cache = BuildCache(persist=True)
    begun = time.perf_counter()
    snapshot = build_snapshot(corpus.config, cache=cache)
    built = time.perf_counter() - begun
    after_build = vm_kib(os.getpid(), "VmRSS"), vm_kib(os.getpid(), "VmHWM")
    if cache.disk is not None:
        cache.disk.wait(600)
    after_write = vm_kib(os.getpid(), "VmRSS"), vm_kib(os.getpid(), "VmHWM")
    print(f"built in {built:.1f} s, {snapshot.parsed:,} articles parsed (the rest from the parse cache)")
    print(
        table(
            ["when", "VmRSS", "VmHWM"],
            [
                ["after the build", *(mib(v * 1024) for v in after_build)],
                ["after the parse cache's write", *(mib(v * 1024) for v in after_write)],
            ],
        )
    )
    walk = Walk()
    parts = {
        "feeds as loaded (articles)": snapshot.loaded,
        "published feeds": snapshot.feeds,
        "tag and author feeds": snapshot.filtered,
        "parse cache": cache.parses.kept,
        "parse cache on disk (records)": cache.disk._files if cache.disk is not None else None,
        "sub-feed memo": cache.subfeeds,
    }
    count = max(1, len(snapshot.loaded["all"].articles))
    rows = []
    for name, part in parts.items():
        before = walk.total()
        walk.visit(part)
        rows.append([name, mib(walk.total() - before), f"{(walk.total() - before) / count:,.0f} B"])
    print(table(["held by", "size", "per article"], rows))
    by_type = [[name, mib(size), f"{walk.count[name]:,}"] for name, size in walk.size.most_common(15)]
    print(table(["type", "size", "objects"], by_type))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
