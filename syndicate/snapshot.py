"""One immutable Snapshot of config, content and ad spaces.

Built off the event loop from the files on disk and swapped in whole, so a
request sees either the old state or the new one, never a mix. Everything that
does not depend on the request is computed here, once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

from syndicate.ads.checks import check_calls, check_partners
from syndicate.ads.loader import load_spaces
from syndicate.ads.model import AdSpace
from syndicate.ads.resolver import AD_TAGS
from syndicate.config import Config, load_config
from syndicate.content.bodies import BodyRenderer
from syndicate.content.index import FilterKey, filtered_feeds
from syndicate.content.loader import ContentLoader
from syndicate.content.model import Article, Feed
from syndicate.partners import Audience, key_digest
from syndicate.problems import Problem, ProblemList

_generations = itertools.count(1)


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
        for article in self.feeds[feed].articles if feed in self.feeds else ():
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
        return dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def build_snapshot(config_path: Path) -> Snapshot:
    """Read everything from disk. Raises ``LoadError`` when the config itself is unusable;
    problems in single articles are recorded on the Snapshot (those articles are left out)."""
    config = load_config(config_path)
    problems = ProblemList()
    ad_tags = frozenset(AD_TAGS) | {alias.tag for alias in config.ads.aliases}
    tags = ad_tags | frozenset(config.ads.strip_tags)
    renderer = BodyRenderer(config.site.base_url, tags, ad_tags)
    spaces = load_spaces(config.adspaces_dir, problems, renderer.absolute, renderer.sanitize)
    check_partners(spaces, config, problems)
    feeds = ContentLoader(config, renderer, problems).load()
    check_calls(feeds["all"].articles, spaces, config, problems)
    ad_files = [config.path, *(config.adspaces_dir.glob("*.y*ml") if config.adspaces_dir.is_dir() else ())]
    ads_changed = max((_mtime(p) for p in ad_files), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    return Snapshot(
        generation=next(_generations),
        built_at=dt.datetime.now(dt.UTC),
        config=config,
        feeds=feeds,
        problems=tuple(problems),
        shortcode_tags=tags,
        spaces=spaces,
        partners_by_digest={digest: p for p in config.partners for digest in p.key_digests},
        filtered=filtered_feeds(feeds),
        ads_changed=ads_changed.replace(microsecond=0),
    )
