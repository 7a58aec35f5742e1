"""Ad slots kept across renders give exactly what resolving every slot afresh gives, caps included."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.ads.caps import SERVED, CapView
from syndicate.ads.model import AdSpace, AdUnit, Fallback, Selection, UnitType
from syndicate.ads.resolver import AdResolver, DirectLinks, ServedAd
from syndicate.ads.slotcache import SlotCache
from syndicate.config import Rotation
from syndicate.content.model import Article, Call
from syndicate.formats import FORMATS
from syndicate.formats.assembly import FragmentCache, assemble
from syndicate.formats.model import FeedView
from syndicate.partners import Audience
from syndicate.publish import PageRequest, ad_resolver, feed_header, item_view, page_articles
from syndicate.shortcodes import Shortcode
from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.web.state import SLOTS, SNAPSHOTS
from tests.conftest import FEED_YAML, AppClient, SiteFactory, article

MOMENT = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
WINDOW = int(MOMENT.timestamp()) // 3600


def whole(fmt: str, header: FeedView, articles: tuple[Article, ...], resolver: AdResolver) -> bytes:
    """The straightforward render: every slot resolved as its item is made, the document written at once."""
    return FORMATS[fmt].render(replace(header, items=tuple(item_view(a, resolver) for a in articles)))


def kept(
    snapshot: Snapshot, page: PageRequest, audience: Audience, memo: SlotCache, caps: CapView | None = None
) -> tuple[bytes, list[ServedAd]]:
    resolver = ad_resolver(snapshot, audience, page.format, MOMENT, caps=caps, memo=memo)
    body = assemble(page.format, feed_header(snapshot, page), page_articles(snapshot, page), resolver, FragmentCache(0))
    return body, resolver.served


def fresh(
    snapshot: Snapshot, page: PageRequest, audience: Audience, caps: CapView | None = None
) -> tuple[bytes, list[ServedAd]]:
    resolver = ad_resolver(snapshot, audience, page.format, MOMENT, caps=caps)
    return whole(page.format, feed_header(snapshot, page), page_articles(snapshot, page), resolver), resolver.served


def test_a_second_render_resolves_no_slot_and_says_the_same(sample: Snapshot) -> None:
    memo = SlotCache(10_000_000)
    partner = sample.audience("partner-a")
    assert partner is not None
    for fmt in FORMATS:  # each format its own resolutions
        page = PageRequest("all", fmt)
        before = memo.resolved
        first = kept(sample, page, partner, memo)
        resolved = memo.resolved
        assert resolved - before == sum(1 for a in page_articles(sample, page) if a.calls) > 0
        assert kept(sample, page, partner, memo) == first == fresh(sample, page, partner)
        assert kept(sample, PageRequest("world", fmt), partner, memo)[0]  # the same articles in another feed
        assert memo.resolved == resolved, "nothing resolved again"
    kept(sample, PageRequest("all", "rss"), sample.config.public, memo)  # another audience: its own resolutions
    assert memo.resolved > resolved


def test_under_window_rotation_each_window_draws_its_own(sample: Snapshot) -> None:
    snapshot = replace(sample, config=replace(sample.config, ads=replace(sample.config.ads, rotation=Rotation.WINDOW)))
    memo = SlotCache(10_000_000)
    page = PageRequest("all", "json")
    bodies = set()
    for hours in (0, 1, 2, 0, 1, 2):
        moment = MOMENT + dt.timedelta(hours=hours)
        straight = ad_resolver(snapshot, snapshot.config.public, "json", moment)
        expected = whole("json", feed_header(snapshot, page), page_articles(snapshot, page), straight)
        through = ad_resolver(snapshot, snapshot.config.public, "json", moment, memo=memo)
        body = assemble("json", feed_header(snapshot, page), page_articles(snapshot, page), through, FragmentCache(0))
        assert body == expected
        bodies.add(body)
    assert len(bodies) > 1, "the sample's ads rotate"


async def test_the_server_resolves_a_feed_once_across_a_reload(client: AppClient, sample: Snapshot) -> None:
    """The first render after a reload that changed nothing resolves no slot, and says what it said before."""
    memo = client.app[SLOTS]
    before = await client.get("/feeds/all.json")
    assert before.status == 200
    resolved = memo.resolved
    assert resolved > 0
    client.app[SNAPSHOTS].replace(build_snapshot(sample.config.path))  # a new Snapshot: the variants are gone
    after = await client.get("/feeds/all.json")
    assert after.status == 200
    assert await after.read() == await before.read()
    assert memo.resolved == resolved


def test_a_reload_resolves_only_the_article_it_changed(make_site: SiteFactory) -> None:
    files = {
        "feeds/news/_feed.yaml": FEED_YAML + "items_per_page: 100\n",
        "adspaces/4.yaml": "units:\n  - {id: t, type: text, url: 'https://ad.test/', title: Ad}\n",
    }
    for n in range(5):
        files[f"feeds/news/{n}.md"] = article(
            title=f"Story {n}", date=f"2024-05-0{n + 1}T10:00:00+00:00", body="A [bsa_pro_ad_space id=4] B"
        )
    config = make_site(files)
    memo = SlotCache(10_000_000)
    page = PageRequest("news", "json")
    before = build_snapshot(config)
    kept(before, page, before.config.public, memo)
    assert memo.resolved == 5
    (config.parent / "feeds/news/3.md").write_text(
        article(title="Story 3", date="2024-05-04T10:00:00+00:00", body="C [bsa_pro_ad_space id=4] D"),
        encoding="utf-8",
    )
    after = build_snapshot(config)
    assert kept(after, page, after.config.public, memo) == fresh(after, page, after.config.public)
    assert memo.resolved == 6
    (config.parent / "adspaces/4.yaml").write_text(
        "units:\n  - {id: t, type: text, url: 'https://ad.test/', title: Other}\n", encoding="utf-8"
    )
    edited = build_snapshot(config)
    body, _ = kept(edited, page, edited.config.public, memo)
    assert (body, memo.resolved) == (fresh(edited, page, edited.config.public)[0], 11), "new ads: all resolved"


def test_a_cap_reached_mid_page_stops_the_unit_in_every_render(make_site: SiteFactory) -> None:
    """A capped unit is resolved afresh by each render, in document order, against that render's budget."""
    space = (
        "selection: priority\nunits:\n"
        "  - {id: capped, type: text, url: 'https://ad.test/c', title: Capped, priority: 1, max_impressions: 5}\n"
        "  - {id: other, type: text, url: 'https://ad.test/o', title: Other}\n"
    )
    files = {"feeds/news/_feed.yaml": FEED_YAML + "items_per_page: 100\n", "adspaces/4.yaml": space}
    for n in range(6):
        files[f"feeds/news/{n}.md"] = article(
            title=f"Story {n}", date=f"2024-05-0{n + 1}T10:00:00+00:00", body="[bsa_pro_ad_space id=4] x"
        )
    snapshot = build_snapshot(make_site(files))
    public = snapshot.config.public
    memo = SlotCache(10_000_000)
    for fmt in FORMATS:
        page = PageRequest("news", fmt)
        for used, placed in ((3, 2), (1, 4), (5, 0), (3, 2)):  # the counts of successive windows
            caps = CapView({("4", "capped", "public", SERVED): used})
            expected = fresh(snapshot, page, public, caps)
            assert [unit for _, unit, _, _ in expected[1]] == ["capped"] * placed + ["other"] * (6 - placed)
            for _ in range(2):
                assert kept(snapshot, page, public, memo, caps) == expected
        assert kept(snapshot, page, public, memo) == fresh(snapshot, page, public), "no caps judged: all placed"


