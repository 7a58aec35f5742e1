"""Article ids are unique across the site, and a reload checks that in proportion to what changed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from syndicate.content import uids
from syndicate.content.parsecache import ChangeLog, ParseCache
from syndicate.snapshot import BuildCache, Snapshot, build_snapshot
from tests.conftest import FEED_YAML, SiteFactory, article
from tests.test_incremental_reload import age_all, same_content


def three_folders(count: int = 4) -> dict[str, str]:
    files = {f"feeds/{name}/_feed.yaml": FEED_YAML for name in ("a", "b", "c")}
    for name in ("a", "b", "c"):
        for n in range(count):
            files[f"feeds/{name}/{name}{n}.md"] = article(f"{name} {n}", extra=f"id: {name}-{n}\n")
    return files


def watched(config: Path) -> tuple[BuildCache, ChangeLog]:
    """A build cache whose change log is trusted, as a settled watch makes it, after a first build."""
    log = ChangeLog()
    log.watching()
    log.live_since = time.monotonic() - 1.0
    cache = BuildCache(parses=ParseCache(log))
    build_snapshot(config, cache=cache)
    log.trusted = True
    return cache, log


def titles(snapshot: Snapshot, feed: str) -> list[str]:
    return sorted(a.title for a in snapshot.loaded[feed].articles)


@pytest.mark.parametrize("trusted", [True, False])
def test_an_id_taken_by_an_earlier_folder_refuses_the_later_folders_article(
    make_site: SiteFactory, trusted: bool
) -> None:
    config = make_site(three_folders())
    age_all(config)
    cache, log = watched(config)
    log.trusted = trusted
    edited = config.parent / "feeds" / "a" / "a1.md"
    edited.write_text(article("a 1 moved", extra="id: c-2\n"), encoding="utf-8")
    log.mark(edited.resolve())
    snapshot = build_snapshot(config, cache=cache)
    assert "c 2" not in titles(snapshot, "c") and "a 1 moved" in titles(snapshot, "a")
    assert any("'c-2' is already used by" in p.message and p.path.name == "c2.md" for p in snapshot.problems)
    same_content(snapshot, build_snapshot(config))
    edited.write_text(article("a 1", extra="id: a-1\n"), encoding="utf-8")  # and given back
    log.mark(edited.resolve())
    again = build_snapshot(config, cache=cache)
    assert "c 2" in titles(again, "c")
    same_content(again, build_snapshot(config))


def test_an_edit_that_keeps_every_id_looks_none_up_site_wide(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an id new to its folder is looked up among every folder's: at 100,000 articles that index is
    100,000 inserts in C calls that hold the GIL, so an edit reload must not build it."""
    config = make_site(three_folders())
    age_all(config)
    cache, log = watched(config)
    lookups: list[str] = []
    real = uids.SeenUids.holder

    def counted(self: uids.SeenUids, uid: str, held_before: bool) -> Path | None:
        if not held_before:
            lookups.append(uid)
        return real(self, uid, held_before)

    monkeypatch.setattr(uids.SeenUids, "holder", counted)
    for folder in ("a", "b", "c"):  # the first folder, one in the middle, the last
        edited = config.parent / "feeds" / folder / f"{folder}1.md"
        edited.write_text(article(f"{folder} 1 revised", extra=f"id: {folder}-1\n"), encoding="utf-8")
        log.mark(edited.resolve())
        snapshot = build_snapshot(config, cache=cache)
        assert f"{folder} 1 revised" in titles(snapshot, folder)
    assert lookups == []
    added = config.parent / "feeds" / "b" / "new.md"
    added.write_text(article("New", extra="id: new-one\n"), encoding="utf-8")
    log.mark(added.resolve())
    incremental = build_snapshot(config, cache=cache)
    assert lookups == ["tag:news.test,2020-01-01:new-one"]  # the new article's id, new to its folder
    same_content(incremental, build_snapshot(config))
