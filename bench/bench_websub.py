"""What deciding which feeds to announce costs after a swap, on a generated site.

    python bench/bench_websub.py [--articles N] [--feeds F]

Builds the site twice (two Snapshots of the same files), then times
``websub.changed_urls`` (every public feed, tag and author feeds included, first page
fingerprinted in both) with the ads unchanged, with one ad space's label changed
(every ad slot resolved in both), and ``Snapshot.published_at`` (the scheduled-
publication swap). Prints seconds and each as a ratio of the Snapshot build.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build_corpus

from syndicate.snapshot import build_snapshot
from syndicate.web.websub import changed_urls, public_pages


def timed(label: str, build_seconds: float, run: object) -> float:
    assert callable(run)
    begun = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - begun
    extra = f", {len(result)} URLs" if isinstance(result, list) else ""
    print(f"{label:<34} {seconds:8.3f} s  {seconds / build_seconds:6.2f}× build{extra}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--feeds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        corpus = build_corpus(Path(folder) / "site", args.articles, args.feeds, 8190)
        begun = time.perf_counter()
        old = build_snapshot(corpus.config)
        build = time.perf_counter() - begun
        new = build_snapshot(corpus.config)
        print(f"{args.articles} articles, {len(public_pages(new))} public feed URLs; build {build:.3f} s")
        timed("changed_urls, same ads", build, lambda: changed_urls(old, new))
        spaces = dict(new.spaces)
        first = next(iter(spaces))
        spaces[first] = dataclasses.replace(spaces[first], label="Changed label")
        edited = dataclasses.replace(new, spaces=spaces)
        timed("changed_urls, one space edited", build, lambda: changed_urls(old, edited))
        timed("published_at (scheduled swap)", build, lambda: new.published_at(new.as_of))


if __name__ == "__main__":
    main()
