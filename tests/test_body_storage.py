"""An article's body reads, compares and hashes as the segments it was made of, however it is kept."""

from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from syndicate.content.model import Article, Body, Call, Segment
from syndicate.shortcodes import Shortcode, parse

_CALL = Call(Shortcode("ad", {"id": "4"}, "", False, 0, 11, "[ad id=4]"), 0, True, 3)
#: Any text: ASCII, Latin-1, typographic quotes, astral characters, lone surrogates.
_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()))
_SEGMENTS = st.lists(st.one_of(_TEXT, st.just(_CALL)), max_size=6).map(tuple)


def _article(body: tuple[Segment, ...]) -> Article:
    moment = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return Article(
        feed="news",
        slug="a",
        id="news/a",
        uid="tag:news.test,2020:news/a",
        path=Path("feeds/news/a.md"),
        title="A",
        published=moment,
        updated=moment,
        author=None,
        tags=(),
        summary="",
        image=None,
        url="https://news.test/a/",
        body=body,
        body_line=5,
    )


@given(_SEGMENTS)
def test_a_body_reads_as_its_segments(segments: tuple[Segment, ...]) -> None:
    body = Body(segments)
    assert tuple(body) == segments
    assert len(body) == len(segments)
    assert [body[i] for i in range(len(body))] == list(segments)
    assert body[1:] == segments[1:]
    assert all(type(part) is str for part in body if not isinstance(part, Call))
    assert body.calls == tuple(part for part in segments if isinstance(part, Call))


@given(_SEGMENTS, _SEGMENTS)
def test_bodies_compare_and_hash_as_their_segments(first: tuple[Segment, ...], second: tuple[Segment, ...]) -> None:
    assert (Body(first) == Body(second)) == (first == second)
    assert Body(first) == first
    assert hash(Body(first)) == hash(first)
    assert pickle.loads(pickle.dumps(Body(first))) == Body(first)


@given(_SEGMENTS)
def test_a_body_rebuilt_from_its_parts_is_the_same_body(segments: tuple[Segment, ...]) -> None:
    body = Body(segments)
    again = Body.of_parts(body.parts)
    assert again == body and tuple(again) == segments and hash(again) == hash(body)
    assert Body.of_parts(segments) == body  # parts given as plain text are kept as a new body keeps them


def test_an_article_keeps_any_sequence_given_as_a_body() -> None:
    text = "<p>“Quoted” text, 10\u00a0€, 😀.</p>"
    article = _article((text, _CALL, "<p>after</p>"))
    assert isinstance(article.body, Body)
    assert tuple(article.body) == (text, _CALL, "<p>after</p>")
    assert article.calls == (_CALL,)
    twin = replace(article, body=list(article.body))
    assert twin == article and hash(twin) == hash(article)
    assert replace(article, body=(text + ".",)) != article


def test_equal_calls_of_different_articles_share_their_attributes() -> None:
    first, second = parse("x [ad id=4 size=big] y", {"ad"}), parse("longer text [ad id=4 size=big]", {"ad"})
    one = Call(first[0], 0, False, 1)
    other = Call(second[0], 0, False, 7)
    assert one.shortcode.attrs == {"id": "4", "size": "big"}
    assert one.shortcode.attrs is other.shortcode.attrs
    assert one.shortcode.raw is other.shortcode.raw
    assert (one.shortcode.start, other.shortcode.start) == (2, 12)
    assert one.shortcode == first[0]
