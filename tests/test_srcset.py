"""srcset read as the HTML standard reads it: URLs run until whitespace, trailing commas separate."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syndicate.content.bodies import BodyRenderer
from syndicate.content.srcset import Candidate, parse_srcset, rewrite_srcset


def sanitised(html: str) -> str:
    return BodyRenderer("https://news.test", (), ()).sanitize(html)


def test_comma_inside_a_cdn_url_is_part_of_the_url() -> None:
    html = sanitised('<img src="a.jpg" srcset="https://cdn.example.com/w_300,h_200/a.jpg 1x" alt="">')
    assert 'srcset="https://cdn.example.com/w_300,h_200/a.jpg 1x"' in html


def test_several_cdn_candidates_and_relative_ones() -> None:
    html = sanitised(
        '<img src="a.jpg" alt="" srcset="https://cdn.test/w_300,h_200/a.jpg 300w,'
        'https://cdn.test/w_600,h_400/a.jpg 600w, /b.jpg, /c.jpg 2x">'
    )
    assert (
        'srcset="https://cdn.test/w_300,h_200/a.jpg 300w, https://cdn.test/w_600,h_400/a.jpg 600w, '
        'https://news.test/b.jpg, https://news.test/c.jpg 2x"'
    ) in html


def test_spec_examples() -> None:
    assert parse_srcset("image1.png 1x, image2.png 2x") == [
        Candidate("image1.png", ("1x",)),
        Candidate("image2.png", ("2x",)),
    ]
    assert parse_srcset("a.png, b.png 2x") == [Candidate("a.png", ()), Candidate("b.png", ("2x",))]
    assert parse_srcset("a.png,b.png 2x") == [Candidate("a.png,b.png", ("2x",))]  # no space: one URL
    assert parse_srcset(" ,, a.png,,, ") == [Candidate("a.png", ())]
    assert parse_srcset("data:image/png;base64,iVBORw0KGgo= 1x") == [
        Candidate("data:image/png;base64,iVBORw0KGgo=", ("1x",))
    ]
    # Descriptors the standard rejects drop their candidate, not the rest.
    assert parse_srcset("a.png 1x 2x, b.png 100w, c.png 100h, d.png 1x 100w, e.png 0w, f.png 100w 50h") == [
        Candidate("b.png", ("100w",)),
        Candidate("f.png", ("100w", "50h")),
    ]
    assert parse_srcset("a.png foo(1, 2) , b.png 1x") == [Candidate("b.png", ("1x",))]


def test_unsafe_candidates_are_dropped_alone() -> None:
    html = sanitised('<img src="a.jpg" alt="" srcset="javascript:alert(1) 1x, /ok,1.png 2x">')
    assert 'srcset="https://news.test/ok,1.png 2x"' in html
    assert rewrite_srcset("javascript:x 1x", lambda url: None) is None


_url = st.text(st.characters(blacklist_characters=" \t\n\r\f", blacklist_categories=["Cs"]), min_size=1).filter(
    lambda u: not u.startswith(",") and not u.endswith(",")
)
_descriptor = st.one_of(
    st.just(()),
    st.integers(1, 10_000).map(lambda n: (f"{n}w",)),
    st.floats(0, 10, allow_nan=False).map(lambda x: (f"{x}x",)),
    st.tuples(st.integers(1, 5000), st.integers(1, 5000)).map(lambda p: (f"{p[0]}w", f"{p[1]}h")),
)
_candidates = st.lists(st.builds(Candidate, _url, _descriptor), max_size=6)


@given(_candidates, st.sampled_from([", ", ",\t", " ,\n ", ",, "]))
def test_serialised_candidates_parse_back(candidates: list[Candidate], separator: str) -> None:
    # A candidate without descriptors ends at a comma right after its URL.
    text = separator.join(str(c) if c.descriptors else f"{c.url}," for c in candidates)
    assert parse_srcset(text) == candidates


@given(st.text(max_size=80))
def test_rewriting_is_stable(text: str) -> None:
    once = rewrite_srcset(text, lambda url: url)
    assert once is None or rewrite_srcset(once, lambda url: url) == once
    for candidate in parse_srcset(text):
        assert candidate.url and not any(c in " \t\n\r\f" for c in candidate.url)
        assert not candidate.url.endswith(",")
