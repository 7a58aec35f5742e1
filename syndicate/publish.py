"""From a Snapshot and a request's parameters to the ``FeedView`` a format renders.

Here each article's body segments are joined with its shortcodes resolved for
the audience asking; nothing else about content happens per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from html import escape
from urllib.parse import quote

from syndicate.ads.caps import CapView
from syndicate.ads.resolver import AdResolver, Links, window_of
from syndicate.ads.slotcache import SlotCache
from syndicate.content.model import Article, Call, Feed
from syndicate.formats.assembly import item_of
from syndicate.formats.model import FeedView, ItemView
from syndicate.partners import Audience
from syndicate.snapshot import Snapshot
from syndicate.timestamps import EPOCH

#: Resolves one shortcode call in one article into HTML.
Resolve = Callable[[Call, Article], str]


def resolve_nothing(call: Call, article: Article) -> str:
    """No ads; a call's enclosed text is article text and stays."""
    return escape(call.text)


def ad_resolver(
    snapshot: Snapshot,
    audience: Audience,
    fmt: str,
    moment: dt.datetime | None = None,
    links: Links | None = None,
    caps: CapView | None = None,
    memo: SlotCache | None = None,
) -> AdResolver:
    """The resolver for ``audience`` reading ``fmt`` in the rotation window holding ``moment`` (default: now),
    judging caps on ``caps`` (the counts frozen for that window; None: caps are not applied), keeping what it
    resolves in ``memo`` for later renders (None: nothing kept)."""
    window = window_of(moment or dt.datetime.now(dt.UTC), snapshot.config.ads.rotation_seconds)
    return AdResolver(snapshot.spaces, snapshot.config, audience, fmt, window, links, caps, memo)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One page of one feed as asked for. Part of the variant cache key, so everything that changes
    the bytes is here: a partner that sent its key in the query gets it back in every feed link."""

    feed: str
    format: str
    page: int = 1
    kind: str | None = None  # TAGS or AUTHORS for a derived feed
    slug: str | None = None
    key: str | None = field(default=None, repr=False)  # the partner key, when it came as ?key= (never logged)
    spelled: tuple[str, ...] = ()  # "key" and "page" in the order the request gave them: self is what was asked

    @property
    def path(self) -> str:
        """The feed's URL path without extension: /feeds/world or /feeds/world/tags/belarus."""
        if self.kind and self.slug:
            return f"/feeds/{self.feed}/{self.kind}/{quote(self.slug)}"
        return f"/feeds/{self.feed}"


class PageNotFound(LookupError):
    """The feed exists but has no such page."""


def content_html(article: Article, resolve: Resolve) -> str:
    """The article body with each shortcode call replaced by what ``resolve`` says."""
    return "".join(s if isinstance(s, str) else resolve(s, article) for s in article.body)


def item_view(article: Article, resolve: Resolve) -> ItemView:
    return item_of(article, content_html(article, resolve))


def page_count(feed: Feed) -> int:
    return max(1, -(-len(feed.articles) // feed.items_per_page))


def feed_url(snapshot: Snapshot, feed: str, fmt: str, page: int = 1) -> str:
    return page_url(snapshot, PageRequest(feed, fmt, page))


def page_url(snapshot: Snapshot, request: PageRequest, page: int | None = None) -> str:
    """The absolute URL of ``request`` as it was asked for, or of another of its pages.

    A key that came in the query stays in every link (a partner that follows ``next`` stays on its
    variant); a Bearer key never appears. Other pages are spelled ``?key=…&page=N``, page 1 without.
    """
    base = f"{snapshot.config.server.public_url}{request.path}.{request.format}"
    if page is None and request.spelled:
        names = request.spelled
        page = request.page
    else:
        page = request.page if page is None else page
        names = ("key", "page") if page != 1 else ("key",)
    values = {"key": request.key, "page": str(page)}
    query = "&".join(f"{name}={quote(value, safe='')}" for name in names if (value := values[name]) is not None)
    return f"{base}?{query}" if query else base


def paging_links(snapshot: Snapshot, request: PageRequest, pages: int) -> dict[str, str]:
    """RFC 5005 paged-feed links; a one-page feed has none."""
    if pages == 1:
        return {}
    links = {"first": page_url(snapshot, request, 1), "last": page_url(snapshot, request, pages)}
    if request.page > 1:
        links["previous"] = page_url(snapshot, request, request.page - 1)
    if request.page < pages:
        links["next"] = page_url(snapshot, request, request.page + 1)
    return links


def feed_of(snapshot: Snapshot, request: PageRequest) -> Feed:
    feed = snapshot.feed(request.feed, request.kind, request.slug)
    if feed is None:
        raise LookupError(f"unknown feed {request.path.removeprefix('/feeds/')!r}")
    return feed


def page_articles(snapshot: Snapshot, request: PageRequest) -> tuple[Article, ...]:
    """The articles on the requested page; ``PageNotFound`` when it is out of range."""
    feed = feed_of(snapshot, request)
    pages = page_count(feed)
    if not 1 <= request.page <= pages:
        raise PageNotFound(f"page {request.page} does not exist; this feed has {pages}")
    start = (request.page - 1) * feed.items_per_page
    return feed.articles[start : start + feed.items_per_page]


def feed_header(snapshot: Snapshot, request: PageRequest) -> FeedView:
    """The page's ``FeedView`` without its items. Raises like ``feed_view``."""
    feed = feed_of(snapshot, request)
    pages = page_count(feed)
    if not 1 <= request.page <= pages:
        raise PageNotFound(f"page {request.page} does not exist; this feed has {pages}")
    site = snapshot.config.site
    return FeedView(
        id=f"tag:{site.host},{site.tag_date}:{request.path.lstrip('/')}",
        title=feed.title,
        description=feed.description,
        language=feed.language,
        home_url=feed.link,
        self_url=page_url(snapshot, request),
        updated=feed_updated(feed),
        image=feed.image,
        items=(),
        hubs=snapshot.config.http.hubs,
        pages=paging_links(snapshot, request, pages),
        author_name=site.title,
    )


def feed_view(snapshot: Snapshot, request: PageRequest, resolve: Resolve = resolve_nothing) -> FeedView:
    """Raises ``LookupError`` for an unknown feed and ``PageNotFound`` for a page out of range."""
    header = feed_header(snapshot, request)
    return replace(header, items=tuple(item_view(a, resolve) for a in page_articles(snapshot, request)))


def feed_updated(feed: Feed) -> dt.datetime:
    """The newest item change: the feed's own ``updated``, never the build time, for stable bytes."""
    return feed.updated or EPOCH
