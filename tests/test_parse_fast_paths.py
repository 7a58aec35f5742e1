"""The body pipeline's faster steps give what the plain ones they replaced give, for any input."""

from __future__ import annotations

import os
import re
from pathlib import Path

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syndicate.content.adtags import move_out_of_links
from syndicate.content.bodies import BodyRenderer, html_text
from syndicate.files import ResolvedFolder, read_text
from syndicate.problems import ProblemList
from syndicate.textclean import clean_text

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def plain_clean_text(text: str) -> str:
    return _ILLEGAL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def plain_move_out_of_links(html: str, marker: re.Pattern[str]) -> str:
    """The single-expression scan the two-expression one replaced."""
    if "<a" not in html or marker.search(html) is None:
        return html
    scanner = re.compile(rf'<(/?)(a)(?![\w-])(?:[^"<>]++|"[^"]*+")*+>|(?P<marker>{marker.pattern})')
    out: list[str] = []
    pending: list[str] = []
    done = 0
    inside = False
    for match in scanner.finditer(html):
        if match.group("marker") is not None:
            if inside:
                out.append(html[done : match.start()])
                pending.append(match.group())
                done = match.end()
            continue
        inside = not match.group(1)
        if not inside and pending:
            out += [html[done : match.end()], *(" " + found for found in pending)]
            pending, done = [], match.end()
    out += [html[done:], *(" " + found for found in pending)]
    return "".join(out)


_CHARS = st.sampled_from(
    [
        *("a", " ", "\n", "\r", "\r\n", "\t", "\x00", "\x0b", "\x1f", "\x7f", "é", "\xa0", "“"),
        *("\ud800", "\udfff", "😀", "\ufffe", "\uffff", "\ufffd", "\x85"),
    ]
)


@given(st.lists(_CHARS, max_size=40).map("".join))
def test_clean_text_is_the_expression_it_skips(text: str) -> None:
    assert clean_text(text) == plain_clean_text(text)


MARKER = re.compile(r"SYNDSC0fN(\d+)E")
_HTML_PIECES = st.sampled_from(
    [
        '<a href="/x">',
        "<a>",
        "</a>",
        "<abbr>",
        "</abbr>",
        '<a title="<a">',
        '<img alt="<a">',
        '"',
        "<",
        ">",
        "<p>",
        "</p>",
        "text ",
        "SYNDSC0fN1E",
        "SYNDSC0fN22E",
        "SYNDSC0fN",
        "E",
        "S",
        "<a-b>",
        "</a >",
    ]
)


@given(st.lists(_HTML_PIECES, max_size=30).map("".join))
def test_moving_markers_out_of_links_scans_as_one_expression_would(html: str) -> None:
    assert move_out_of_links(html, MARKER) == plain_move_out_of_links(html, MARKER)


def test_absolute_urls_are_remembered_as_resolved() -> None:
    renderer = BodyRenderer("https://news.example.com/", (), ())
    for _ in range(2):
        assert renderer.absolute(" /world/a/ ") == "https://news.example.com/world/a/"
        assert renderer.absolute("#top") == "#top"
        assert renderer.absolute("") == ""
        assert renderer.absolute("../b?q=1") == "https://news.example.com/b?q=1"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("ok.md", "---\ntitle: T\n---\nbody é".encode(), None),
        ("bom.md", b"\xef\xbb\xbfhello", None),
        ("bad.md", b"line\n\xff\xfe", ":2: error: not valid UTF-8 (at byte offset 5); skipped"),
        ("big.md", b"x" * 65, ": error: file is 65 bytes, over the 64-byte limit; skipped"),
    ],
)
def test_reading_in_a_resolved_folder_reports_as_resolving_each_file(
    tmp_path: Path, name: str, data: bytes, message: str | None
) -> None:
    folder = tmp_path / "feeds" / "news"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(data)
    results = []
    for within in (None, ResolvedFolder.of(folder, tmp_path / "feeds")):
        problems = ProblemList()
        results.append((read_text(folder / name, tmp_path / "feeds", problems, 64, within), list(problems)))
    assert results[0] == results[1]
    text, found = results[1]
    if message is None:
        assert text == data.decode("utf-8-sig") and not found
    else:
        assert text is None and [p.format(tmp_path) for p in found] == [f"feeds/news/{name}{message}"]


def test_links_and_missing_files_in_a_resolved_folder_are_judged_as_before(tmp_path: Path) -> None:
    root = tmp_path / "feeds"
    folder = root / "news"
    folder.mkdir(parents=True)
    (tmp_path / "secret.md").write_text("outside", encoding="utf-8")
    (folder / "inside.md").write_text("inside", encoding="utf-8")
    os.symlink(tmp_path / "secret.md", folder / "out.md")
    os.symlink(folder / "inside.md", folder / "in.md")
    within = ResolvedFolder.of(folder, root)
    for name in ("out.md", "in.md", "gone.md"):
        plain, fast = ProblemList(), ProblemList()
        assert read_text(folder / name, root, plain, 100) == read_text(folder / name, root, fast, 100, within)
        assert list(plain) == list(fast)
    assert read_text(folder / "in.md", root, ProblemList(), 100, within) == "inside"


def test_a_folder_that_resolves_outside_the_root_reads_nothing_from_it(tmp_path: Path) -> None:
    root = tmp_path / "feeds"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.md").write_text("outside", encoding="utf-8")
    os.symlink(elsewhere, root / "news")
    within = ResolvedFolder.of(root / "news", root)
    problems = ProblemList()
    assert not within.inside
    assert read_text(root / "news" / "a.md", root, problems, 100, within) is None
    assert [p.message for p in problems] == ["points outside the content folder (symlink?); skipped"]


_MARKUP = st.sampled_from(
    [
        *(" ", "\n", "\xa0", "\t", "word", "é", "&amp;", "&nbsp;", "&lt;", "<p>", "</p>", "<br>", "<hr>", "<b>"),
        *("</b>", "<ul><li>", "</li>", "<table>", "<td>", "<!-- c -->", "<title>t</title>", "<meta>", "<html>"),
        *("<body>", "</body>", "<head>", "<!doctype html>", "<script>x</script>", "<a href='#'>", "</a>", "<"),
    ]
)


@given(st.lists(_MARKUP, min_size=1, max_size=25).map("".join))
def test_the_text_of_markup_is_what_a_fragment_of_it_holds(html: str) -> None:
    if not html.strip():
        return
    try:
        expected = str(lxml.html.fragment_fromstring(html, create_parent="div").text_content())
    except Exception as exc:  # what the fragment parse raises, the text raises too
        with pytest.raises(type(exc)):
            html_text(html)
        return
    assert html_text(html) == expected
