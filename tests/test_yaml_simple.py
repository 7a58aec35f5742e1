"""The line-by-line reader of plain front matter gives what the full YAML parser gives, or leaves it to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from syndicate.yamlfile import YList, YMap, _Converter, load_yaml, read_simple

PATH = Path("feeds/news/a.md")


def full_parse(text: str, offset: int) -> Any:
    """``load_yaml`` without the line-by-line reader: libyaml's nodes, converted."""
    node = yaml.compose(text, Loader=yaml.CSafeLoader)
    return None if node is None else _Converter(PATH, offset).convert(node)


def same(a: Any, b: Any) -> None:
    assert type(a) is type(b) and a == b
    if isinstance(a, YMap):
        assert (a.line, a.key_lines) == (b.line, b.key_lines)
        for key in a:
            same(a[key], b[key])
    if isinstance(a, YList):
        assert (a.line, a.item_lines) == (b.line, b.item_lines)
        for x, y in zip(a, b, strict=True):
            same(x, y)


KEYS = st.sampled_from(["title", "date", "tags", "a-b", "_x", "yes", "on", "No", "null", "y", "9a", "x y", "<<"])
SCALARS = st.sampled_from(
    [
        *("Plain words", "é “quoted” — dash", "yes", "No", "off", "true", "1", "01", "0", "-1", "1.5", "0x1F"),
        *("1_000", "1:20", "~", "null", "2024-05-01", "2024-05-01T10:00:00+03:00", "a: b", "a #b", "#c", "a#b"),
        *("'q''s'", "'bad", "'a' b", "''", "'#: x'", '"dq"', '"a\\nb"', '"a"b"', '""', "[a, b]", "[]", "[a, [b]]"),
        *("[a,]", "[1, 2]", "[yes, no]", "['a', b]", "[a: b]", "&anc x", "*ref", "|", ">", "-", "- x", "x:"),
        *("x :y", "  spaced  ", "a,b", "{a: 1}", "a{b}", "%x", "@x", "`x`", "!x", "?x", ":x", "http://x/y?z=1"),
        *("a  b", "=", "<<", ".inf", ".5", "+1", "1e3", "Y", "n", "~x", "a\tb", "\x85", "\u2028", "\ufeff"),
    ]
)


PLAIN = st.sampled_from(["Plain words", "é “q” — d", "x", "1200", "/about/", "'it''s'", '"dq"', "a, b [c]"])
VALUES = st.one_of(PLAIN, PLAIN, SCALARS)  # mostly what the simple reader reads, so both paths are compared


CLEAN_KEYS = st.sampled_from(["title", "tags", "author", "a-b", "_x", "url"])


@st.composite
def documents(draw: st.DrawFn, clean: bool = False) -> str:
    """Front matter in and around the simple subset; ``clean``: only what the simple reader reads."""
    lines = []
    keys, values = (CLEAN_KEYS, PLAIN) if clean else (st.one_of(CLEAN_KEYS, KEYS), VALUES)
    shapes = ["scalar", "list", "map"] if clean else ["scalar", "list", "map"] * 2 + ["empty", "junk"]
    for _ in range(draw(st.integers(0, 5))):
        key = draw(keys)
        shape = draw(st.sampled_from(shapes))
        space = draw(st.sampled_from([" ", "  "] if clean else [" ", " ", " ", "  ", ""]))
        if shape == "scalar":
            lines.append(f"{key}:{space}{draw(values)}")
            continue
        if shape == "junk":
            lines.append(draw(st.sampled_from(["", "# note", "  indented: x", "---", "...", " ", "key", "- item"])))
            continue
        lines.append(f"{key}:" + draw(st.sampled_from(["", " "])))
        indent = " " * draw(st.sampled_from([1, 2, 4] if clean and shape == "map" else [0, 0, 1, 2, 4]))
        for n in range(draw(st.integers(0, 3))):
            if shape == "list":
                lines.append(f"{indent}- {draw(values)}")
            elif shape == "map":
                deeper = " " if n and not clean and draw(st.booleans()) and draw(st.booleans()) else ""
                lines.append(f"{indent}{deeper}{draw(keys)}: {draw(values)}")
    return "\n".join(lines) + draw(st.sampled_from(["\n", "\n", "", "\n\n"]))


@given(st.one_of(documents(), documents(clean=True)), st.integers(0, 3))
@example("title: T\nauthor:\n  name: Ann\n  url: /about/\ntags:\n- Trade\n- Ports\nimage:\n  width: 1200\n", 1)
def test_what_the_simple_reader_reads_is_what_yaml_reads(text: str, offset: int) -> None:
    simple = read_simple(text, offset)
    if simple is None:
        return
    same(simple, full_parse(text, offset))
    same(load_yaml(text, PATH, offset), simple)


def test_generated_front_matter_takes_the_simple_reader() -> None:
    text = (
        "title: Minister talks “trade” deal\ndate: '2024-01-01T00:00:00+03:00'\nauthor:\n  name: Ann Author\n"
        "  url: /about/\ntags:\n- Politics\n- Trade\nimage:\n  url: /images/a.jpg\n  width: 1200\n  height: 675\n"
        "  alt: Minister\nsummary: It's [news], a, b\nkeywords: [one, two]\n"
    )
    simple = read_simple(text, 1)
    assert simple is not None
    assert simple["image"]["width"] == 1200 and simple["keywords"] == ["one", "two"]
    same(simple, full_parse(text, 1))


def test_dates_comments_and_blank_lines_are_left_to_yaml() -> None:
    for text in ("date: 2024-05-01\n", "title: T\n\ntags: [a]\n", "title: T # note\n", "a: |\n  block\n"):
        assert read_simple(text) is None
