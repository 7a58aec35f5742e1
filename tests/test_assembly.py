"""Feeds assembled from cached item fragments say exactly what a whole-document render says."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.content.model import Article, Call
from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble
from syndicate.formats.model import FeedView
from syndicate.publish import PageRequest, ad_resolver, feed_header, feed_view, item_view, page_articles
from syndicate.shortcodes import Shortcode
from syndicate.snapshot import Snapshot, build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article
from tests.feedcheck import check_any, strict_xml
from tests.test_hostile_content import MALICIOUS

MOMENT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


def both(snapshot: Snapshot, page: PageRequest, audience_id: str, cache: FragmentCache) -> tuple[bytes, bytes]:
    audience = snapshot.audience(audience_id)
    assert audience is not None
    direct = FORMATS[page.format].render(
        feed_view(snapshot, page, ad_resolver(snapshot, audience, page.format, MOMENT))
    )
    assembled = assemble(
        page.format,
        feed_header(snapshot, page),
        page_articles(snapshot, page),
        ad_resolver(snapshot, audience, page.format, MOMENT),
        cache,
    )
    return direct, assembled


def same_document(fmt: str, direct: bytes, assembled: bytes) -> None:
    if fmt == "json":
        assert orjson.loads(assembled) == orjson.loads(direct)
        return
    canonical = [etree.tostring(strict_xml(doc), method="c14n") for doc in (direct, assembled)]
    assert canonical[0] == canonical[1]


@pytest.mark.parametrize("audience", ["public", "partner-a", "partner-b"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_sample_assembles_like_a_whole_render(sample: Snapshot, audience: str, fmt: str) -> None:
    cache = FragmentCache(10_000_000)
    for feed in ("world", "business", "all"):
        direct, assembled = both(sample, PageRequest(feed, fmt), audience, cache)
        same_document(fmt, direct, assembled)
        check_any(fmt, assembled)
        if fmt != "json":
            assert assembled == direct, "XML fragments keep even the bytes"


def test_hostile_bodies_assemble_like_a_whole_render(make_site: SiteFactory) -> None:
    files = {
        "feeds/news/_feed.yaml": FEED_YAML + "items_per_page: 100\n",
        "adspaces/4.yaml": "units:\n  - {id: t, type: text, url: 'https://ad.test/?a=1&b=<2>', "
        "title: 'Ad & \"co\" <b>'}\n",
    }
    for index, snippet in enumerate(MALICIOUS):
        files[f"feeds/news/{index:02d}.md"] = article(
            title=f"Case {index}", body=f"Text.\n\n{snippet}\n\n[bsa_pro_ad_space id=4] and [bsa_pro_ad_space id=4]"
        )
    snapshot = build_snapshot(make_site(files))
    cache = FragmentCache(10_000_000)
    for fmt in FORMATS:
        direct, assembled = both(snapshot, PageRequest("news", fmt), "public", cache)
        same_document(fmt, direct, assembled)


def test_new_variants_reuse_fragments(sample: Snapshot) -> None:
    cache = FragmentCache(10_000_000)
    both(sample, PageRequest("all", "rss"), "public", cache)
    written = cache.written
    assert written == 3
    both(sample, PageRequest("all", "rss"), "partner-a", cache)  # another audience: no writer run
    both(sample, PageRequest("world", "rss"), "public", cache)  # the same articles in another feed
    assert cache.written == written
    both(sample, PageRequest("all", "atom"), "public", cache)
    assert cache.written == written + 3


def test_fragment_cache_is_bounded(sample: Snapshot) -> None:
    cache = FragmentCache(3000)
    for fmt in FORMATS:
        both(sample, PageRequest("all", fmt), "public", cache)
    assert cache.bytes <= 3000 and len(cache.entries) < 9


# --- assembled against whole documents, over generated bodies and ad markup ------------------------------------------

PIECE = st.one_of(
    st.sampled_from(
        ["&", "<", ">", "\r", "\r\n", "]]>", '"', "&amp;", "<a href='x?a=1&b'>", "</p>", "\u00a0", "é", "\u2028"]
    ),
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
)
MARKUP = st.lists(PIECE, max_size=8).map("".join)


def _call(index: int) -> Call:
    raw = f"[bsa_pro_ad_space id={index}]"
    return Call(Shortcode("bsa_pro_ad_space", {"id": str(index)}, "", False, 0, len(raw), raw), index, False, 1)


@st.composite
def articles(draw: st.DrawFn) -> tuple[Article, ...]:
    out = []
    for n in range(draw(st.integers(1, 4))):
        body: list[str | Call] = []
        for part in draw(st.lists(st.one_of(MARKUP, st.none()), max_size=6)):
            body.append(_call(len([p for p in body if isinstance(p, Call)])) if part is None else part)
        published = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n)
        out.append(
            Article(
                feed="news",
                slug=f"a{n}",
                id=f"news/a{n}",
                uid=f"tag:x.test,2024:news/a{n}",
                path=Path(f"a{n}.md"),
                title=draw(MARKUP.filter(str.strip)) or "t",
                published=published,
                updated=published,
                author=None,
                tags=(),
                summary=draw(st.sampled_from(["", "s & <t>"])),
                image=None,
                url=f"https://x.test/a{n}",
                body=tuple(body),
                body_line=1,
            )
        )
    return tuple(out)


@settings(max_examples=150, deadline=None)
@given(articles(), st.lists(MARKUP, min_size=20, max_size=20), st.sampled_from(list(FORMATS)))
def test_assembled_is_the_whole_document_for_any_ad_markup(
    page: tuple[Article, ...], markup: list[str], fmt: str
) -> None:
    """Slots hold whatever a resolver returns (\\r, ]]>, entities, empty), escaped as the writer escapes text;
    an item whose text is only slots that come out empty loses its content element, as in a whole document."""

    def resolve(call: Call, article: Article) -> str:
        return markup[(call.index + len(article.slug)) % len(markup)]

    header = FeedView(
        id="tag:x.test,2024:feeds/news",
        title="News",
        description="",
        language="en",
        home_url="https://x.test/",
        self_url="https://x.test/feeds/news.rss",
        updated=page[-1].updated,
        image=None,
        items=(),
    )
    whole = FORMATS[fmt].render(replace(header, items=tuple(item_view(a, resolve) for a in page)))
    for cache in (FragmentCache(10_000_000), FragmentCache(0)):  # fragments written now, and kept
        assert assemble(fmt, header, page, resolve, cache) == whole
        assert assemble(fmt, header, page, resolve, cache) == whole


def test_a_reload_writes_only_the_items_that_changed(make_site: SiteFactory) -> None:
    """Fragments are keyed by what they are written from, so the Snapshot a reload builds reuses those of every
    article it did not change: the first render after a reload writes one item, not the page."""
    files = {"feeds/news/_feed.yaml": FEED_YAML + "items_per_page: 100\n"}
    for n in range(5):
        files[f"feeds/news/{n}.md"] = article(title=f"Story {n}", date=f"2024-05-0{n + 1}T10:00:00+00:00")
    config = make_site(files)
    cache = FragmentCache(10_000_000)
    page = PageRequest("news", "rss")
    before = build_snapshot(config)
    both(before, page, "public", cache)
    assert cache.written == 5
    (config.parent / "feeds/news/3.md").write_text(
        article(title="Story 3, updated", date="2024-05-04T10:00:00+00:00"), encoding="utf-8"
    )
    after = build_snapshot(config)
    assert after.generation != before.generation
    direct, assembled = both(after, page, "public", cache)
    assert cache.written == 6
    assert assembled == direct and b"Story 3, updated" in assembled
