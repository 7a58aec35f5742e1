"""`syndicate import wordpress` on hand-made exports: the mapping, the report, bad input, idempotence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.cli import main
from syndicate.config import load_config
from syndicate.ingest.importer import run_import
from syndicate.ingest.wordpress import remove_block_comments, wordpress_body
from syndicate.ingest.writer import article_text
from syndicate.ingest.wxr import ExportError, read_export
from syndicate.problems import Level
from syndicate.snapshot import build_snapshot
from tests.conftest import DATA, SiteFactory

SMALL = DATA / "wordpress" / "small.xml"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_small_export_maps_every_field(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site()
    assert main(["import", "wordpress", str(SMALL), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "1 imported, 0 updated, 0 unchanged"
    assert "skipped: 1 attachment, 1 menu item, 1 page (use --pages), 1 revision, 1 status draft" in out
    assert "shortcode [bsa_pro_ad_space]: 1\n" in out
    assert "shortcode [gallery]: 1  (not handled" in out
    snapshot = build_snapshot(config)
    assert [p for p in snapshot.problems if p.level is Level.ERROR] == []
    article = snapshot.feeds["wordpress"].articles[0]
    assert article.path.name == "wp-11-first.html"
    assert article.title == "Q&A: the first post"
    assert article.published == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)  # post_date_gmt, not the local 13:00
    assert article.updated == dt.datetime(2024, 5, 3, 10, tzinfo=dt.UTC)
    assert article.id == "wp-11"
    assert article.author is not None and article.author.name == "Jane Doe"
    assert article.tags == ("News", "Q&A")
    assert article.summary == "A short summary."
    assert article.image is not None and article.image.url == "https://small.test/wp-content/uploads/first.jpg"
    assert (article.image.width, article.image.height, article.image.alt) == (800, 600, "A first photo")
    assert article.url == "https://small.test/2024/05/first/"
    text = "".join(part for part in article.body if isinstance(part, str))
    assert "<p>Hello " in text and "<br>\nSecond line.</p>" in text
    assert [call.shortcode.tag for call in article.calls] == ["bsa_pro_ad_space"]
    assert (config.parent / "feeds" / "wordpress" / "_feed.yaml").read_text().startswith("title: Small Site\n")


def test_control_characters_wordpress_wrote_raw_are_dropped_not_fatal(make_site: SiteFactory, tmp_path: Path) -> None:
    """WordPress writes a post's text into CDATA as it is, so a vertical tab or other control character
    pasted from a word processor lands raw in the export: that character goes, the post (and site) import."""
    export = tmp_path / "pasted.xml"
    export.write_bytes(SMALL.read_bytes().replace(b"Second line.", b"Second\x0b line\x01 pasted.", 1))
    config = load_config(make_site())
    report = run_import(config, export)
    assert report.outcomes["imported"] == 1
    text = (config.feeds_dir / "wordpress" / "wp-11-first.html").read_text(encoding="utf-8")
    assert "<br />\nSecond line pasted.</p>" in text
    assert not [p for p in build_snapshot(config.path).problems if p.level is Level.ERROR]


def test_titles_tags_and_excerpts_keep_their_non_breaking_and_repeated_spaces(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    """WordPress's own feed keeps a title's ``&nbsp;`` and runs of spaces; so does the import (all text byte
    for byte): only the markup goes, and the spaces at either end."""
    export = tmp_path / "spaces.xml"
    export.write_bytes(
        SMALL.read_bytes()
        .replace(
            b"<![CDATA[Q&amp;A: the <em>first</em> post]]>",
            b"<![CDATA[ 10&nbsp;km \xc2\xa0run:  the <em>first</em> post ]]>",
            1,
        )
        .replace(b"<![CDATA[A <b>short</b> summary.]]>", b"<![CDATA[A&nbsp;<b>short</b>  summary.]]>", 1)
    )
    config = load_config(make_site())
    run_import(config, export)
    (article,) = build_snapshot(config.path).feeds["wordpress"].articles
    assert article.title == "10\xa0km \xa0run:  the first post"
    assert article.summary == "A\xa0short  summary."


def test_pages_only_with_the_flag(make_site: SiteFactory) -> None:
    config = load_config(make_site())
    report = run_import(config, SMALL, pages=True)
    assert report.outcomes["imported"] == 2
    about = (config.feeds_dir / "wordpress" / "wp-16-about.html").read_text()
    assert "<!--" not in about and "<p>About <strong>us</strong>.</p>" in about


def test_second_import_changes_no_byte_and_a_changed_post_updates_its_file(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    config = load_config(make_site())
    run_import(config, SMALL)
    before = _files(config.feeds_dir)
    mtimes = {p: p.stat().st_mtime_ns for p in config.feeds_dir.rglob("*")}
    again = run_import(config, SMALL)
    assert dict(again.outcomes) == {"unchanged": 1}
    assert _files(config.feeds_dir) == before
    assert {p: p.stat().st_mtime_ns for p in config.feeds_dir.rglob("*")} == mtimes
    changed = tmp_path / "changed.xml"
    changed.write_text(SMALL.read_text().replace("Second line.", "Second line, edited."))
    assert dict(run_import(config, changed).outcomes) == {"updated": 1}
    assert "Second line, edited." in (config.feeds_dir / "wordpress" / "wp-11-first.html").read_text()


def test_a_post_gone_from_the_export_is_reported_and_kept(make_site: SiteFactory, tmp_path: Path) -> None:
    config = load_config(make_site())
    run_import(config, SMALL, pages=True)
    fewer = tmp_path / "fewer.xml"
    text = SMALL.read_text()
    start = text.index("\t<item>\n\t\t<title><![CDATA[About]]>")
    fewer.write_text(text[:start] + text[text.index("</item>", start) + len("</item>") :])
    report = run_import(config, fewer, pages=True)
    assert [p.name for p in report.missing] == ["wp-16-about.html"]
    assert (config.feeds_dir / "wordpress" / "wp-16-about.html").is_file()
    assert "not in the export any more (kept): feeds/wordpress/wp-16-about.html" in report.lines(config.root)


def test_feed_by_category_writes_a_feed_per_primary_category(make_site: SiteFactory) -> None:
    config = load_config(make_site())
    report = run_import(config, SMALL, by_category=True)
    assert report.feeds_created == ["news"]
    assert (config.feeds_dir / "news" / "wp-11-first.html").is_file()
    assert (config.feeds_dir / "news" / "_feed.yaml").read_text().startswith("title: News\n")


def test_moving_a_post_to_another_feed_leaves_one_file(make_site: SiteFactory) -> None:
    config = load_config(make_site())
    run_import(config, SMALL, by_category=True)
    report = run_import(config, SMALL, feed="all-news")
    assert dict(report.outcomes) == {"updated": 1}
    assert sorted(p.name for p in config.feeds_dir.rglob("wp-*.html")) == ["wp-11-first.html"]
    assert not [p for p in build_snapshot(config.path).problems if p.level is Level.ERROR]


BAD_EXPORTS = {
    "not-xml.xml": (b"this is not xml at all", "not XML"),
    "empty.xml": (b"", "not XML"),
    "plain-rss.xml": (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
        "not a WordPress export (no wp:wxr_version)",
    ),
    "atom.xml": (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
        "not a WordPress export (the root element is <feed>",
    ),
    "truncated.xml": (SMALL.read_bytes()[:2500], "broken or truncated XML"),
    "entity.xml": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><rss>&e;</rss>',
        "not a WordPress export",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_EXPORTS))
def test_bad_input_is_one_line_and_writes_nothing(
    name: str, make_site: SiteFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, expected = BAD_EXPORTS[name]
    config = make_site()
    before = _files(config.parent / "feeds")
    export = tmp_path / name
    export.write_bytes(data)
    assert main(["import", "wordpress", str(export), "--config", str(config)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert expected in captured.err and str(export) in captured.err
    assert "root:" not in captured.err  # the external entity was never read
    assert _files(config.parent / "feeds") == before


def test_a_huge_file_is_refused_before_reading(
    make_site: SiteFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_site()
    export = tmp_path / "huge.xml"
    with export.open("wb") as handle:  # sparse: 2 GB on paper, nothing on disk
        handle.truncate(2 * 1024**3)
    assert main(["import", "wordpress", str(export), "--config", str(config)]) == 1
    assert "over the 536870912-byte limit" in capsys.readouterr().err
    assert list((config.parent / "feeds").iterdir()) == []


def test_missing_file_and_bad_feed_name(make_site: SiteFactory, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_site()
    assert main(["import", "wordpress", "/nonexistent/export.xml", "--config", str(config)]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["import", "wordpress", str(SMALL), "--config", str(config), "--feed", "Bad Name"]) == 1
    assert "--feed 'Bad Name'" in capsys.readouterr().err


def test_block_comments_go_and_classic_text_gets_paragraphs() -> None:
    blocks = '<!-- wp:image {"id":5,"sizeSlug":"large"} -->\n<figure><img src="a.jpg"/></figure>\n<!-- /wp:image -->'
    assert remove_block_comments(blocks) == '<figure><img src="a.jpg"/></figure>\n'
    assert remove_block_comments("<!-- wp:latest-posts /-->\n<p>x</p>") == "<p>x</p>"
    assert wordpress_body("One\n\nTwo [bsa_pro_ad_space id=4]") == "<p>One</p>\n<p>Two [bsa_pro_ad_space id=4]</p>"
    assert wordpress_body("<!-- wp:paragraph -->\n<p>One\nline</p>\n<!-- /wp:paragraph -->") == "<p>One\nline</p>"


def test_caption_becomes_a_figure() -> None:
    body = wordpress_body(
        '[caption id="attachment_9" align="alignright" width="300"]'
        '<img src="h.jpg" alt="H" /> The harbour[/caption]\n\nText'
    )
    assert body == '<figure><img src="h.jpg" alt="H" /><figcaption>The harbour</figcaption></figure>\n<p>Text</p>'
    # No width: the image alone, its caption text dropped, as img_caption_shortcode does.
    assert wordpress_body('[caption width="0"]<img src="h.jpg" /> x[/caption]') == '<p><img src="h.jpg" /></p>'
    assert wordpress_body('[caption width="50" caption="Attr"]<img src="h.jpg" />[/caption]') == (
        '<figure><img src="h.jpg" /><figcaption>Attr</figcaption></figure>'
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.text(max_size=400).map(lambda t: ("<rss><channel>" + t).encode()))
def test_any_bytes_give_an_export_or_one_export_error(tmp_path: Path, data: bytes) -> None:
    export = tmp_path / "fuzz.xml"
    export.write_bytes(data)
    try:
        read_export(export)
    except ExportError as exc:
        assert "\n" not in str(exc)


_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_TEXT.filter(lambda t: t.strip()), author=_TEXT, tags=st.lists(_TEXT, max_size=4), summary=_TEXT)
def test_front_matter_reads_back_as_written(
    make_site: SiteFactory, title: str, author: str, tags: list[str], summary: str
) -> None:
    config = make_site({"feeds/news/_feed.yaml": "title: News\n"})
    meta = {
        "title": title,
        "date": "2024-05-01T10:00:00+00:00",
        "id": "wp-1",
        "author": author,
        "tags": tags,
        "summary": summary,
    }
    (config.parent / "feeds" / "news" / "wp-1.html").write_text(article_text(meta, "<p>x</p>"), encoding="utf-8")
    snapshot = build_snapshot(config)
    errors = [p for p in snapshot.problems if p.level is Level.ERROR]
    from syndicate.textclean import clean_text

    if not clean_text(title).strip():
        return  # a title of control characters only: the loader rightly refuses it
    assert errors == []
    article = snapshot.feeds["news"].articles[0]
    assert article.title == clean_text(title)  # as written, less what XML forbids