# --- kept against fresh, over generated ad spaces, ad markup, caps and bodies ------------------------------------

TEXT = st.lists(
    st.one_of(
        st.sampled_from(["&", "<", ">", "\r", "]]>", '"', "&amp;", "</p>", "\u00a0", "é", "\u2028", " "]),
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    ),
    max_size=6,
).map("".join)
URL = st.sampled_from(["https://ad.test/", "https://ad.test/?a=1&b=<2>", "https://ad.test/x\"y'z"])


@st.composite
def units(draw: st.DrawFn, space: str) -> AdUnit:
    index = draw(st.integers(0, 3))
    return AdUnit(
        id=f"{space}-{index}",
        type=draw(st.sampled_from([UnitType.TEXT, UnitType.IMAGE])),
        url=draw(URL),
        line=1,
        src="https://img.test/a.png",
        width=draw(st.sampled_from([None, 300])),
        height=draw(st.sampled_from([None, 250])),
        alt=draw(TEXT),
        title=draw(TEXT),
        body=draw(TEXT),
        weight=draw(st.sampled_from([0.0, 1.0, 3.0])),
        priority=draw(st.integers(0, 1)),
        tags=draw(st.sampled_from([(), ("t1",)])),
        house=draw(st.booleans()),
        max_impressions=draw(st.sampled_from([None, None, 0, 1, 3])),
    )


