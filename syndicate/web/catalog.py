"""What the HTML pages list: each feed, its formats, and its tag and author feeds by size.

Derived once per Snapshot (``Catalog.of``) and handed to the templates as plain data,
so a page never slices titles or kind names apart, and ``/`` stays small however many
tag and author feeds there are: it shows the largest few, and each feed's own page
lists the rest, a page at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from syndicate.content.index import AUTHORS, TAGS, slugify
from syndicate.content.model import Feed
from syndicate.formats import FORMATS
from syndicate.publish import PageRequest, page_url
from syndicate.snapshot import Snapshot

#: Tag and author feeds shown per feed on ``/``; the feed's page has all of them.
TOP = 8
#: Tag or author feeds per page of a feed's list.
PER_PAGE = 200
#: How people read each format's name.
LABELS = {"rss": "RSS", "atom": "Atom", "json": "JSON"}


@dataclass(frozen=True, slots=True)
class Link:
    """One format of one feed: ``label`` is what a person reads (RSS, Atom, JSON)."""

    label: str
    media_type: str
    url: str


@dataclass(frozen=True, slots=True)
class SubFeed:
    """A tag or author feed: the name as written in the articles, how many it holds, its links.

    Links are made when a page shows them: a site has tens of thousands of these, a page a few hundred.
    """

    parent: str
    kind: str
    slug: str
    name: str
    count: int
    linker: Callable[[PageRequest], tuple[Link, ...]] = field(repr=False, compare=False)

    @property
    def links(self) -> tuple[Link, ...]:
        return self.linker(PageRequest(self.parent, "rss", 1, self.kind, self.slug))


@dataclass(frozen=True, slots=True)
class FeedEntry:
    name: str
    title: str
    description: str
    count: int
    links: tuple[Link, ...]  # only the formats anonymous readers may read
    page: str  # the feed's own HTML page
    subfeeds: dict[str, tuple[SubFeed, ...]]  # TAGS / AUTHORS -> largest first

    def top(self, kind: str) -> tuple[SubFeed, ...]:
        return self.subfeeds[kind][:TOP]


@dataclass(frozen=True, slots=True)
class Catalog:
    feeds: tuple[FeedEntry, ...]  # "all" first, then by name
    by_name: dict[str, FeedEntry]

    @classmethod
    def of(cls, snapshot: Snapshot) -> Catalog:
        grouped: dict[str, dict[str, list[SubFeed]]] = {name: {TAGS: [], AUTHORS: []} for name in snapshot.feeds}

        def linker(page: PageRequest) -> tuple[Link, ...]:
            return _links(snapshot, page)

        for (parent, kind, slug), sub in snapshot.filtered.items():
            if parent in grouped:
                grouped[parent][kind].append(
                    SubFeed(parent, kind, slug, _name_of(sub, kind, slug), len(sub.articles), linker)
                )
        entries = []
        for name, feed in sorted(snapshot.feeds.items(), key=lambda kv: (kv[0] != "all", kv[0])):
            subfeeds = {
                kind: tuple(sorted(subs, key=lambda s: (-s.count, s.name.casefold(), s.slug)))
                for kind, subs in grouped[name].items()
            }
            entries.append(
                FeedEntry(
                    name,
                    feed.title,
                    feed.description,
                    len(feed.articles),
                    _links(snapshot, PageRequest(name, "rss")),
                    f"{snapshot.config.server.public_url}/feeds/{name}/",
                    subfeeds,
                )
            )
        return cls(tuple(entries), {entry.name: entry for entry in entries})


def _links(snapshot: Snapshot, page: PageRequest) -> tuple[Link, ...]:
    public = snapshot.config.public
    return tuple(
        Link(
            LABELS.get(fmt, fmt.upper()),
            output.media_type,
            page_url(snapshot, PageRequest(page.feed, fmt, 1, page.kind, page.slug)),
        )
        for fmt, output in FORMATS.items()
        if public.may_read(page.feed, fmt)
    )


def _name_of(sub: Feed, kind: str, slug: str) -> str:
    """The tag or author as its newest article writes it (the feed holds at least one article)."""
    newest = sub.articles[0]
    if kind == AUTHORS:
        return newest.author.name if newest.author is not None else slug
    return next((tag for tag in newest.tags if slugify(tag) == slug), slug)
