"""Long fuzz runs (``pytest --run-slow``): the shortcode scanner and the body pipeline on
many thousands of generated inputs. CI skips them; the quick versions run everywhere."""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate import shortcodes
from syndicate.content.bodies import BodyRenderer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20000"))
PIECES = st.sampled_from(
    [
        *"[]/=\"' ab\n<>&;\\",
        "[bsa_pro_ad_space",
        "[/bsa_pro_ad_space]",
        "[sic]",
        "id=4",
        "[[",
        "]]",
        "&nbsp;",
        "\xa0",
        "<p>",
        "</p>",
        "<script>",
        "]]>",
        "\x00",
        "🧨",
        "\u202e",
    ]
)
TEXT = st.lists(PIECES, max_size=200).map("".join)
RAW_AD_TAG = re.compile(r"\[/?bsa_pro_ad_space(?![\w-])")


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT)
def test_scanner_round_trips_and_never_raises(text: str) -> None:
    parts = shortcodes.split(text, ["bsa_pro_ad_space", "sic"])
    joined = "".join(p if isinstance(p, str) else p.raw for p in parts)
    if "[[" not in text and "]]" not in text:
        assert joined == text
    shortcodes.render(text, {"bsa_pro_ad_space": lambda a, c, t: "", "sic": lambda a, c, t: "S"})
    shortcodes.strip(text, ["bsa_pro_ad_space"])
    shortcodes.find_tokens(text)


@pytest.mark.slow
@settings(max_examples=EXAMPLES // 4, deadline=None, suppress_health_check=list(HealthCheck))
@given(TEXT, st.booleans())
def test_pipeline_output_is_always_safe(text: str, markdown: bool) -> None:
    renderer = BodyRenderer("https://news.test", {"bsa_pro_ad_space"}, {"bsa_pro_ad_space"})
    body = renderer.render(text, markdown)
    html = "".join(s for s in body.segments if isinstance(s, str))
    assert not RAW_AD_TAG.search(html)
    assert "<script" not in html.lower() and "\x00" not in html