@st.composite
def spaces(draw: st.DrawFn) -> dict[str, AdSpace]:
    out = {}
    for space_id in ("4", "5"):
        found = draw(st.lists(units(space_id), max_size=4, unique_by=lambda u: u.id))
        out[space_id] = AdSpace(
            id=space_id,
            name=space_id,
            label=draw(st.sampled_from(["", "Ad", "Sponsored & <co>"])),
            max_ads=draw(st.integers(1, 2)),
            selection=draw(st.sampled_from(list(Selection))),
            if_empty=draw(st.sampled_from([None, "4", "5"])),
            fallback=draw(st.sampled_from(list(Fallback))),
            units=tuple(found),
            path=Path(f"{space_id}.yaml"),
        )
    return out


@st.composite
def calls(draw: st.DrawFn, index: int) -> Call:
    space = draw(st.sampled_from(["4", "5", "4,5", "9"]))
    text = draw(st.sampled_from(["", "enclosed & <text>"]))
    raw = f"[bsa_pro_ad_space id={space}]"
    shortcode = Shortcode("bsa_pro_ad_space", {"id": space}, text, bool(text), 0, len(raw), raw)
    return Call(shortcode, index, draw(st.booleans()), 1, text)


@st.composite
def pages(draw: st.DrawFn) -> tuple[Article, ...]:
    out = []
    for n in range(draw(st.integers(1, 5))):
        body: list[str | Call] = []
        for is_call in draw(st.lists(st.booleans(), max_size=6)):
            index = sum(isinstance(part, Call) for part in body)
            body.append(draw(calls(index)) if is_call else draw(TEXT))
        published = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=draw(st.integers(0, 30)))
        out.append(
            Article(
                feed="news",
                slug=f"a{n}",
                id=f"news/a{n}",
                uid=f"tag:x.test,2024:news/a{n}",
                path=Path(f"a{n}.md"),
                title=f"T{n}",
                published=published,
                updated=published,
                author=None,
                tags=draw(st.sampled_from([(), ("T1",)])),
                summary="",
                image=None,
                url=f"https://x.test/a{n}",
                body=tuple(body),
                body_line=1,
            )
        )
    return tuple(out)


HEADER = FeedView(
    id="tag:x.test,2024:feeds/news",
    title="News",
    description="",
    language="en",
    home_url="https://x.test/",
    self_url="https://x.test/feeds/news.rss",
    updated=MOMENT,
    image=None,
    items=(),
)


USED = st.one_of(st.none(), st.dictionaries(st.sampled_from(["4-1", "4-2", "5-1", "5-2"]), st.integers(0, 4)))


def cap_view(used: dict[str, int] | None) -> CapView | None:
    return None if used is None else CapView({(u.split("-")[0], u, "public", SERVED): n for u, n in used.items()})


@settings(max_examples=120, deadline=None)
@given(spaces(), pages(), st.sampled_from(list(FORMATS)), st.sampled_from(list(Rotation)), USED, USED)
def test_kept_resolutions_are_fresh_ones_for_any_ads(
    sample: Snapshot,
    found: dict[str, AdSpace],
    page: tuple[Article, ...],
    fmt: str,
    rotation: Rotation,
    used: dict[str, int] | None,
    later: dict[str, int] | None,
) -> None:
    """Cold, warm, with other counts, and after a rebuild that gave equal but new articles: the bytes and the
    placements of a render that resolves every slot, whatever the units, their markup, their caps and the page."""
    config = replace(sample.config, ads=replace(sample.config.ads, rotation=rotation))
    audience = sample.config.public
    memo = SlotCache(10_000_000)
    fragments = FragmentCache(10_000_000)
    rebuilt = tuple(replace(a) for a in page)
    for articles, counts in ((page, used), (page, used), (page, later), (rebuilt, used), (rebuilt, later)):
        caps = cap_view(counts)
        straight = AdResolver(found, config, audience, fmt, WINDOW, DirectLinks(), caps)
        expected = whole(fmt, HEADER, articles, straight)
        through = AdResolver(found, config, audience, fmt, WINDOW, DirectLinks(), caps, memo)
        assert assemble(fmt, HEADER, articles, through, fragments) == expected
        assert through.served == straight.served
