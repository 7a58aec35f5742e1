"""A derived summary collapses only the start of a body's text: it must equal the summary of all of it."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from syndicate.content.bodies import BodyRenderer, collapse_spaces, summarize
from syndicate.content.model import Call
from syndicate.shortcodes import Shortcode

RENDERER = BodyRenderer("https://news.test", {"bsa_pro_ad_space"}, {"bsa_pro_ad_space"})
_pieces = st.sampled_from(
    ["word", "longerword", " ", "  ", "\n", "\t", "\xa0", "<p>", "</p>", "<b>x</b>", "&amp;", "“q”", "\n\n   \n", ""]
)
_text = st.lists(_pieces, max_size=400).map("".join)
_call = st.builds(
    lambda text: Call(Shortcode("bsa_pro_ad_space", {"id": "4"}, "", False, 0, 0, ""), 0, False, 1, text),
    st.sampled_from(["", "enclosed words", "  spaced  "]),
)


@settings(max_examples=300, deadline=None)
@example(["x" * 10 + " " * 100], 10)  # the start collapses to limit + 1 characters, the rest is only spaces
@given(st.lists(st.one_of(_text, _call), max_size=6), st.integers(1, 300))
def test_a_summary_equals_the_summary_of_the_whole_plain_text(segments: list[str | Call], limit: int) -> None:
    assert RENDERER.summary(segments, limit) == summarize(RENDERER.plain_text(segments), limit)


def test_a_long_body_is_cut_at_a_word() -> None:
    body = ["<p>" + "  ".join(f"word{n}" for n in range(500)) + "</p>"]
    summary = RENDERER.summary(body)
    assert summary.startswith("word0 word1 word2") and summary.endswith("…") and len(summary) <= 281


@settings(max_examples=500, deadline=None)
@example([" "] * 1025)  # a long run: several passes
@given(st.lists(st.sampled_from([" ", "  ", "\t", "\n", "\f", "\r", "\xa0", "\u2003", "a", "“b”"]), max_size=80))
def test_collapsing_spaces_makes_every_run_of_html_space_one_space(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert collapse_spaces(text) == re.sub(r"[ \t\n\f\r]+", " ", text)
