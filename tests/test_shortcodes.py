"""Our own API tests for syndicate.shortcodes, plus properties checked against a regex reference.

The reference below is WordPress's own expressions (get_shortcode_regex, get_shortcode_atts_regex and the
shortcode_unautop pattern) run through Python's `re`, driven the way WordPress drives them. It is slow
(quadratic on unclosed tags) but obviously faithful, so agreement on many small random inputs is the proof
that the linear scanner reproduces WordPress.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from syndicate.shortcodes import Shortcode, find_tokens, parse, parse_atts, render, split, strip, unautop

# --- reference: WordPress's expressions, used as WordPress uses them -------------------------------------------

Handler = Callable[[dict[str, str], str, str], str]

_REF_TOKEN = re.compile(r"\[([^<>&/\[\]\x00-\x20=]++)")
_REF_ATTS = re.compile(
    r"""([\w-]+)\s*=\s*"([^"]*)"(?:\s|$)|([\w-]+)\s*=\s*'([^']*)'(?:\s|$)|([\w-]+)\s*=\s*([^\s'"]+)(?:\s|$)"""
    r"""|"([^"]*)"(?:\s|$)|'([^']*)'(?:\s|$)|(\S+)(?:\s|$)""",
    re.ASCII,
)
_REF_SPACES = r"[\r\n\t ]|\xa0|&nbsp;"


def ref_shortcode_regex(tagnames: list[str]) -> re.Pattern[str]:
    """get_shortcode_regex. Groups: 1 escape `[`, 2 name, 3 attributes, 4 slash, 5 content, 6 escape `]`."""
    return re.compile(
        r"\[(\[?)(" + "|".join(map(re.escape, tagnames)) + r")(?![\w-])"
        r"([^\]\/]*(?:\/(?!\])[^\]\/]*)*?)"
        r"(?:(\/)\]|\](?:([^\[]*+(?:\[(?!\/\2\])[^\[]*+)*+)\[\/\2\])?)"
        r"(\]?)",
        re.ASCII,
    )


def ref_valid(tag: str) -> bool:
    return bool(tag) and re.search(r"[<>&/\[\]\x00-\x20=]", tag) is None


def ref_stripcslashes(value: str) -> str:
    """PHP's php_stripcslashes, step by step, on UTF-8 bytes."""
    src, out, i = value.encode("utf-8", "surrogatepass"), bytearray(), 0
    hexdigits, simple = b"0123456789abcdefABCDEF", dict(zip(b"nratvbf", b"\n\r\a\t\v\b\f", strict=True))
    while i < len(src):
        if src[i] != 0x5C or i + 1 >= len(src):
            out.append(src[i])
            i += 1
            continue
        i += 1
        c = src[i]
        if c in simple:
            out.append(simple[c])
            i += 1
        elif c == 0x5C:
            out.append(c)
            i += 1
        elif c == ord("x") and i + 1 < len(src) and src[i + 1] in hexdigits:
            digits = src[i + 1 : i + 2]
            if i + 2 < len(src) and src[i + 2] in hexdigits:
                digits = src[i + 1 : i + 3]
            out.append(int(digits, 16))
            i += 1 + len(digits)
        else:
            j = i
            while j < len(src) and j - i < 3 and 0x30 <= src[j] <= 0x37:
                j += 1
            if j > i:
                out.append(int(src[i:j], 8) & 0xFF)
                i = j
            else:
                out.append(c)
                i += 1
    return out.decode("utf-8", "replace")


def ref_parse_atts(text: str) -> dict[str, str]:
    """shortcode_parse_atts with a PHP array: integer-like keys move the next append index."""
    atts: dict[str, str] = {}
    next_free: int | None = None

    def int_key(key: str) -> int | None:
        if re.fullmatch(r"-?[1-9][0-9]*|0", key) and -(2**63) <= int(key) < 2**63:
            return int(key)
        return None

    def put(key: str, value: str) -> None:
        nonlocal next_free
        number = int_key(key)
        if number is not None and (next_free is None or number >= next_free):
            next_free = number + 1
        atts[key] = value

    def append(value: str) -> None:
        index = 0 if next_free is None else next_free
        if index < 2**63:
            put(str(index), value)

    text = re.sub("[\xa0\u200b]+", " ", text)
    for m in _REF_ATTS.finditer(text):
        g = m.groups()
        if g[0]:
            put(g[0].lower(), ref_stripcslashes(g[1]))
        elif g[2]:
            put(g[2].lower(), ref_stripcslashes(g[3]))
        elif g[4]:
            put(g[4].lower(), ref_stripcslashes(g[5]))
        elif g[6]:
            append(ref_stripcslashes(g[6]))
        elif g[7]:
            append(ref_stripcslashes(g[7]))
        elif g[8] is not None:
            append(ref_stripcslashes(g[8]))
    for key, value in atts.items():
        if "<" in value and not re.fullmatch(r"[^<]*+(?:<[^>]*+>[^<]*+)*+", value):
            atts[key] = ""
    return atts


