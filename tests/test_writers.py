"""The lxml feed writers against feedgen, over generated feeds: the same documents after canonicalisation."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from syndicate.content.model import Author, Image
from syndicate.formats import FORMATS
from syndicate.formats.common import rfc822
from syndicate.formats.model import FeedView, ItemView
from tests import feedgen_reference
from tests.feedcheck import check_any, strict_xml

# What XML 1.0 allows, with the characters escaping is about over-represented.
XML_CHAR = st.one_of(
    st.sampled_from("&<>\"'\r\n\t ]]> \u00a0é"),
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
)
TEXT = st.text(XML_CHAR, max_size=30)
WORD = st.text(XML_CHAR, min_size=1, max_size=20).filter(lambda s: s.strip() != "")
URL = st.builds(
    lambda path: "https://x.test/" + path.replace(" ", "%20"), st.text(st.sampled_from("abc&?=/<'\""), max_size=10)
)
ZONES = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-9, minutes=-30))])
MOMENT = st.builds(
    lambda when, zone: when.replace(tzinfo=zone),
    st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9998, 12, 31)),
    ZONES,
)
IMAGE = st.none() | st.builds(
    Image, URL.map(lambda u: u + st_suffix(u)), st.none() | st.integers(1, 900), st.none() | st.integers(1, 900)
)


def st_suffix(url: str) -> str:
    return ".jpg" if len(url) % 2 else ""


ITEM = st.builds(
    ItemView,
    id=WORD,
    url=URL,
    title=WORD,
    content_html=TEXT,
    summary=TEXT,
    published=MOMENT,
    updated=MOMENT,
    author=st.none() | st.builds(Author, WORD, st.just("") | URL),
    tags=st.lists(WORD, max_size=3).map(tuple),
    image=IMAGE,
)
VIEW = st.builds(
    FeedView,
    id=WORD,
    title=WORD,
    description=TEXT,
    language=st.sampled_from(["en", "de-AT", ""]),
    home_url=URL,
    self_url=URL,
    updated=MOMENT,
    image=IMAGE,
    items=st.lists(ITEM, max_size=4, unique_by=lambda i: i.id).map(tuple),
    hubs=st.lists(URL, max_size=2).map(tuple),
    pages=st.dictionaries(st.sampled_from(["first", "previous", "next", "last"]), URL),
    author_name=TEXT,
)


def canonical(data: bytes) -> bytes:
    return etree.tostring(strict_xml(data), method="c14n")


@settings(max_examples=100, deadline=None)
@given(VIEW)
def test_rss_and_atom_say_what_feedgen_says(view: FeedView) -> None:
    for fmt, reference in (("rss", feedgen_reference.rss), ("atom", feedgen_reference.atom)):
        ours = FORMATS[fmt].render(view)
        assert canonical(ours) == canonical(reference(view)), fmt


@settings(max_examples=25, deadline=None)
@given(VIEW)
def test_generated_feeds_are_valid(view: FeedView) -> None:
    if view.language and view.items:
        for fmt in FORMATS:
            check_any(fmt, FORMATS[fmt].render(view))


@given(MOMENT)
def test_rfc822_dates_are_english_whatever_the_locale(moment: dt.datetime) -> None:
    assert rfc822(moment) == moment.strftime("%a, %d %b %Y %H:%M:%S %z")  # the C locale tests run in
