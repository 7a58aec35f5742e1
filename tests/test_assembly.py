"""Feeds assembled from cached item fragments say exactly what a whole-document render says."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from lxml import etree

from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble, marker
from syndicate.publish import PageRequest, ad_resolver, feed_view, page_articles
from syndicate.snapshot import Snapshot, build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article
from tests.feedcheck import check_any, strict_xml
from tests.test_hostile_content import MALICIOUS

MOMENT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)


def both(snapshot: Snapshot, page: PageRequest, audience_id: str, cache: FragmentCache) -> tuple[bytes, bytes]:
    audience = snapshot.audience(audience_id)
    assert audience is not None
    direct = FORMATS[page.format].render(
        feed_view(snapshot, page, ad_resolver(snapshot, audience, page.format, MOMENT)))
    template = feed_view(snapshot, page, lambda call, art: marker(call.index))
    assembled = assemble(page.format, snapshot.generation, template, page_articles(snapshot, page),
                         ad_resolver(snapshot, audience, page.format, MOMENT), cache)
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
    files = {"feeds/news/_feed.yaml": FEED_YAML + "items_per_page: 100\n",
             "adspaces/4.yaml": "units:\n  - {id: t, type: text, url: 'https://ad.test/?a=1&b=<2>', "
                                "title: 'Ad & \"co\" <b>'}\n"}
    for index, snippet in enumerate(MALICIOUS):
        files[f"feeds/news/{index:02d}.md"] = article(
            title=f"Case {index}", body=f"Text.\n\n{snippet}\n\n[bsa_pro_ad_space id=4] and [bsa_pro_ad_space id=4]")
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