def _ref_active(content: str, tags: list[str]) -> list[str]:
    present = set(_REF_TOKEN.findall(content))
    seen: list[str] = []
    for tag in tags:
        if ref_valid(tag) and tag in present and tag not in seen:
            seen.append(tag)
    return seen


def ref_do_shortcode(content: str, handlers: Mapping[str, Handler]) -> str:
    if "[" not in content:
        return content
    names = _ref_active(content, list(handlers))
    if not names:
        return content

    def call(m: re.Match[str]) -> str:
        if m.group(1) == "[" and m.group(6) == "]":
            return m.group(0)[1:-1]
        tag = m.group(2)
        return m.group(1) + handlers[tag](ref_parse_atts(m.group(3)), m.group(5) or "", tag) + m.group(6)

    return ref_shortcode_regex(names).sub(call, content)


def ref_strip_shortcodes(content: str, tags: list[str]) -> str:
    if "[" not in content:
        return content
    names = _ref_active(content, tags)
    if not names:
        return content

    def drop(m: re.Match[str]) -> str:
        if m.group(1) == "[" and m.group(6) == "]":
            return m.group(0)[1:-1]
        return m.group(1) + m.group(6)

    return ref_shortcode_regex(names).sub(drop, content)


def ref_shortcode_unautop(text: str, tags: list[str]) -> str:
    names = [t for t in dict.fromkeys(tags) if ref_valid(t)]
    if not names:
        return text
    pattern = (
        "<p>(?:" + _REF_SPACES + r")*+"
        r"(\[(" + "|".join(map(re.escape, names)) + r")(?![\w-])"
        r"[^\]\/]*(?:\/(?!\])[^\]\/]*)*?"
        r"(?:\/\]|\](?:[^\[]*+(?:\[(?!\/\2\])[^\[]*+)*+\[\/\2\])?))"
        "(?:" + _REF_SPACES + r")*+<\/p>"
    )
    return re.sub(pattern, r"\1", text, flags=re.ASCII)


# --- handlers ---------------------------------------------------------------------------------------------------


def show(attrs: dict[str, str], content: str, tag: str) -> str:
    """Everything the handler was given, in order, so any difference in parsing shows in the output."""
    return "<" + tag + "|" + repr(list(attrs.items())) + "|" + content + ">"


def echo_raw_handlers(text: str, tags: list[str]) -> str:
    """Join split() with each call's raw text."""
    return "".join(p if isinstance(p, str) else p.raw for p in split(text, tags))


# --- parse ------------------------------------------------------------------------------------------------------


def test_parse_reports_offsets_and_raw() -> None:
    text = 'Hi [bsa_pro_ad_space id=3] and [box title="T"]inner[/box] end'
    calls = parse(text, ["bsa_pro_ad_space", "box"])
    assert [c.tag for c in calls] == ["bsa_pro_ad_space", "box"]
    ad, box = calls
    assert ad == Shortcode("bsa_pro_ad_space", {"id": "3"}, "", False, 3, 26, "[bsa_pro_ad_space id=3]")
    assert text[ad.start : ad.end] == ad.raw
    assert box.enclosing and box.content == "inner" and box.attrs == {"title": "T"}
    assert box.raw == '[box title="T"]inner[/box]'


def test_parse_skips_escaped_and_unregistered() -> None:
    assert parse("[[ad]] [sic] [ad-like] [ad_x]", ["ad"]) == []


def test_parse_lone_escape_bracket_is_not_part_of_the_call() -> None:
    (call,) = parse("x[[ad]y", ["ad"])
    assert (call.start, call.end, call.raw) == (2, 6, "[ad]")


def test_parse_self_closing_and_unclosed() -> None:
    a, b = parse("[ad /] [ad]", ["ad"])
    assert a.raw == "[ad /]" and not a.enclosing and a.attrs == {}
    assert b.raw == "[ad]" and not b.enclosing


def test_parse_enclosing_takes_first_closer() -> None:
    (call,) = parse("[q]a[q]b[/q]c[/q]", ["q"])
    assert call.content == "a[q]b" and call.raw == "[q]a[q]b[/q]"


def test_shortcode_is_hashable_despite_dict_attrs() -> None:
    (call,) = parse("[ad id=1]", ["ad"])
    assert call in {call}


