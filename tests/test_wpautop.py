"""wpautop: cases from WordPress's own phpunit suite, and the PHP function itself as the oracle."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.ingest.wpautop import wpautop

FORMATTING_PHP = Path("/usr/share/wordpress/wp-includes/formatting.php")


def test_blank_lines_make_paragraphs_and_single_newlines_breaks() -> None:
    assert wpautop("One\ntwo\n\nThree") == "<p>One<br />\ntwo</p>\n<p>Three</p>\n"


def test_empty_text_stays_empty() -> None:
    assert wpautop(" \n\t\n") == ""


def test_first_post_from_wordpress_suite() -> None:
    # WordPress tests/phpunit/tests/formatting/wpAutop.php, test_first_post (shortened).
    source = (
        "\nWelcome to WordPress!  This post contains important information.\n\nFirst things first:\n<ul>\n"
        '<li><a href="%1$s">Subscribe</a></li>\n</ul>\nAs a subscriber, you will receive an email.\n'
        "When a new version is released, log in.\nUpgrading is a couple of clicks!\n\nThanks.\n"
    )
    expected = (
        "<p>Welcome to WordPress!  This post contains important information.</p>\n<p>First things first:</p>\n"
        '<ul>\n<li><a href="%1$s">Subscribe</a></li>\n</ul>\n<p>As a subscriber, you will receive an email.'
        "<br />\nWhen a new version is released, log in.<br />\nUpgrading is a couple of clicks!</p>\n"
        "<p>Thanks.</p>\n"
    )
    assert wpautop(source) == expected


def test_pre_is_never_touched() -> None:
    # test_skip_pre_elements
    source = (
        "Look at this code\n\n<pre>Line1<br />Line2<br>Line3<br/>Line4\nActual Line 2\nActual Line 3</pre>"
        "\n\nCool, huh?"
    )
    expected = (
        "<p>Look at this code</p>\n<pre>Line1<br />Line2<br>Line3<br/>Line4\nActual Line 2\nActual Line 3"
        "</pre>\n<p>Cool, huh?</p>"
    )
    assert wpautop(source).strip() == expected
    code = "function a() {\n\n  return 1;\n}\n"
    assert wpautop(f"<pre>{code}</pre>").strip() == f"<pre>{code}</pre>"


def test_inline_inputs_and_selects_stay_one_paragraph() -> None:
    # test_skip_input_elements, test_skip_select_option_elements
    inputs = 'Username: <input type="text" name="u" /><br />Password: <input type="password" name="p" />'
    assert wpautop(inputs).strip() == f"<p>{inputs}</p>"
    select = 'Country: <select name="s"><option value="1">Alabama</option><option value="2">Alaska</option></select>'
    assert wpautop(select).strip() == f"<p>{select}</p>"


def test_source_and_track_collapse_inside_video() -> None:
    # test_source_track_elements (shortened)
    source = (
        'Paragraph one.\n\n<video controls="controls">\n\t<source type="video/mp4" src="x.mp4" />\n'
        '\t<track kind="subtitles" src="s.srt" />\n</video>\n\nParagraph two.'
    )
    expected = (
        '<p>Paragraph one.</p>\n<p><video controls="controls"><source type="video/mp4" src="x.mp4" />'
        '<track kind="subtitles" src="s.srt" /></video></p>\n<p>Paragraph two.</p>'
    )
    assert wpautop(source).strip() == expected


def test_block_tags_are_not_wrapped_and_newlines_in_tags_survive() -> None:
    source = 'Intro\n<div\nclass="x">Inside</div>\n<blockquote>Quote</blockquote>\nEnd'
    out = wpautop(source)
    assert '<div\nclass="x">' in out
    assert "<p><div" not in out
    assert "<blockquote><p>Quote</p></blockquote>" in out


def test_no_break_space_is_text_not_whitespace() -> None:
    assert wpautop("a\xa0\n\nb") == "<p>a\xa0</p>\n<p>b</p>\n"


def test_shortcode_on_its_own_line_gets_its_own_paragraph() -> None:
    assert wpautop("Intro.\n\n[bsa_pro_ad_space id=4]\n\nMore.") == (
        "<p>Intro.</p>\n<p>[bsa_pro_ad_space id=4]</p>\n<p>More.</p>\n"
    )


# -- WordPress itself as the oracle ---------------------------------------------------------------


def _php_wpautop(texts: list[str]) -> list[str]:
    script = (
        f'require "{FORMATTING_PHP}"; $in = json_decode(file_get_contents("php://stdin"));'
        'echo json_encode(array_map("wpautop", $in));'
    )
    result = subprocess.run(
        ["php", "-r", script], input=json.dumps(texts), capture_output=True, text=True, check=True, timeout=60
    )
    out: list[str] = json.loads(result.stdout)
    return out


def _need_php() -> None:
    if shutil.which("php") and FORMATTING_PHP.is_file():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("php and Debian's wordpress package are required under CI (.ci/run installs them)")
    pytest.skip("needs php and Debian's wordpress package (wp-includes/formatting.php)")


_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        "\r\n",
        " ",
        "\t",
        "\xa0",
        "text",
        "é",
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<pre>",
        "</pre>",
        "<br>",
        "<br />",
        "<br/>",
        "<ul>",
        "<li>",
        "</li>",
        "</ul>",
        "<blockquote>",
        "</blockquote>",
        "<hr>",
        "<hr />",
        "<b>",
        "</b>",
        '<a href="x">',
        "</a>",
        "<!-- c -->",
        "<!-- wp:paragraph -->",
        "[caption]",
        "[bsa_pro_ad_space id=4]",
        "<figure>",
        "<figcaption>",
        "</figcaption>",
        "</figure>",
        "<option>",
        "</option>",
        "<object>",
        "</object>",
        "<param>",
        "<video>",
        "<source>",
        "</video>",
        "<script>",
        "</script>",
        "<h2>",
        "</h2>",
        "<table>",
        "<td>",
        "</table>",
        "<input\n/>",
        "<",
        ">",
        "&amp;",
    ]
)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=30).map("".join), min_size=300, max_size=300))
def test_matches_php_wpautop_byte_for_byte(texts: list[str]) -> None:
    _need_php()
    expected = _php_wpautop(texts)
    mismatches = [(t, wpautop(t), e) for t, e in zip(texts, expected, strict=True) if wpautop(t) != e]
    assert not mismatches, mismatches[:3]


def test_matches_php_on_the_suite_cases() -> None:
    _need_php()
    cases = [
        "One\ntwo\n\nThree",
        "a\xa0\n\nb",
        "<pre>x\n\ny</pre>\n\nz",
        "x</pre>y<pre>z</pre>",
        "Hi <!-- a\nb --> there\n\nYes",
        "<div>text</div>",
        "<p>one</p><p>two</p>",
        "<select><option>1</option>\n<option>2</option></select>",
        "<svg>\n<g/>\n</svg>\nx",
    ]
    assert [wpautop(c) for c in cases] == _php_wpautop(cases)
