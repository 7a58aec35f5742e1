"""From a Snapshot and a request's parameters to the ``FeedView`` a format renders.

Here each article's body segments are joined with its shortcodes resolved for
the audience asking; nothing else about content happens per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from syndicate.ads.resolver import AdResolver, Links, window_of
from syndicate.content.model import Article, Call, Feed
from syndicate.formats.model import FeedView, ItemView
from syndicate.partners import Audience
from syndicate.snapshot import Snapshot

#: Resolves one shortcode call in one article into HTML.
Resolve = Callable[[Call, Article], str]


def resolve_nothing(call: Call, article: Article) -> str:
    return ""


def ad_resolver(snapshot: Snapshot, audience: Audience, fmt: str, moment: dt.datetime | None = None,
                links: Links | None = None) -> AdResolver:
    """The resolver for ``audience`` reading ``fmt`` in the rotation window holding ``moment`` (default: now)."""
    window = window_of(moment or dt.datetime.now(dt.UTC), snapshot.config.ads.rotation_seconds)
    return AdResolver(snapshot.spaces, snapshot.config, audience, fmt, window, links)


@dataclass(frozen=True, slots=True)
class PageRequest:
    feed: str
    format: str
    page: int = 1


class PageNotFound(LookupError):
    """The feed exists but has no such page."""


def content_html(article: Article, resolve: Resolve) -> str:
    """The article body with each shortcode call replaced by what ``resolve`` says."""
    return "".join(s if isinstance(s, str) else resolve(s, article) for s in article.body)


def item_view(article: Article, resolve: Resolve) -> ItemView:
    return ItemView(
        id=article.uid, url=article.url, title=article.title, content_html=content_html(article, resolve),
        summary=article.summary, published=article.published, updated=article.updated,
        author=article.author, tags=article.tags, image=article.image,
    )


def page_count(feed: Feed) -> int:
    return max(1, -(-len(feed.articles) // feed.items_per_page))


def feed_url(snapshot: Snapshot, feed: str, fmt: str, page: int = 1) -> str:
    base = f"{snapshot.config.server.public_url}/feeds/{feed}.{fmt}"
    return base if page == 1 else f"{base}?page={page}"


def feed_view(snapshot: Snapshot, request: PageRequest, resolve: Resolve = resolve_nothing) -> FeedView:
    feed = snapshot.feeds[request.feed]
    pages = page_count(feed)
    if not 1 <= request.page <= pages:
        raise PageNotFound(f"page {request.page} does not exist; this feed has {pages}")
    start = (request.page - 1) * feed.items_per_page
    articles = feed.articles[start:start + feed.items_per_page]
    site = snapshot.config.site
    updated = max((a.updated for a in feed.articles), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    return FeedView(
        id=f"tag:{site.host},{site.tag_date}:feeds/{feed.name}",
        title=feed.title,
        description=feed.description,
        language=feed.language,
        home_url=feed.link,
        self_url=feed_url(snapshot, feed.name, request.format, request.page),
        updated=updated,
        image=feed.image,
        items=tuple(item_view(a, resolve) for a in articles),
        author_name=site.title,
    )