def test_prefix_tags_need_the_longer_name_present() -> None:
    # WordPress only builds its expression from registered names that appear right after a `[`.
    assert parse("[a.b]", ["a"]) == []
    first, second = parse("[a.b] [a]", ["a", "a.b"])
    assert (first.tag, first.attrs, second.tag) == ("a", {"0": ".b"}, "a")
    (only,) = parse("[a.b]", ["a.b", "a"])
    assert only.tag == "a.b"


def test_invalid_tag_names_are_ignored() -> None:
    assert parse("[a b] [x/y]", ["a b", "x/y", "", "q=r"]) == []


# --- split / render / strip -------------------------------------------------------------------------------------


def test_split_alternates_and_unwraps_escapes() -> None:
    pieces = split("a [[ad]] b [ad n=1] c [ad]", ["ad"])
    assert pieces[0] == "a [ad] b "
    assert isinstance(pieces[1], Shortcode) and pieces[1].attrs == {"n": "1"}
    assert pieces[2] == " c "
    assert isinstance(pieces[3], Shortcode) and len(pieces) == 4


def test_split_without_shortcodes_is_one_piece() -> None:
    assert split("plain [sic] text", ["ad"]) == ["plain [sic] text"]
    assert split("", ["ad"]) == []


def test_render_calls_handlers_with_attrs_content_tag() -> None:
    seen: list[tuple[dict[str, str], str, str]] = []

    def handler(attrs: dict[str, str], content: str, tag: str) -> str:
        seen.append((attrs, content, tag))
        return "X"

    assert render('<p>[box a="1"]in[/box] [[box]]</p>', {"box": handler}) == "<p>X [box]</p>"
    assert seen == [({"a": "1"}, "in", "box")]


def test_render_passes_unregistered_brackets_through() -> None:
    text = "[sic] [ [] ]] [[ <!--[if lt IE 7]> [/ad] [ad"
    assert render(text, {"ad": show}) == text


def test_strip_removes_calls_and_content() -> None:
    assert strip("a [ad id=1] b [box]x[/box] c [[ad]] [sic]", ["ad", "box"]) == "a  b  c [ad] [sic]"


# --- unautop ----------------------------------------------------------------------------------------------------


def test_unautop_unwraps_lone_shortcodes_only() -> None:
    html = "<p>[ad id=1]</p>\n<p>text [ad]</p>\n<p>\xa0[box]x[/box]&nbsp;</p><p>[sic]</p>"
    assert unautop(html, ["ad", "box"]) == "[ad id=1]\n<p>text [ad]</p>\n[box]x[/box]<p>[sic]</p>"


def test_unautop_without_tags_or_paragraphs_is_identity() -> None:
    assert unautop("<p>[ad]</p>", []) == "<p>[ad]</p>"
    assert unautop("[ad]", ["ad"]) == "[ad]"


# --- find_tokens ------------------------------------------------------------------------------------------------


def test_find_tokens_lists_every_shortcode_like_name_with_lines() -> None:
    text = "one [ad id=1]\ntwo [unknown x]\n\nfour [[esc]] [/ad] [a.b] [bad\n"
    assert find_tokens(text) == [(1, "ad"), (2, "unknown"), (4, "esc"), (4, "a.b")]


def test_find_tokens_needs_a_closing_bracket_somewhere() -> None:
    assert find_tokens("[a [b [c") == []
    assert find_tokens("[a [b ]") == [(1, "a"), (1, "b")]


# --- parse_atts -------------------------------------------------------------------------------------------------


def test_parse_atts_php_key_rules() -> None:
    assert parse_atts("2=a b c") == {"2": "a", "3": "b", "4": "c"}
    assert parse_atts("x 0=y z") == {"0": "y", "1": "z"}
    assert parse_atts("07=a b") == {"07": "a", "0": "b"}
    assert parse_atts("KEY=v Key=w") == {"key": "w"}


def test_parse_atts_stripcslashes_and_unclosed_html() -> None:
    assert parse_atts(r'a="x\ty" b="\101\x42\q" c="\\"') == {"a": "x\ty", "b": "ABq", "c": "\\"}
    assert parse_atts(r'a="\xc3\xa9"') == {"a": "é"}
    assert parse_atts('a="<b>ok</b>" b="x<y" c="a>b"') == {"a": "<b>ok</b>", "b": "", "c": "a>b"}


def test_parse_atts_nothing_parsed_is_empty_dict() -> None:
    assert parse_atts("") == {} and parse_atts(" \t ") == {} and parse_atts('""') == {}


# --- properties -------------------------------------------------------------------------------------------------

