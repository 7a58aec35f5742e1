"""One immutable Snapshot of config, content and ad spaces.

Built off the event loop from the files on disk and swapped in whole, so a
request sees either the old state or the new one, never a mix. Everything that
does not depend on the request is computed here, once.

A Snapshot is derived for an instant (``as_of``): articles dated later are
``scheduled`` and kept out of every feed. ``published_at`` derives the Snapshot of
a later instant from the same files, without reading them again; the server swaps
it in at ``next_publication`` (web/schedule.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path

from syndicate.ads.checks import CallChecks, check_calls, check_partners, check_targeting
from syndicate.ads.loader import load_spaces
from syndicate.ads.model import AdSpace
from syndicate.ads.resolver import AD_TAGS
from syndicate.config import Config, load_config, read_config
from syndicate.content.bodies import BodyRenderer
from syndicate.content.diskcache import DiskCache
from syndicate.content.firstparse import parse_in_workers
from syndicate.content.index import FilterKey, SubfeedMemo, filtered_feeds, published_feeds, scheduled_articles
from syndicate.content.loader import ContentLoader, feed_folders
from syndicate.content.model import Article, Feed
from syndicate.content.parsecache import ParseCache
from syndicate.fleet.spaces import merge_shared
from syndicate.partners import Audience, key_digest
from syndicate.problems import Problem, ProblemList
from syndicate.timestamps import EPOCH

_generations = itertools.count(1)
PARSE_CACHE_DIR = "parsecache"  # under paths.data


@dataclass(frozen=True, slots=True)
class Snapshot:
    generation: int
    built_at: dt.datetime
    config: Config
    feeds: dict[str, Feed]
    problems: tuple[Problem, ...]
    shortcode_tags: frozenset[str]
    spaces: dict[str, AdSpace]
    partners_by_digest: dict[bytes, Audience]
    filtered: dict[FilterKey, Feed]  # tag and author feeds
    ads_changed: dt.datetime  # newest change to config.yaml or an ad space file
    loaded: dict[str, Feed]  # every feed as loaded, scheduled articles included
    as_of: dt.datetime  # the instant ``feeds`` are published for
    scheduled: tuple[Article, ...]  # dated after ``as_of``, soonest first: in no feed yet
    parsed: int = 0  # articles this build parsed; every other one was reused from the build before it

    @property
    def next_publication(self) -> dt.datetime | None:
        """When the next scheduled article is due, if any."""
        return self.scheduled[0].published if self.scheduled else None

    def published_at(self, moment: dt.datetime) -> Snapshot:
        """This Snapshot as of ``moment``: a new generation whose feeds hold what is published then."""
        return _derive(replace(self, generation=next(_generations)), moment)

    def feed(self, name: str, kind: str | None = None, slug: str | None = None) -> Feed | None:
        """A section, ``all``, or one of their tag/author feeds."""
        if kind is None or slug is None:
            return self.feeds.get(name)
        return self.filtered.get((name, kind, slug))

    def partner_for_key(self, key: str) -> Audience | None:
        """The partner holding ``key``; lookup is by SHA-256 digest, never by the key itself."""
        return self.partners_by_digest.get(key_digest(key))

    def audience(self, audience_id: str) -> Audience | None:
        if audience_id == self.config.public.id:
            return self.config.public
        return next((p for p in self.config.partners if p.id == audience_id), None)

    def article(self, feed: str, article_id: str) -> Article | None:
        """An article by id or slug, scheduled ones included (so they can be previewed)."""
        for article in self.loaded[feed].articles if feed in self.loaded else ():
            if article.id == article_id or article.slug == article_id:
                return article
        return None

    @property
    def article_count(self) -> int:
        return sum(len(f.articles) for name, f in self.feeds.items() if name != "all")


def _mtime(path: Path) -> dt.datetime:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError:
        return EPOCH


def body_renderer(config: Config) -> BodyRenderer:
    """The renderer every article of ``config`` goes through: its ad tags, aliases and strip_tags."""
    ad_tags = frozenset(AD_TAGS) | {alias.tag for alias in config.ads.aliases}
    return BodyRenderer(config.site.base_url, ad_tags | frozenset(config.ads.strip_tags), ad_tags)


@dataclass(slots=True)
class BuildCache:
    """What one build leaves for the next, so that a rebuild costs what changed: the parsed articles,
    the tag and author feeds of feeds that did not change, each article's ad-call warnings."""

    parses: ParseCache = field(default_factory=ParseCache)
    subfeeds: SubfeedMemo = field(default_factory=SubfeedMemo)
    calls: CallChecks = field(default_factory=CallChecks)
    persist: bool = False  # also keep the parses on disk, under paths.data, for the next start (``serve``)
    disk: DiskCache | None = None  # where they are kept, once a build has named the data folder

    def on_disk(self, config: Config) -> DiskCache | None:
        """The disk cache of ``config``'s data folder, when parses are persisted."""
        if not self.persist:
            return None
        folder = config.data_dir / PARSE_CACHE_DIR
        if self.disk is None or self.disk.folder != folder:
            self.disk = DiskCache(folder)
        return self.disk


