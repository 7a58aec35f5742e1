"""Cross-checks between articles, ad spaces and partners, reported as problems.

Nothing here stops serving: a call that names no known space renders as nothing.
But ops should hear about it from ``syndicate check`` before readers notice.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from syndicate.ads.model import AdSpace
from syndicate.ads.resolver import AD_TAGS, BROWSER_ATTRIBUTES, USED_ATTRIBUTES, split_ids, target_of
from syndicate.config import Config, ShortcodeAlias
from syndicate.content.loader import ALL_FEED
from syndicate.content.model import Article, Feed
from syndicate.partners import PUBLIC_ID
from syndicate.problems import Problem, ProblemList


def check_calls(
    feeds: dict[str, Feed],
    spaces: dict[str, AdSpace],
    config: Config,
    problems: ProblemList,
    memo: CallChecks | None = None,
) -> None:
    """Warn about ad calls that cannot resolve, and attributes we do not understand, feed folder by feed
    folder (``all`` holds nothing they do not). With a ``memo``, a folder's articles of the last build
    checked against the same spaces and ad settings are not checked again."""
    if memo is not None:
        memo.check(feeds, spaces, config, problems)
        return
    aliases = {alias.tag: alias for alias in config.ads.aliases}
    for name, feed in feeds.items():
        for article in feed.articles if name != ALL_FEED else ():
            check_article(article, spaces, aliases, config.ads.strip_tags, problems)


def check_article(
    article: Article,
    spaces: Container[str],
    aliases: dict[str, ShortcodeAlias],
    strip_tags: Container[str],
    problems: ProblemList,
) -> None:
    for call in article.calls:
        shortcode = call.shortcode
        if shortcode.tag in aliases or shortcode.tag in strip_tags:
            target = target_of(call, aliases)
            if shortcode.tag in aliases and target is None:
                attribute = aliases[shortcode.tag].attribute
                value = shortcode.attrs.get(attribute, "")
                problems.warning(
                    article.path,
                    call.line,
                    f"[{shortcode.tag}]: no space mapped for {attribute}={value!r}; it renders as nothing",
                )
            continue
        if shortcode.tag not in AD_TAGS:
            continue
        where = f"[{shortcode.tag}]"
        ids = split_ids(shortcode.attrs.get("id", shortcode.attrs.get("0", "")))
        if not ids:
            problems.warning(article.path, call.line, f"{where}: no id attribute; it renders as nothing")
        for space_id in ids:
            if space_id not in spaces:
                problems.warning(article.path, call.line, f"{where}: no ad space {space_id!r}")
        fallback = shortcode.attrs.get("if_empty", "")
        if fallback and fallback not in spaces:
            problems.warning(article.path, call.line, f"{where}: if_empty: no ad space {fallback!r}")
        for name in shortcode.attrs:
            if name in USED_ATTRIBUTES or name.isdigit():
                continue
            if name not in BROWSER_ATTRIBUTES:
                problems.warning(article.path, call.line, f"{where}: unknown attribute {name!r} ignored")


class CallChecks:
    """Each feed folder's call warnings from the last build, while the space ids and ad settings stay: a
    folder whose articles are the very same tuple is not looked at, one with a change only article by article."""

    def __init__(self) -> None:
        self._against: tuple[frozenset[str], tuple[ShortcodeAlias, ...], tuple[str, ...]] | None = None
        self._by_feed: dict[str, _FolderCalls] = {}
        self.looked_at = 0  # articles gone through, over this memo's life

    def check(self, feeds: dict[str, Feed], spaces: dict[str, AdSpace], config: Config, problems: ProblemList) -> None:
        against = (frozenset(spaces), config.ads.aliases, config.ads.strip_tags)
        kept = self._by_feed if against == self._against else {}
        aliases = {alias.tag: alias for alias in config.ads.aliases}
        found: dict[str, _FolderCalls] = {}
        for name, feed in feeds.items():
            if name == ALL_FEED:
                continue
            prior = kept.get(name)
            if prior is None or prior.articles is not feed.articles:
                prior = self._folder(feed.articles, prior, against[0], aliases, config.ads.strip_tags)
            found[name] = prior
            problems.extend(prior.problems)
        self._against, self._by_feed = against, found

    def _folder(
        self,
        articles: tuple[Article, ...],
        prior: _FolderCalls | None,
        spaces: frozenset[str],
        aliases: dict[str, ShortcodeAlias],
        strip_tags: tuple[str, ...],
    ) -> _FolderCalls:
        kept = prior.by_article if prior is not None else {}
        by_article: dict[int, tuple[Article, tuple[Problem, ...]]] = {}
        found: list[Problem] = []
        for article in articles:
            self.looked_at += 1
            entry = kept.get(id(article))
            if entry is None or entry[0] is not article:  # the entry holds its article: its id is not reused
                local = ProblemList()
                check_article(article, spaces, aliases, strip_tags, local)
                entry = (article, tuple(local))
            by_article[id(article)] = entry
            found.extend(entry[1])
        return _FolderCalls(articles, tuple(found), by_article)


@dataclass(frozen=True, slots=True)
class _FolderCalls:
    articles: tuple[Article, ...]
    problems: tuple[Problem, ...]
    by_article: dict[int, tuple[Article, tuple[Problem, ...]]]  # by id(): articles hash slowly


def check_partners(spaces: dict[str, AdSpace], config: Config, problems: ProblemList) -> None:
    """Overrides and aliases must name spaces that exist."""
    for audience in (config.public, *config.partners):
        for space_id, override in audience.overrides.items():
            for named in (space_id, override.use):
                if named and named not in spaces:
                    problems.error(
                        config.path, override.line, f"{audience.id}: override names unknown ad space {named!r}"
                    )
    for alias in config.ads.aliases:
        for named in (*alias.spaces.values(), alias.default):
            if named and named not in spaces:
                problems.error(config.path, alias.line, f"ads.aliases.{alias.tag}: unknown ad space {named!r}")


def check_targeting(spaces: dict[str, AdSpace], feeds: dict[str, Feed], config: Config, problems: ProblemList) -> None:
    """Targeting that names a partner or feed nobody has: a typo that would silently keep an ad from
    everyone it was meant for (errors, like unknown keys)."""
    sections = {name for name in feeds if name != ALL_FEED}
    partner_ids = {PUBLIC_ID, *(p.id for p in config.partners)}
    for space in spaces.values():
        for unit in space.units:
            for partner in unit.partners:
                if partner not in partner_ids:
                    problems.error(
                        space.path,
                        unit.key_lines.get("partners", unit.line),
                        f"{unit.where}.partners: no partner {partner!r} (known: "
                        + ", ".join(sorted(partner_ids))
                        + ")",
                    )
            for feed in unit.feeds:
                if feed not in sections:
                    hint = (
                        "units target sections; 'all' spans them"
                        if feed == ALL_FEED
                        else "known: " + ", ".join(sorted(sections))
                    )
                    problems.error(
                        space.path,
                        unit.key_lines.get("feeds", unit.line),
                        f"{unit.where}.feeds: no feed {feed!r} ({hint})",
                    )
    for audience in (config.public, *config.partners):
        for feed in audience.feeds:
            if feed not in feeds:
                problems.error(
                    config.path, audience.feeds_line, f"{audience.where or audience.id}.feeds: no feed {feed!r}"
                )
