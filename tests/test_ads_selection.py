"""Selection: deterministic per (audience, article, slot, window), honouring every rule."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from syndicate.ads.model import AdSpace, AdUnit, Fallback, Selection, UnitType
from syndicate.ads.selection import Allowed, Slot, choose, draw, draw_hash, eligible, unit_hash
from syndicate.partners import AdPolicy, Audience, SpaceOverride

PUBLIC = Audience("public", "Public")
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def unit(unit_id: str, **fields: object) -> AdUnit:
    base = AdUnit(
        id=unit_id, type=UnitType.IMAGE, url=f"https://ad.test/{unit_id}", line=1, src=f"https://ad.test/{unit_id}.png"
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def space(space_id: str, *units: AdUnit, **fields: object) -> AdSpace:
    base = AdSpace(
        space_id, space_id, "Advertisement", 1, Selection.WEIGHTED, None, Fallback.HIDE, units, Path(f"{space_id}.yaml")
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def slot(audience: Audience = PUBLIC, window: int = 1, occurrence: int = 0, **fields: object) -> Slot:
    base = Slot(audience, "world", "tag:x,2020:a", frozenset({"belarus"}), "rss", occurrence, window, NOW)
    return base._replace(**fields)  # type: ignore[arg-type]


def picked(spaces: dict[str, AdSpace], space_id: str, the_slot: Slot) -> list[str]:
    found = choose(spaces, space_id, the_slot)
    return [u.id for u in found.units] if found else []


def test_same_slot_same_choice_and_windows_rotate() -> None:
    spaces = {"4": space("4", unit("a"), unit("b"), unit("c"))}
    assert all(picked(spaces, "4", slot(window=w)) == picked(spaces, "4", slot(window=w)) for w in range(50))
    assert len({picked(spaces, "4", slot(window=w))[0] for w in range(50)}) == 3


def test_shares_follow_weights() -> None:
    spaces = {"4": space("4", unit("heavy", weight=3), unit("light", weight=1), unit("off", weight=0))}
    counts = Counter(picked(spaces, "4", slot(window=w))[0] for w in range(8000))
    assert counts["off"] == 0
    share = counts["heavy"] / 8000
    # 3:1 weights: expected 0.75; the binomial standard deviation here is under 0.005.
    assert abs(share - 0.75) < 0.025, counts


def test_max_ads_draws_without_repeats() -> None:
    spaces = {"4": space("4", unit("a"), unit("b"), unit("c"), max_ads=2)}
    for window in range(30):
        chosen = picked(spaces, "4", slot(window=window))
        assert len(chosen) == 2 and len(set(chosen)) == 2


def test_priority_and_static() -> None:
    units = (unit("low", priority=1), unit("high", priority=5), unit("high2", priority=5))
    prio = {"4": space("4", *units, selection=Selection.PRIORITY)}
    assert {picked(prio, "4", slot(window=w))[0] for w in range(40)} == {"high", "high2"}
    static = {"4": space("4", *units, selection=Selection.STATIC, max_ads=2)}
    assert picked(static, "4", slot()) == ["low", "high"]


def test_schedule_is_judged_at_the_window_start() -> None:
    later = unit("later", start=NOW + dt.timedelta(hours=1))
    ended = unit("ended", end=NOW)
    live = unit("live", start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=1))
    assert [u.id for u in eligible(space("4", later, ended, live), slot(), None)] == ["live"]


def test_targeting() -> None:
    partner = Audience("partner-a", "A")
    units = (
        unit("feed", feeds=("business",)),
        unit("partner", partners=("partner-a",)),
        unit("fmt", formats=("json",)),
        unit("tag", tags=("Belarus",)),
        unit("html", type=UnitType.HTML),
    )
    names = [u.id for u in eligible(space("4", *units), slot(), None)]
    assert names == ["tag"]
    names = [u.id for u in eligible(space("4", *units), slot(partner, format="json"), None)]
    assert names == ["partner", "fmt", "tag"]
    html_ok = replace(partner, allow_html=True)
    assert "html" in [u.id for u in eligible(space("4", *units), slot(html_ok), None)]


def test_policies_and_overrides() -> None:
    spaces = {"4": space("4", unit("paid"), unit("house", house=True)), "9": space("9", unit("theirs"))}
    assert picked(spaces, "4", slot(replace(PUBLIC, ads=AdPolicy.STRIP))) == []
    assert picked(spaces, "4", slot(replace(PUBLIC, ads=AdPolicy.HOUSE))) == ["house"]
    assert picked(spaces, "4", slot(replace(PUBLIC, overrides={"4": SpaceOverride(use="9")}))) == ["theirs"]
    assert picked(spaces, "4", slot(replace(PUBLIC, overrides={"4": SpaceOverride(hide=True)}))) == []
    only = replace(PUBLIC, overrides={"4": SpaceOverride(only=("house",), label="Sponsored")})
    found = choose(spaces, "4", slot(only))
    assert found is not None and [u.id for u in found.units] == ["house"] and found.label == "Sponsored"


def test_show_ids_restricts() -> None:
    spaces = {"4": space("4", unit("a"), unit("b"))}
    for window in range(20):
        found = choose(spaces, "4", slot(window=window), frozenset({"b"}))
        assert found is not None and [u.id for u in found.units] == ["b"]
    assert choose(spaces, "4", slot(), frozenset({"zzz"})) is None


def test_if_empty_chain_and_cycles() -> None:
    spaces = {
        "1": space("1", unit("gone", end=NOW), if_empty="2"),
        "2": space("2", if_empty="3"),
        "3": space("3", unit("last")),
        "a": space("a", if_empty="b"),
        "b": space("b", if_empty="a"),
    }
    assert picked(spaces, "1", slot()) == ["last"]
    assert picked(spaces, "a", slot()) == []


def test_house_fallback_ignores_targeting() -> None:
    spaces = {
        "4": space(
            "4", unit("paid", feeds=("sport",)), unit("house", house=True, feeds=("sport",)), fallback=Fallback.HOUSE
        )
    }
    assert picked(spaces, "4", slot()) == ["house"]


@given(
    st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=6), st.integers(0, 10**9), st.integers(1, 4)
)
def test_draw_never_fails_or_repeats(weights: list[float], window: int, max_ads: int) -> None:
    units = [unit(f"u{i}", weight=w) for i, w in enumerate(weights)]
    the_space = space("4", *units, max_ads=max_ads)
    chosen = draw(the_space, units, slot(window=window))
    assert len(chosen) == len(set(chosen)) <= max_ads
    assert all(u.weight > 0 for u in chosen)
    assert len(chosen) == min(max_ads, sum(1 for w in weights if w > 0))


_UNITS = st.lists(
    st.builds(
        lambda n, house, html, feeds, partners, formats, tags, weight, start, end: unit(
            f"u{n}",
            house=house,
            type=UnitType.HTML if html else UnitType.IMAGE,
            feeds=feeds,
            partners=partners,
            formats=formats,
            tags=tags,
            weight=weight,
            start=None if start is None else NOW + dt.timedelta(hours=start),
            end=None if end is None else NOW + dt.timedelta(hours=end),
        ),
        st.integers(0, 9),
        st.booleans(),
        st.booleans(),
        st.sampled_from([(), ("world",), ("sport",)]),
        st.sampled_from([(), ("p",), ("q",)]),
        st.sampled_from([(), ("rss",), ("json",)]),
        st.sampled_from([(), ("Belarus",), ("sport",)]),
        st.integers(0, 3),
        st.none() | st.integers(-2, 2),
        st.none() | st.integers(-2, 2),
    ),
    max_size=6,
    unique_by=lambda u: u.id,
)
_AUDIENCES = st.builds(
    lambda policy, html: replace(Audience("p", "P"), ads=policy, allow_html=html),
    st.sampled_from(list(AdPolicy)),
    st.booleans(),
)


@given(
    _UNITS,
    _AUDIENCES,
    st.sampled_from([None, frozenset({"u1", "u2"})]),
    st.lists(
        st.tuples(
            st.sampled_from(["world", "sport"]),
            st.sampled_from([frozenset(), frozenset({"belarus"}), frozenset({"belarus", "sport"})]),
            st.integers(0, 40),
            st.integers(-3, 3),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_one_memo_per_render_chooses_what_each_slot_alone_would(
    units: list[AdUnit],
    audience: Audience,
    only: frozenset[str] | None,
    slots: list[tuple[str, frozenset[str], int, int]],
) -> None:
    """A resolver works out per space what depends only on its audience and format once, and the units of
    slots alike in feed, tags and which units are live (schedules start and end around them): same choices."""
    spaces = {"4": space("4", *units, if_empty="5"), "5": space("5", *reversed(units), fallback=Fallback.HOUSE)}
    memo: Allowed = {}
    for feed, tags, window, hours in slots:
        here = slot(audience, window, feed=feed, article_tags=tags, moment=NOW + dt.timedelta(hours=hours))
        assert eligible(spaces["4"], here, only, allowed=memo) == eligible(spaces["4"], here, only)
        assert choose(spaces, "4", here, only, allowed=memo) == choose(spaces, "4", here, only)


@given(st.text(), st.text(), st.integers(0, 99), st.integers(-(10**9), 10**9), st.text(), st.integers(0, 9))
def test_the_draw_is_seeded_as_it_always_was(
    audience_id: str, uid: str, occurrence: int, window: int, space_id: str, round_: int
) -> None:
    """A draw's seed is ``unit_hash`` of its parts, whatever spells it: the same ads as before, in every slot."""
    drawn = slot(replace(PUBLIC, id=audience_id), window, occurrence, article_uid=uid)
    assert draw_hash(drawn, space_id, round_) == unit_hash(audience_id, uid, occurrence, window, space_id, round_)
    assert unit_hash("public", "tag:x,2020:a", 0, 1, "4", 0) == 0.996174264251469