def _derive(snapshot: Snapshot, moment: dt.datetime, cache: BuildCache | None = None) -> Snapshot:
    feeds = published_feeds(snapshot.loaded, moment)
    filtered = filtered_feeds(feeds, cache.subfeeds if cache is not None else None)
    return replace(
        snapshot,
        feeds=feeds,
        filtered=filtered,
        as_of=moment,
        scheduled=scheduled_articles(snapshot.loaded["all"].articles, moment),
    )


def build_snapshot(
    config_path: Path, now: dt.datetime | None = None, keep_going: bool = False, cache: BuildCache | None = None
) -> Snapshot:
    """Read everything from disk, published as of ``now`` (default: the current time).

    Raises ``LoadError`` when the config itself is unusable; problems in single
    articles are recorded on the Snapshot (those articles are left out).
    ``keep_going`` (for ``check``): errors in config.yaml are recorded too, and
    everything else is read with defaults in their place, so one run lists all.
    ``cache`` (the server's, kept across reloads): what did not change since its last build is
    taken from it (articles whose file and parse inputs are the same, and what derives from them)."""
    problems = ProblemList()
    if keep_going:
        config, config_problems = read_config(config_path)
        problems.extend(config_problems)
    else:
        config = load_config(config_path)
    renderer = body_renderer(config)
    tags = renderer.tags
    spaces = load_spaces(config.adspaces_dir, problems, renderer.absolute, renderer.sanitize)
    shared_files = merge_shared(config, spaces, problems, renderer.absolute, renderer.sanitize)  # files win
    check_partners(spaces, config, problems)
    parsed_before = cache.parses.parsed if cache else 0
    loader = ContentLoader(config, renderer, problems, cache.parses if cache else None)
    disk = cache.on_disk(config) if cache is not None else None
    if cache is not None and cache.parses.empty and config.feeds_dir.is_dir():
        folders = feed_folders(config.feeds_dir)
        kept = disk.load(folders, loader.inputs) if disk is not None else {}
        kept, parsed_elsewhere = parse_in_workers(config, loader.inputs, folders, kept, disk)  # a first start
        cache.parses.parsed += parsed_elsewhere
        cache.parses.seed(kept, loader.inputs)
    feeds = loader.load()
    if disk is not None and cache is not None:
        disk.save(cache.parses.kept)
    check_calls(feeds, spaces, config, problems, cache.calls if cache else None)
    check_targeting(spaces, feeds, config, problems)
    ad_files = [
        config.path,
        *(config.adspaces_dir.glob("*.y*ml") if config.adspaces_dir.is_dir() else ()),
        *shared_files,
    ]
    ads_changed = max((_mtime(p) for p in ad_files), default=EPOCH)
    built_at = dt.datetime.now(dt.UTC)
    return _derive(
        Snapshot(
            generation=next(_generations),
            built_at=built_at,
            config=config,
            feeds=feeds,
            problems=tuple(problems),
            shortcode_tags=tags,
            spaces=spaces,
            partners_by_digest={digest: p for p in config.partners for digest in p.key_digests},
            filtered={},
            ads_changed=ads_changed.replace(microsecond=0),
            loaded=feeds,
            as_of=built_at,
            scheduled=(),
            parsed=cache.parses.parsed - parsed_before if cache else sum(len(f.articles) for f in feeds.values()),
        ),
        now or built_at,
        cache,
    )
