"""``changes``: what two versions of a feed's article tuple differ by, as a set difference by identity."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from syndicate.content import model, parsecache
from syndicate.content.model import Article, changes, newest_first

_POOL = tuple(
    Article(
        feed="news",
        slug=f"a{n}",
        id=f"news/a{n}",
        uid=f"tag:news.test,2020:news/a{n}",
        path=Path(f"feeds/news/a{n}.md"),
        title="Same title",  # equal fields but the slug: identity, not equality, must decide
        published=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        updated=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        author=None,
        tags=(),
        summary="",
        image=None,
        url="https://news.test/",
        body=(),
        body_line=5,
    )
    for n in range(30)
)
_TWINS = {id(a): dataclasses.replace(a) for a in _POOL}  # equal, not identical


def _by_sets(before: tuple[Article, ...], after: tuple[Article, ...]) -> tuple[list[Article], list[Article]]:
    ids_before, ids_after = {id(a) for a in before}, {id(a) for a in after}
    return [a for a in before if id(a) not in ids_after], [a for a in after if id(a) not in ids_before]


_picks = st.lists(st.integers(0, len(_POOL) - 1), unique=True, max_size=len(_POOL))


@given(_picks, _picks, st.sets(st.integers(0, len(_POOL) - 1)), st.sampled_from((1, 2, 3, 7, model.RUN_CHUNK)))
def test_changes_are_the_set_difference_by_identity(
    first: list[int], second: list[int], twins: set[int], chunk: int
) -> None:
    """Whatever the number of places compared per call (a long feed spans many such chunks)."""
    default, model.RUN_CHUNK = model.RUN_CHUNK, chunk
    try:
        _check_changes(first, second, twins)
    finally:
        model.RUN_CHUNK = default


def _check_changes(first: list[int], second: list[int], twins: set[int]) -> None:
    before = tuple(_POOL[i] for i in first)
    after = tuple(_TWINS[id(_POOL[i])] if i in twins else _POOL[i] for i in second)
    removed, added = changes(before, after)
    expected_removed, expected_added = _by_sets(before, after)
    assert [id(a) for a in removed] == [id(a) for a in expected_removed]
    assert [id(a) for a in added] == [id(a) for a in expected_added]


def test_one_article_replaced_in_place() -> None:
    before = _POOL
    after = (*_POOL[:10], _TWINS[id(_POOL[10])], *_POOL[11:])
    removed, added = changes(before, after)
    assert removed == [_POOL[10]] and removed[0] is _POOL[10]
    assert len(added) == 1 and added[0] is after[10]


_MERGED = tuple(sorted(_POOL, key=newest_first))


@given(st.sets(st.integers(0, len(_POOL) - 1)), st.sampled_from((0, parsecache.FEW_REMOVED)))
def test_articles_taken_out_of_a_merged_feed_by_their_place(removed: set[int], few: int) -> None:
    """By binary search on their sort key when few (an edit), by one pass when many; the same list."""
    taken = [_MERGED[i] for i in sorted(removed)]
    default, parsecache.FEW_REMOVED = parsecache.FEW_REMOVED, few
    try:
        result = parsecache._without(_MERGED, taken)
    finally:
        parsecache.FEW_REMOVED = default
    assert result is not None
    assert [id(a) for a in result] == [id(a) for a in _MERGED if all(a is not t for t in taken)]


def test_an_article_that_is_not_in_the_merged_feed_is_not_found_by_an_equal_one() -> None:
    assert parsecache._without(_MERGED, [_TWINS[id(_MERGED[3])]]) is None  # equal, not the same: merge afresh
