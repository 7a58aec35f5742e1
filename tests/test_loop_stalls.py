"""What could stall the event loop while serving: the cycle collector, and work done on first use.

What renders leave in the long-lived caches is invisible to the cycle collector.

A full collection walks every tracked object that is not frozen, on whichever thread triggers it,
the event loop's included; the Snapshot is frozen after each build, but the caches fill after it.
Their entries are plain tuples of strings, bytes and numbers, which the collector untracks, so a
full collection costs what the caches' keys cost, not what they hold.
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syndicate.ads.selection import Slot
from syndicate.formats import FORMATS
from syndicate.formats.assembly import Fragment, FragmentCache
from syndicate.problems import Level, LoadError, Problem
from syndicate.serving import tune_for_serving
from syndicate.snapshot import Snapshot, build_snapshot
from syndicate.tracking import bots
from syndicate.tracking.links import SignedLinks
from syndicate.tracking.tokens import Claim
from syndicate.web.app import create_app
from syndicate.web.state import FRAGMENTS, LINKS, RELOADER, SLOTS, SNAPSHOTS, TRACKER
from tests.conftest import FEED_YAML, AppClient, article

PARTNER = {"Authorization": "Bearer partner-a-demo-key"}


async def test_cached_slots_fragments_and_claims_are_not_tracked(client: AppClient) -> None:
    for headers in (PARTNER, {}):
        for fmt in ("rss", "atom", "json"):
            response = await client.get(f"/feeds/all.{fmt}", headers=headers)
            assert response.status == 200
            await response.read()
    for _ in range(3):  # a collection untracks a tuple whose items it has untracked: one nesting level each
        gc.collect()
    slots = list(client.app[SLOTS].entries.values())
    fragments = list(client.app[FRAGMENTS].entries.values())
    assert slots and any(served for _, served in slots) and fragments
    assert [s for s in slots if gc.is_tracked(s)] == []
    assert [f for f in fragments if gc.is_tracked(f)] == []


async def test_the_signer_keeps_no_claim_objects(client: AppClient) -> None:
    """The signer keeps the tokens of the last few thousand ads it linked, keyed by what they claim."""
    snapshot = client.app[SNAPSHOTS].current
    links = client.app[LINKS]
    assert isinstance(links, SignedLinks)
    space = next(iter(snapshot.spaces.values()))
    moment = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    for n in range(50):
        slot = Slot(snapshot.config.public, "world", f"world/kept-{n}", frozenset(), "rss", 0, n, moment)
        assert "/c/" in links.click_url(space.units[0], space, slot, f"world/kept-{n}")
    gc.collect()
    assert [o for o in gc.get_objects() if isinstance(o, Claim) and o.article.startswith("world/kept-")] == []


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(sorted(FORMATS)), st.integers(0, 99), st.integers(0, 3000)), max_size=60))
def test_the_fragment_cache_forgets_every_article_it_no_longer_holds(
    sample: Snapshot, puts: list[tuple[str, int, int]]
) -> None:
    """Numbers outlive no entry: an evicted article is not kept alive by the cache (nor an old Snapshot's)."""
    articles = sample.feeds["all"].articles[:10]
    cache = FragmentCache(6_000)
    given_for: dict[tuple[str, int], list[Fragment]] = {}
    for fmt, drawn, size in puts:
        index = drawn % len(articles)
        fragment: Fragment = ((b"x" * size,), (), None)
        given_for.setdefault((fmt, index), []).append(fragment)
        cache.put_many([((fmt, articles[index]), fragment)])
        numbers = cache.numbers
        assert set(numbers.articles) == {number for _, number in cache.entries} == set(numbers.uses)
        assert sorted(numbers.uses.values()) == sorted(
            sum(1 for _, n in cache.entries if n == number) for number in numbers.uses
        )
        (found,) = cache.get_many([(fmt, replace(articles[index]))])  # an equal article: the same entry
        assert found is None or found in given_for[(fmt, index)]
    cache.clear()
    assert len(cache.numbers) == 0


async def test_a_swap_freezes_the_new_snapshot_without_a_collection(client: AppClient, sample: Snapshot) -> None:
    """A swap runs on the event loop: a collection there walks every object not yet frozen (the new
    Snapshot's: a young one took 16-24 ms at 100,000 articles), a stall for every request in flight."""
    switch = sys.getswitchinterval()
    tune_for_serving(client.app)
    serving_switch = sys.getswitchinterval()
    sys.setswitchinterval(switch)
    # each step of a request on the loop may wait this long for a render thread's GIL
    assert serving_switch <= 0.0005
    generations: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    new = build_snapshot(sample.config.path)
    before = gc.get_freeze_count()
    gc.callbacks.append(seen)
    try:
        client.app[SNAPSHOTS].replace(new)
        frozen = gc.get_freeze_count() - before
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()
    assert generations == []
    assert frozen > 0  # the new Snapshot is frozen all the same


async def test_the_crawler_patterns_are_compiled_before_the_first_request(
    aiohttp_client: Callable[..., Any], sample: Snapshot
) -> None:
    """Compiling them takes tens of ms: on the loop, at the first counted response, every request waited."""
    bots._bots.cache_clear()
    client = await aiohttp_client(create_app(sample))
    assert client.app[TRACKER].enabled
    assert bots._bots.cache_info().currsize == 1


def test_serve_runs_no_collection_from_its_first_build_until_it_freezes_the_snapshot(
    make_site: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An automatic collection during a first build walks every object made so far, and two of them
    were full ones at 100,000 articles: collections stay off until ``tune_for_serving`` collects once."""
    from syndicate import cli, serving

    config = make_site({"feeds/news/feed.yaml": FEED_YAML, "feeds/news/a.md": article()})
    seen: dict[str, bool] = {}
    build = build_snapshot

    def recording_build(*args: Any, **kwargs: Any) -> Snapshot:
        seen["build"] = gc.isenabled()
        return build(*args, **kwargs)

    def recording_run(app: object, *args: object, **kwargs: object) -> None:
        seen["serving"] = gc.isenabled()

    monkeypatch.setattr(cli, "build_snapshot", recording_build)
    monkeypatch.setattr(serving, "run", recording_run)
    monkeypatch.setenv("SYNDICATE_SIGNING_KEYS", "k1:" + "s" * 32)
    try:
        assert cli.main(["serve", "--config", str(config)]) == 0
        assert seen == {"build": False, "serving": True}
        assert gc.isenabled()
        (config.parent / "config.yaml").write_text("site: [broken\n", encoding="utf-8")
        assert cli.main(["serve", "--config", str(config)]) == 1
        assert gc.isenabled()  # a start that never served leaves collections on
    finally:
        gc.unfreeze()  # what tune_for_serving froze is the test's, not the server's
        gc.enable()


async def test_a_reload_runs_no_collection_from_its_build_to_its_swap(
    client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 articles an edit's build set off ~110 automatic collections of up to 2 ms each, holding the
    GIL against the loop; the young generations are collected before the build instead, when that is cheap."""
    reloader = client.app[RELOADER]
    seen: dict[str, bool] = {}
    build = reloader.build

    def recording_build(path: Path) -> Snapshot:
        seen["build"] = gc.isenabled()
        return build(path)

    def failing_build(path: Path) -> Snapshot:
        seen["failing build"] = gc.isenabled()
        raise LoadError([Problem(path, 1, Level.ERROR, "broken")])

    collected: list[str] = []

    def young(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] < 2:
            collected.append("build" if "build" in seen else "before the build")

    client.app[SNAPSHOTS].listeners.append(lambda old, new: seen.update(swap=gc.isenabled()))
    monkeypatch.setattr(reloader, "build", recording_build)
    gc.callbacks.append(young)
    try:
        assert (await reloader.reload("test")).accepted
    finally:
        gc.callbacks.remove(young)
    assert seen == {"build": False, "swap": False}
    # the young generations are collected once, as the reload begins, while they hold only what requests left
    assert collected and set(collected) == {"before the build"}
    assert gc.isenabled()
    monkeypatch.setattr(reloader, "build", failing_build)
    assert not (await reloader.reload("test")).accepted
    assert seen["failing build"] is False
    assert gc.isenabled()  # a rejected build turns them on again too
