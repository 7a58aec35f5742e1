"""Articles: front matter rules, the HTML pipeline, and bad files that are skipped."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from syndicate.content.model import LONG_FEED, Article, Feed
from syndicate.publish import content_html, resolve_nothing
from syndicate.snapshot import Snapshot, build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article


def site_snapshot(make_site: SiteFactory, files: dict[str, str]) -> Snapshot:
    return build_snapshot(make_site({"feeds/news/_feed.yaml": FEED_YAML, **files}))


def only_article(snapshot: Snapshot) -> Article:
    (found,) = snapshot.feeds["news"].articles
    return found


def problem_lines(snapshot: Snapshot) -> list[str]:
    return [p.format(snapshot.config.root) for p in snapshot.problems]


def body_of(make_site: SiteFactory, body: str, name: str = "a.md") -> str:
    snapshot = site_snapshot(make_site, {f"feeds/news/{name}": article(body=body)})
    return content_html(only_article(snapshot), resolve_nothing)


def test_defaults_are_derived_from_feed_and_file(make_site: SiteFactory) -> None:
    found = only_article(site_snapshot(make_site, {"feeds/news/first-post.md": article()}))
    assert found.id == "news/first-post"
    assert found.uid == "tag:news.test,2020-01-01:news/first-post"
    assert found.url == "https://news.test/news/first-post/"
    assert found.updated == found.published
    assert found.summary == "Body text."


def test_front_matter_fields(make_site: SiteFactory) -> None:
    extra = (
        "id: custom-42\nupdated: 2024-05-02T00:00:00Z\nauthor:\n  name: Ann\n  url: /ann\n"
        "tags: [a, b, a]\nsummary: Short.\nimage:\n  url: img/x.png\n  width: 10\n  height: 5\n"
        "canonical_url: /p/1\n"
    )
    found = only_article(site_snapshot(make_site, {"feeds/news/x.md": article(extra=extra)}))
    assert (found.id, found.tags, found.summary) == ("custom-42", ("a", "b"), "Short.")
    assert found.author is not None and found.author.url == "https://news.test/ann"
    assert found.image is not None and found.image.url == "https://news.test/img/x.png"
    assert found.url == "https://news.test/p/1"
    assert found.updated.isoformat() == "2024-05-02T00:00:00+00:00"


def test_author_bio_is_a_warning_and_the_article_still_loads(make_site: SiteFactory) -> None:
    """No feed format has a field for a biography, so ``bio`` is said to be ignored, not kept unwritten."""
    extra = "author:\n  name: Ann\n  bio: Writes.\n"
    snapshot = site_snapshot(make_site, {"feeds/news/x.md": article(extra=extra)})
    found = only_article(snapshot)
    assert found.author is not None and found.author.name == "Ann"
    assert not hasattr(found.author, "bio")
    assert any(
        line.startswith("feeds/news/x.md:6: warning: front matter.author.bio: ignored")
        for line in problem_lines(snapshot)
    ), problem_lines(snapshot)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (article(date="2024-05-01T10:00:00"), "x.md:3: error: front matter.date: timestamp has no timezone"),
        (article(date="2024-05-01"), "x.md:3: error: front matter.date: a date alone has no time"),
        ("---\ndate: 2024-05-01T10:00:00Z\n---\nbody\n", "x.md:2: error: front matter.title: required"),
        (article(extra="colour: red\n"), "x.md:4: error: front matter.colour: unknown field"),
        ("---\ntitle: [unclosed\n---\nbody\n", "x.md:3: error: invalid YAML"),
        ("no front matter here\n", "x.md:1: error: no front matter"),
        ("---\ntitle: x\n", "x.md:1: error: front matter is not closed"),
        ("---\n- just\n- a list\n---\nbody\n", "x.md:2: error: front matter: expected a mapping"),
    ],
)
def test_bad_article_is_reported_and_skipped(make_site: SiteFactory, text: str, expected: str) -> None:
    snapshot = site_snapshot(make_site, {"feeds/news/x.md": text, "feeds/news/y.md": article(title="Good")})
    assert [a.title for a in snapshot.feeds["news"].articles] == ["Good"]
    assert any(line.replace("feeds/news/", "").startswith(expected) for line in problem_lines(snapshot)), problem_lines(
        snapshot
    )


def test_invalid_utf8_is_reported(make_site: SiteFactory) -> None:
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML})
    (config.parent / "feeds/news/bad.md").write_bytes(b"---\ntitle: x\n---\n\xff\xfe oops\n")
    snapshot = build_snapshot(config)
    assert snapshot.feeds["news"].articles == ()
    assert "feeds/news/bad.md:4: error: not valid UTF-8 (at byte offset 17); skipped" in problem_lines(snapshot)


def test_symlink_outside_content_is_refused(make_site: SiteFactory, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-secret.md"
    outside.write_text(article(title="Secret"), encoding="utf-8")
    config = make_site({"feeds/news/_feed.yaml": FEED_YAML})
    (config.parent / "feeds/news/link.md").symlink_to(outside)
    snapshot = build_snapshot(config)
    assert snapshot.feeds["news"].articles == ()
    assert any("points outside the content folder" in line for line in problem_lines(snapshot))


def test_duplicate_ids_in_a_feed_are_an_error(make_site: SiteFactory) -> None:
    snapshot = site_snapshot(
        make_site,
        {
            "feeds/news/a.md": article(extra="id: same\n"),
            "feeds/news/b.md": article(extra="id: same\n"),
        },
    )
    assert len(snapshot.feeds["news"].articles) == 1
    assert "feeds/news/b.md: error: duplicate article id 'same' (also in a.md); skipped" in problem_lines(snapshot)


def test_all_spans_every_feed_newest_first(make_site: SiteFactory) -> None:
    snapshot = site_snapshot(
        make_site,
        {
            "feeds/news/old.md": article(title="Old", date="2024-01-01T00:00:00Z"),
            "feeds/sport/_feed.yaml": "title: Sport\n",
            "feeds/sport/new.md": article(title="New", date="2024-06-01T00:00:00Z"),
        },
    )
    assert [a.title for a in snapshot.feeds["all"].articles] == ["New", "Old"]


def test_draft_is_left_out(make_site: SiteFactory) -> None:
    snapshot = site_snapshot(make_site, {"feeds/news/a.md": article(extra="draft: true\n")})
    assert snapshot.feeds["news"].articles == ()


# --- the HTML pipeline ---------------------------------------------------------------

DANGEROUS = [
    "<script>alert(1)</script>",
    "<style>p{color:red}</style>",
    '<iframe src="https://evil.test"></iframe>',
    '<img src="x.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<p style="background:url(javascript:alert(1))">x</p>',
]


@pytest.mark.parametrize("snippet", DANGEROUS)
@pytest.mark.parametrize("name", ["a.md", "a.html"])
def test_sanitiser_removes_dangerous_markup(make_site: SiteFactory, snippet: str, name: str) -> None:
    html = body_of(make_site, f"<p>before</p>\n\n{snippet}\n\n<p>after</p>", name)
    lowered = html.lower()
    for needle in ("<script", "<style", "<iframe", "onerror", "javascript:", "data:", "style="):
        assert needle not in lowered
    assert "before" in html and "after" in html


def test_relative_urls_become_absolute(make_site: SiteFactory) -> None:
    html = body_of(
        make_site,
        '<p><a href="/x">a</a> <a href="rel/y">b</a> <a href="#top">c</a> '
        '<img src="i.png" srcset="i.png 1x, /big.png 2x" alt=""></p>',
        "a.html",
    )
    assert 'href="https://news.test/x"' in html
    assert 'href="https://news.test/rel/y"' in html
    assert 'href="#top"' in html
    assert 'src="https://news.test/i.png"' in html
    assert 'srcset="https://news.test/i.png 1x, https://news.test/big.png 2x"' in html


def test_markdown_renders_and_keeps_text_bytes(make_site: SiteFactory) -> None:
    html = body_of(make_site, "Curly “quotes”, ‘single’ and a\u00a0non-breaking space.\n\n- one\n- two\n")
    assert "Curly “quotes”, ‘single’ and a\u00a0non-breaking space." in html
    assert "<li>one</li>" in html


def test_illegal_xml_characters_are_removed(make_site: SiteFactory) -> None:
    html = body_of(make_site, "a\x00b\x0bc\x1fd\ufffee")
    assert "abcde" in html


def test_ad_shortcode_never_appears_raw(make_site: SiteFactory) -> None:
    body = (
        'Text.\n\n[bsa_pro_ad_space id=4]\n\nInline [bsa_pro_ad_space id="3,7"] here; escaped '
        "[[bsa_pro_ad_space id=4]], broken [bsa_pro_ad_space id=4 and [ads_pro_ad_space]x[/ads_pro_ad_space]"
        "\n\n`[bsa_pro_ajax_ad_space id=2]` and [sic] stays."
    )
    html = body_of(make_site, body)
    for tag in ("bsa_pro_ad_space", "ads_pro_ad_space", "bsa_pro_ajax_ad_space"):
        assert f"[{tag}" not in html and f"[/{tag}" not in html
    assert "[sic] stays." in html


def test_shortcode_alone_in_paragraph_replaces_it(make_site: SiteFactory) -> None:
    html = body_of(make_site, "First.\n\n[bsa_pro_ad_space id=4]\n\nLast.")
    assert html == "<p>First.</p>\n<p>Last.</p>\n"


def test_shortcodes_are_split_out_once(make_site: SiteFactory) -> None:
    found = only_article(
        site_snapshot(
            make_site,
            {
                "feeds/news/a.md": article(body="A [bsa_pro_ad_space id=4] B\n\n[bsa_pro_ad_space id=5 max_width=300]"),
            },
        )
    )
    calls = [c.shortcode for c in found.calls]
    assert [(c.tag, c.attrs) for c in calls] == [
        ("bsa_pro_ad_space", {"id": "4"}),
        ("bsa_pro_ad_space", {"id": "5", "max_width": "300"}),
    ]


def test_summary_is_plain_text_without_shortcodes(make_site: SiteFactory) -> None:
    found = only_article(
        site_snapshot(
            make_site,
            {
                "feeds/news/a.md": article(body="[bsa_pro_ad_space id=4]\n\nThe *real* start." + " word" * 100),
            },
        )
    )
    assert found.summary.startswith("The real start. word")
    assert found.summary.endswith("…") and len(found.summary) <= 281
    given = only_article(
        site_snapshot(
            make_site,
            {
                "feeds/news/a.md": article(extra="summary: Hi [bsa_pro_ad_space id=4] there\n"),
            },
        )
    )
    assert given.summary == "Hi there"


def test_a_long_feed_says_its_newest_change_however_its_articles_come(sample: Snapshot) -> None:
    """A feed's ``updated`` is kept for the same articles in a new tuple, and only for those."""
    model = sample.feeds["all"].articles[0]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    articles = tuple(
        dataclasses.replace(model, uid=f"{model.uid}-{n}", updated=start + dt.timedelta(hours=n % 50))
        for n in range(LONG_FEED + 5)
    )
    feed = dataclasses.replace(sample.feeds["all"], articles=articles)
    assert feed.updated == start + dt.timedelta(hours=49)
    again = Feed(**{f.name: getattr(feed, f.name) for f in dataclasses.fields(Feed) if f.init})
    assert dataclasses.replace(again, articles=tuple(list(articles))).updated == start + dt.timedelta(hours=49)
    newer = (*articles[:-1], dataclasses.replace(articles[-1], updated=start + dt.timedelta(days=9)))
    assert dataclasses.replace(feed, articles=newer).updated == start + dt.timedelta(days=9)
    older = (*articles[:-1], dataclasses.replace(articles[-1], title="edited"))
    assert dataclasses.replace(feed, articles=older).updated == start + dt.timedelta(hours=49)
    assert dataclasses.replace(feed, articles=articles[:3]).updated == start + dt.timedelta(hours=2)
