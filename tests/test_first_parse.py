"""A first build of many articles parses them in worker processes, and builds what one process builds."""

from __future__ import annotations

import logging
import marshal
import shutil
import threading
from pathlib import Path

import pytest

from syndicate.content import diskcache, firstparse, records
from syndicate.content.parsecache import Parsed
from syndicate.snapshot import PARSE_CACHE_DIR, BuildCache, Snapshot, build_snapshot
from tests.conftest import SiteFactory, article
from tests.test_incremental_reload import age_all, same_content
from tests.test_parse_cache_disk import mixed_site, run, same_times


def many_site(count: int = 12) -> dict[str, str]:
    """``mixed_site`` (a warning, an error, a draft, two feeds) with more articles and a duplicate id."""
    files = mixed_site(count)
    files["feeds/sport/twin-a.md"] = article("Twin A", extra="id: twin\n")
    files["feeds/sport/twin-b.md"] = article("Twin B", extra="id: twin\n")
    files["feeds/sport/late.md"] = article("Late", "2024-05-09T10:00:00+00:00", body="Line\n\n<div><p>x</div>")
    return files


def first_build(config: Path) -> tuple[Snapshot, BuildCache]:
    cache = BuildCache()
    return build_snapshot(config, cache=cache), cache


def edit_once_the_workers_read_it(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rewrite feeds/news/a0.md as the build decodes the first record a worker sent: the workers have read
    it, so only the build reading it again can show the edit."""
    changed = config.parent / "feeds" / "news" / "a0.md"
    real_loads = marshal.loads
    edited: list[bool] = []

    def loads_then_edit(data: bytes) -> object:
        if not edited:
            changed.write_text(article("Edited", "2024-05-01T10:00:00+00:00"), encoding="utf-8")
            edited.append(True)
        return real_loads(data)

    monkeypatch.setattr(marshal, "loads", loads_then_edit)


@pytest.fixture
def forked_site(make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``many_site``, aged, built with workers whatever threads other tests left behind."""
    config = make_site(many_site())
    age_all(config)
    monkeypatch.setattr(firstparse, "_alone", lambda: True)
    return config


@pytest.fixture
def workers_for_any_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(firstparse, "PARALLEL_MIN", 1)
    monkeypatch.setattr(firstparse, "SHARE", 3)


@pytest.mark.usefixtures("workers_for_any_site")
@pytest.mark.parametrize("aged", [True, False])
def test_a_first_build_in_workers_is_a_build_in_one_process(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, aged: bool
) -> None:
    config = make_site(many_site())
    if aged:
        age_all(config)  # else every file is too fresh to trust its stat: read and hashed once more
    single = firstparse.PARALLEL_MIN
    monkeypatch.setattr(firstparse, "_alone", lambda: True)  # other tests may have left threads behind
    parallel, cache = first_build(config)
    monkeypatch.setattr(firstparse, "PARALLEL_MIN", 10**9)
    alone, alone_cache = first_build(config)
    assert single == 1
    cold = build_snapshot(config)
    same_content(parallel, cold)
    same_times(parallel, cold)
    assert [p.format() for p in parallel.problems] == [p.format() for p in alone.problems]
    assert any(":3: error:" in p.format() for p in parallel.problems)  # the broken file's line, as read
    assert parallel.parsed == alone.parsed == 20  # every file is parsed once, here or in a worker
    assert alone_cache.parses.reused == 0
    assert cache.parses.reused == 20  # the build took every worker's parse
    assert cache.parses.hashed == (0 if aged else 20)  # by its stat, else by its text once more


@pytest.mark.usefixtures("workers_for_any_site")
def test_files_changed_after_their_worker_read_them_are_parsed_again(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_site(many_site())
    age_all(config)
    monkeypatch.setattr(firstparse, "_alone", lambda: True)
    edit_once_the_workers_read_it(config, monkeypatch)
    parallel, _ = first_build(config)
    monkeypatch.undo()
    same_content(parallel, build_snapshot(config))
    assert "Edited" in [a.title for a in parallel.loaded["news"].articles]


@pytest.mark.usefixtures("workers_for_any_site")
def test_a_failing_worker_leaves_its_files_to_the_build(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_site(many_site())
    monkeypatch.setattr(firstparse, "_alone", lambda: True)
    monkeypatch.setattr(firstparse, "_parse_share", _broken_share)
    with caplog.at_level(logging.ERROR, "syndicate.firstparse"):
        snapshot, _ = first_build(config)
    same_content(snapshot, build_snapshot(config))
    assert "parsing in worker processes failed" in caplog.text
    assert snapshot.parsed == 20


def _broken_share(folder_name: str, names: list[str]) -> tuple[bytes, list[int], int]:
    raise RuntimeError("worker bug")


def test_a_small_site_is_parsed_in_this_process(make_site: SiteFactory) -> None:
    config = make_site(many_site())
    snapshot, cache = first_build(config)
    assert firstparse.PARALLEL_MIN > 20
    assert cache.parses.reused == 0 and snapshot.parsed == 20
    same_content(snapshot, build_snapshot(config))


@pytest.mark.usefixtures("workers_for_any_site")
def test_a_process_running_other_threads_parses_in_itself(make_site: SiteFactory) -> None:
    config = make_site(many_site())
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        snapshot, cache = first_build(config)
    finally:
        stop.set()
        other.join()
    assert cache.parses.reused == 0 and snapshot.parsed == 20


@pytest.mark.usefixtures("workers_for_any_site")
def test_a_first_start_writes_what_its_workers_encoded_without_encoding_it_again(
    forked_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Encoding a record holds the GIL: at 100,000 articles the server encoding them all again, seconds of
    work, stalled its event loop for as long. The workers' encodings are copied instead."""
    config = forked_site
    encoded: list[str] = []
    real_record_bytes = records.record_bytes

    def counted(feed_folder: Path, name: str, record: Parsed) -> bytes | None:
        encoded.append(name)
        return real_record_bytes(feed_folder, name, record)

    monkeypatch.setattr(diskcache, "record_bytes", counted)  # the writer's; the workers hold their own
    cache = BuildCache(persist=True)
    first = build_snapshot(config, cache=cache)
    assert cache.disk is not None
    cache.disk.wait()
    assert first.parsed == 20 and encoded == []
    folder = config.parent / "data" / PARSE_CACHE_DIR
    assert sorted(p.name for p in folder.iterdir()) == ["news.cache", "sport.cache"]  # no spool left behind
    restarted, again = run(config)
    assert restarted.parsed == 0 and again.disk is not None and again.disk.loaded == 20
    same_content(restarted, build_snapshot(config))
    same_times(restarted, first)


@pytest.mark.usefixtures("workers_for_any_site")
def test_a_record_the_build_read_again_is_encoded_from_what_it_read(
    forked_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file edited after its worker read it: the spooled encoding is the old text's and must not be written."""
    config = forked_site
    edit_once_the_workers_read_it(config, monkeypatch)
    cache = BuildCache(persist=True)
    build_snapshot(config, cache=cache)
    monkeypatch.undo()
    assert cache.disk is not None
    cache.disk.wait()
    age_all(config)
    restarted, _ = run(config)
    assert "Edited" in [a.title for a in restarted.loaded["news"].articles]
    same_content(restarted, build_snapshot(config))


@pytest.mark.usefixtures("workers_for_any_site")
def test_a_spool_cut_short_before_the_write_is_not_used(forked_site: Path) -> None:
    config = forked_site
    cache = BuildCache(persist=True)
    build_snapshot(config, cache=cache)
    assert cache.disk is not None
    spool = cache.disk.spool_path(config.parent / "feeds" / "news")
    spool.write_bytes(spool.read_bytes()[:-7])
    cache.disk.wait()
    assert not spool.exists()
    restarted, again = run(config)
    assert restarted.parsed == 0 and again.disk is not None and again.disk.loaded == 20
    same_content(restarted, build_snapshot(config))


@pytest.mark.usefixtures("workers_for_any_site")
def test_the_spool_of_a_folder_removed_before_the_write_goes_with_it(forked_site: Path) -> None:
    cache = BuildCache(persist=True)
    build_snapshot(forked_site, cache=cache)
    assert cache.disk is not None
    sport = forked_site.parent / "feeds" / "sport"
    spool = cache.disk.spool_path(sport)
    assert spool.exists()
    shutil.rmtree(sport)
    build_snapshot(forked_site, cache=cache)
    cache.disk.wait()
    folder = forked_site.parent / "data" / PARSE_CACHE_DIR
    assert sorted(p.name for p in folder.iterdir()) == ["news.cache"]