TAGS = ["a", "ab", "a-b", "a.b", "b"]
PIECES = [
    "[", "]", "/", '"', "'", "=", " ", "a", "b", "-", ".", "x", "0", "1", "\\", "<", ">", "\n", "\xa0",
    "[a", "[ab", "[a-b", "[a.b", "[b", "[/a]", "[/ab]", "[/a.b]", "[/b]", "[[", "]]", "/]", "<p>", "</p>", "&nbsp;",
]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)
tag_orders = st.permutations(TAGS).flatmap(lambda tags: st.integers(1, len(tags)).map(lambda n: list(tags[:n])))
no_escapes = texts.filter(lambda t: "[[" not in t)


@given(st.text(max_size=200), st.lists(st.text(max_size=5), max_size=4))
def test_never_raises_on_arbitrary_text(text: str, tags: list[str]) -> None:
    parse(text, tags)
    split(text, tags)
    strip(text, tags)
    unautop(text, tags)
    render(text, dict.fromkeys(tags, show))
    find_tokens(text)
    parse_atts(text)


@settings(max_examples=300)
@given(no_escapes, tag_orders)
def test_split_with_raw_reproduces_input(text: str, tags: list[str]) -> None:
    assert echo_raw_handlers(text, tags) == text


@settings(max_examples=300)
@given(texts, tag_orders)
def test_split_joined_with_handler_output_is_render(text: str, tags: list[str]) -> None:
    handlers = dict.fromkeys(tags, show)
    joined = "".join(p if isinstance(p, str) else show(p.attrs, p.content, p.tag) for p in split(text, tags))
    assert joined == render(text, handlers)
    assert [p for p in split(text, tags) if isinstance(p, Shortcode)] == parse(text, tags)
    assert all(text[s.start : s.end] == s.raw for s in parse(text, tags))


@settings(max_examples=300)
@given(texts, tag_orders)
def test_render_with_empty_output_is_strip(text: str, tags: list[str]) -> None:
    assert render(text, dict.fromkeys(tags, lambda a, c, t: "")) == strip(text, tags)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(texts, tag_orders)
@example("[[a]x[/a]]", ["a"])
@example("[a.b] [a]", ["a", "a.b"])
@example('[a x="1"y] [a 0=q r \'\' ""]', ["a"])
@example('[[a] [b x="y"]]', ["a", "b"])
def test_render_matches_wordpress_regex(text: str, tags: list[str]) -> None:
    handlers = dict.fromkeys(tags, show)
    assert render(text, handlers) == ref_do_shortcode(text, handlers)


@settings(max_examples=500)
@given(texts, tag_orders)
def test_strip_matches_wordpress_regex(text: str, tags: list[str]) -> None:
    assert strip(text, tags) == ref_strip_shortcodes(text, tags)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(texts, tag_orders)
@example("<p>[a]</p><p>x[/a]</p>", ["a"])
@example("<p>[a.b]x[/a.b]</p>", ["a", "a.b"])
def test_unautop_matches_wordpress_regex(text: str, tags: list[str]) -> None:
    assert unautop(text, tags) == ref_shortcode_unautop(text, tags)


atts_texts = st.lists(
    st.sampled_from(['"', "'", "=", " ", "\t", "a", "B", "-", "0", "2", "x", "\\", "<", ">", "\xa0", "\u200b", "é"]),
    max_size=30,
).map("".join)


@settings(max_examples=1500)
@given(atts_texts)
@example(r"\x4")
@example("a=\\777 \\")
@example("-1=a b")
def test_parse_atts_matches_wordpress_regex(text: str) -> None:
    assert parse_atts(text) == ref_parse_atts(text)


# --- hostile input (no timing assertion: the benchmark measures time) -------------------------------------------


def test_megabyte_of_hostile_input_is_handled() -> None:
    tags = ["bsa_pro_ad_space", "box"]
    calls = "[box]" * 60_000  # no closer: every opening must not search the rest of the text again
    # After the last `]` nothing can match, however many openings follow.
    rest = "[bsa_pro_ad_space " * 17_000 + "[" * 200_000 + "\"'" * 50_000 + "<p>[box " * 12_500
    hostile = calls + rest
    assert len(hostile) > 1_000_000
    assert render(hostile, {"box": lambda a, c, t: "X", "bsa_pro_ad_space": show}) == "X" * 60_000 + rest
    assert strip(hostile, tags) == rest
    assert unautop(hostile + "]", tags) == hostile + "]"
    assert find_tokens(hostile + "]")[-1] == (1, "box")
    (call,) = parse(rest + "]", tags)  # the first opening's attributes swallow everything up to the `]`
    assert call.end == len(rest) + 1
    assert len(parse_atts("x=' " * 125_000 + '"' * 500_000)) == 2
