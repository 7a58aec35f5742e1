"""The body pipeline at scale: linear in the body, and a clear error for markup nested too deeply."""

from __future__ import annotations

import pytest

from syndicate.cli import main
from syndicate.content.bodies import BodyError, BodyRenderer
from syndicate.content.nesting import MAX_DEPTH, too_deep
from syndicate.snapshot import build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article

AD = "bsa_pro_ad_space"


def renderer() -> BodyRenderer:
    return BodyRenderer("https://news.test", (AD,), (AD,))


@pytest.mark.parametrize("is_markdown", [True, False])
def test_call_lines_on_one_long_line_and_many_lines(is_markdown: bool) -> None:
    one_line = "".join(f"w{i} [{AD} id={i}] " for i in range(2000))
    body = renderer().render(one_line, is_markdown, first_line=7)
    assert [call.line for call in body.calls] == [7] * 2000
    assert [call.shortcode.attrs["id"] for call in body.calls] == [str(i) for i in range(2000)]
    lines = "".join(f"w{i}\n\n[{AD} id={i}]\n\n" for i in range(500))
    body = renderer().render(lines, is_markdown, first_line=3)
    assert [call.line for call in body.calls] == [3 + 4 * i + 2 for i in range(500)]
    assert all(call.block for call in body.calls)


def test_a_call_shares_its_line_with_text_so_it_stays_inline() -> None:
    body = renderer().render(f"<p>a</p>\n[{AD} id=1] tail\n[{AD} id=2]\n<p>x [{AD} id=3]</p>\n", False)
    assert [call.block for call in body.calls] == [False, True, False]


@pytest.mark.parametrize(
    "html",
    [
        "<ul><li>" * 5000,
        "<div>" * 5000,
        "<blockquote><div><section>" * 2000,
        "<table><tr><td>" * 2000,
    ],
)
def test_deep_nesting_is_refused(html: str) -> None:
    found = too_deep(html)
    assert found is not None and found.depth == MAX_DEPTH + 1
    with pytest.raises(BodyError, match="nests deeper than"):
        renderer().render("<p>ok</p>\n" + html, False, first_line=5)


@pytest.mark.parametrize(
    "html",
    [
        "<ul>" + "<li>item" * 20_000 + "</ul>",  # siblings with implied end tags
        "<p>para" * 20_000,
        "<dl>" + "<dt>t<dd>d" * 10_000 + "</dl>",
        "<div><span>x</span></div>" * 20_000,
        "<br><img src=a.png><hr>" * 20_000,
        ("<ul><li>" * 30 + "</ul>" * 30) * 500,  # deep, but not too deep, many times
    ],
)
def test_long_but_shallow_markup_is_accepted(html: str) -> None:
    assert too_deep(html) is None


def test_too_deep_article_is_a_check_error_naming_the_file(
    make_site: SiteFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "<p>Intro</p>\n\n" + "<ul><li>" * 3000 + "x"
    config = make_site(
        {
            "feeds/news/_feed.yaml": FEED_YAML,
            "feeds/news/deep.html": article(body=deep),
            "feeds/news/fine.md": article("Fine", body="Fine text."),
        }
    )
    snapshot = build_snapshot(config)
    assert [a.title for a in snapshot.feeds["news"].articles] == ["Fine"]
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert (
        f"feeds/news/deep.html:7: error: markup nests deeper than {MAX_DEPTH} elements; the article is skipped"
    ) in out
