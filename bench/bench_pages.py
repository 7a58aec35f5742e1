"""What ``/`` and a feed's page cost at size: the first answer under a Snapshot, and every later one.

    python bench/bench_pages.py [--articles 100000] [--tags 5000] [--authors 500] [--feeds 5]

Builds the sample site's Snapshot, then multiplies its articles in memory (no files:
only the catalog and the pages are measured) across ``--feeds`` feeds, each article with
three of ``--tags`` tags and one of ``--authors`` authors, and derives the tag and author
feeds as a build would. Then asks the real app, over a socket, for ``/`` and a feed's page:
the first answer renders, later ones come from the page cache. Prints seconds, the ratio of
a cached answer to the first, and page sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from syndicate.content.index import filtered_feeds
from syndicate.content.model import Article, Author
from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.web.app import create_app

REPO = Path(__file__).resolve().parent.parent


def big_snapshot(articles: int, tags: int, authors: int, feeds: int) -> Snapshot:
    base = build_snapshot(REPO / "config.yaml")
    template = base.feeds["all"].articles[0]
    feed_template = base.feeds["world"]
    rng = random.Random(1)
    made: dict[str, list[Article]] = {f"f{n}": [] for n in range(feeds)}
    for n in range(articles):
        name = f"f{n % feeds}"
        made[name].append(
            dataclasses.replace(
                template,
                uid=f"{template.uid}-{n}",
                id=f"{name}/a{n}",
                feed=name,
                tags=tuple(f"Tag {t}" for t in rng.sample(range(tags), 3)),
                author=Author(f"Author {rng.randrange(authors)}"),
            )
        )
    by_feed = {
        name: dataclasses.replace(feed_template, name=name, title=f"Feed {name}", articles=tuple(items))
        for name, items in made.items()
    }
    everything = tuple(a for feed in by_feed.values() for a in feed.articles)
    by_feed["all"] = dataclasses.replace(base.feeds["all"], articles=everything)
    return dataclasses.replace(base, feeds=by_feed, filtered=filtered_feeds(by_feed))


async def measure(snapshot: Snapshot, path: str, repeats: int) -> None:
    client: TestClient = TestClient(TestServer(create_app(snapshot)))  # type: ignore[type-arg]
    await client.start_server()
    try:
        begun = time.perf_counter()
        first = await (await client.get(path)).read()
        cold = time.perf_counter() - begun
        begun = time.perf_counter()
        for _ in range(repeats):
            assert await (await client.get(path)).read() == first
        warm = (time.perf_counter() - begun) / repeats
    finally:
        await client.close()
    print(
        f"{path:<16} first {cold * 1000:8.1f} ms   cached {warm * 1000:6.2f} ms   "
        f"ratio {cold / warm:7.1f}×   {len(first) / 1024:7.1f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=5_000)
    parser.add_argument("--authors", type=int, default=500)
    parser.add_argument("--feeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    begun = time.perf_counter()
    snapshot = big_snapshot(args.articles, args.tags, args.authors, args.feeds)
    print(
        f"{args.articles:,} articles, {len(snapshot.filtered):,} tag and author feeds "
        f"(made in {time.perf_counter() - begun:.1f} s)"
    )
    for path in ("/", "/feeds/all/", "/feeds/all/?page=5"):
        asyncio.run(measure(snapshot, path, args.repeats))


if __name__ == "__main__":
    main()
