"""The parse cache on disk: a restart reuses the parses the last run wrote, and never one it must not.

Real files and real builds: each "restart" is a new ``BuildCache`` that knows only what is on disk, and
every Snapshot it builds is held to the one a cold build of the same files gives.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.content import diskcache
from syndicate.snapshot import PARSE_CACHE_DIR, BuildCache, Snapshot, build_snapshot
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, SiteFactory, article
from tests.processes import serve_logged
from tests.test_incremental_reload import (
    _apply,
    _empty_site,
    _serve_log_until,
    _step,
    age_all,
    same_content,
    site_files,
)


def run(config: Path) -> tuple[Snapshot, BuildCache]:
    """One server start: a build with a fresh cache that persists, its files written before it returns."""
    cache = BuildCache(persist=True)
    snapshot = build_snapshot(config, cache=cache)
    assert cache.disk is not None
    cache.disk.wait()
    return snapshot, cache


def cache_files(config: Path) -> list[Path]:
    return sorted((config.parent / "data" / PARSE_CACHE_DIR).glob("*" + diskcache.SUFFIX))


def mixed_site(count: int = 3) -> dict[str, str]:
    """Good articles, one with a warning, one broken and a draft: what each start must report alike."""
    files = site_files(count)
    files["feeds/news/warned.md"] = article("Warned", extra="author:\n  name: Ann\n  bio: Writes.\n")
    files["feeds/news/broken.md"] = "---\ntitle: [unclosed\n---\nbody\n"
    files["feeds/news/draft.md"] = article("Draft", extra="draft: true\n")
    files["feeds/news/offset.md"] = article(
        "Offset", "2024-05-02T10:00:00.25+03:00", extra="updated: 2024-05-03T01:00Z\n"
    )
    files["feeds/sport/_feed.yaml"] = FEED_YAML
    files["feeds/sport/game.md"] = article("Game", body="Score [bsa_pro_ad_space id=1] here.", extra="tags: [One]\n")
    return files


def same_times(a: Snapshot, b: Snapshot) -> None:
    """Timestamps as written (equal instants with other offsets would compare equal, and read otherwise)."""

    def written(s: Snapshot) -> list[tuple[str, str]]:
        return [(x.published.isoformat(), x.updated.isoformat()) for x in s.loaded["all"].articles]

    assert written(a) == written(b)


def test_a_restart_parses_nothing_and_builds_what_a_cold_build_does(make_site: SiteFactory) -> None:
    config = make_site(mixed_site())
    age_all(config)
    first, _ = run(config)
    assert first.parsed == 8
    assert [p.name for p in cache_files(config)] == ["news.cache", "sport.cache"]
    second, cache = run(config)
    assert second.parsed == 0
    assert cache.disk is not None and cache.disk.loaded == 8
    cold = build_snapshot(config)
    same_content(second, cold)
    same_times(second, cold)
    assert any("biography" in p.message for p in second.problems)


def test_an_article_changed_while_down_is_parsed_again(make_site: SiteFactory) -> None:
    config = make_site(site_files(3))
    age_all(config)
    run(config)
    path = config.parent / "feeds" / "news" / "a1.md"
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Story 1", "Story X"), encoding="utf-8")  # same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # and the same mtime
    snapshot, _ = run(config)
    assert snapshot.parsed == 1
    edited = snapshot.article("news", "a1")
    assert edited is not None and edited.title == "Story X"
    same_content(snapshot, build_snapshot(config))


@pytest.mark.parametrize(
    "change",
    [
        ("https://news.test", "https://moved.test"),  # site.base_url: every link the parse made absolute
        ("language: en\n", "language: en\n  tag_date: 2021-01-01\n"),  # every item id
        ("port: 8080\n", "port: 8080\nads:\n  strip_tags: [promo]\n"),  # what the body renderer removes
    ],
)
def test_a_config_change_the_parse_reads_leaves_the_cache_unused(
    make_site: SiteFactory, change: tuple[str, str]
) -> None:
    config = make_site(site_files(3))
    age_all(config)
    run(config)
    config.write_text(MINIMAL_CONFIG.replace(*change), encoding="utf-8")
    snapshot, cache = run(config)
    assert snapshot.parsed == 3
    assert cache.disk is not None and cache.disk.loaded == 0 and cache.disk.rejected == 1
    same_content(snapshot, build_snapshot(config))
    assert run(config)[0].parsed == 0  # the files were written again, under the new key


def test_a_cache_written_by_other_code_is_not_used(make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_site(site_files(3))
    age_all(config)
    run(config)
    monkeypatch.setattr(diskcache, "code_version", lambda: "another version")
    snapshot, cache = run(config)
    assert snapshot.parsed == 3
    assert cache.disk is not None and cache.disk.rejected == 1


def _flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def _cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _well_sealed_nonsense(path: Path) -> None:
    """A file whose digest matches, holding values of another shape under the right key."""
    data = path.read_bytes()
    start = len(diskcache.MAGIC) + diskcache.DIGEST_BYTES
    (length,) = diskcache.INDEX_LENGTH.unpack_from(data, start)
    index_at = start + diskcache.INDEX_LENGTH.size
    key, names, _sizes = marshal.loads(data[index_at : index_at + length])
    record = marshal.dumps(("a0.md", (1, 2), "x"))
    index = marshal.dumps((key, names, (len(record),) * len(names)))
    payload = diskcache.INDEX_LENGTH.pack(len(index)) + index + record * len(names)
    digest = hashlib.blake2b(payload, digest_size=diskcache.DIGEST_BYTES).digest()
    path.write_bytes(diskcache.MAGIC + digest + payload)


def _emptied(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [_flip_last_byte, _cut_short, _well_sealed_nonsense, _emptied])
def test_a_damaged_cache_file_is_ignored(make_site: SiteFactory, damage: Any) -> None:
    config = make_site(site_files(3))
    age_all(config)
    run(config)
    (path,) = cache_files(config)
    damage(path)
    snapshot, cache = run(config)
    assert snapshot.parsed == 3
    assert cache.disk is not None and cache.disk.rejected == 1
    same_content(snapshot, build_snapshot(config))


def test_no_step_reads_encodes_or_copies_a_whole_file_at_once(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each such step holds the GIL: one ``marshal`` call over a 60 MB folder file stalled the loop ~50 ms.
    Writing, rewriting after an edit, and reading back, no call takes more than a chunk (or the index)."""
    monkeypatch.setattr(diskcache, "CHUNK_BYTES", 4096, raising=False)
    files = site_files(40)
    files.update({f"feeds/news/long{n}.md": article(f"Long {n}", body="Words here. " * 400) for n in range(8)})
    config = make_site(files)
    age_all(config)
    sizes: list[int] = []
    dumps, loads = marshal.dumps, marshal.loads

    def measured_dumps(value: Any, *args: Any) -> bytes:
        encoded = dumps(value, *args)
        sizes.append(len(encoded))
        return encoded

    def measured_loads(data: Any, *args: Any) -> Any:
        sizes.append(len(data))
        return loads(data, *args)

    monkeypatch.setattr(marshal, "dumps", measured_dumps)
    monkeypatch.setattr(marshal, "loads", measured_loads)
    _, cache = run(config)
    (path,) = cache_files(config)
    edited = config.parent / "feeds" / "news" / "a1.md"
    edited.write_text(article("Story 1 revised", "2024-05-02T10:00:00+00:00", "New."), encoding="utf-8")
    build_snapshot(config, cache=cache)
    assert cache.disk is not None
    cache.disk.wait()
    restarted, again = run(config)
    assert restarted.parsed == 0 and again.disk is not None and again.disk.loaded == 48
    whole = path.stat().st_size
    assert whole > 10 * 4096 and sizes and max(sizes) < whole / 4


def test_a_reload_writes_only_the_folders_it_read_again(make_site: SiteFactory) -> None:
    config = make_site(mixed_site())
    age_all(config)
    _, cache = run(config)
    news, sport = cache_files(config)
    before = {news: news.stat().st_mtime_ns, sport: sport.stat().st_mtime_ns}
    edited = config.parent / "feeds" / "news" / "a1.md"
    edited.write_text(article("Story 1 revised", "2024-05-02T10:00:00+00:00", "New."), encoding="utf-8")
    build_snapshot(config, cache=cache)
    assert cache.disk is not None
    assert news.stat().st_mtime_ns == before[news]  # not yet: a write waits for the edits after it
    cache.disk.wait()
    assert sport.stat().st_mtime_ns == before[sport]
    assert news.stat().st_mtime_ns != before[news]
    restarted, again = run(config)
    revised = restarted.article("news", "a1")
    assert revised is not None and revised.title == "Story 1 revised"
    # every record came from disk, the rewritten file's copied ones too; the edit, read less than a
    # timestamp tick after its write, is hashed again, not parsed
    assert again.disk is not None and (again.disk.loaded, again.disk.rejected) == (8, 0)
    assert restarted.parsed == 0
    same_content(restarted, build_snapshot(config))


def test_a_removed_folder_loses_its_cache_file(make_site: SiteFactory) -> None:
    config = make_site(mixed_site())
    age_all(config)
    run(config)
    sport = config.parent / "feeds" / "sport"
    for path in sport.iterdir():
        path.unlink()
    sport.rmdir()
    run(config)
    assert [p.name for p in cache_files(config)] == ["news.cache"]


_restart_step = st.one_of(_step, st.tuples(st.just("restart")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_restart_step, min_size=1, max_size=10))
def test_builds_across_restarts_equal_cold_builds(steps: list[tuple[Any, ...]]) -> None:
    """Random edits, each followed by a reload, and restarts between them that keep only the disk."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = _empty_site(root)
        _, cache = run(config)
        for step in steps:
            if step[0] == "restart":
                snapshot, cache = run(config)
            else:
                _apply(root, step)
                snapshot = build_snapshot(config, cache=cache)
                assert cache.disk is not None
                cache.disk.wait()
            same_content(snapshot, build_snapshot(config))


def _feed_once_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/news.rss", timeout=10) as response:
                return bytes(response.read())
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "serve never answered"
            time.sleep(0.05)


def test_serve_starts_from_the_parses_its_last_run_left(make_site: SiteFactory, tmp_path: Path) -> None:
    """The real ``syndicate serve``, started twice: the second start parses only the article edited between."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = make_site(site_files(4), MINIMAL_CONFIG.replace("port: 8080", f"port: {port}"))
    age_all(config)
    for run_number, expected in ((1, "4 parsed"), (2, "1 parsed")):
        if run_number == 2:
            path = config.parent / "feeds" / "news" / "a2.md"
            path.write_text(article("Story 2 edited", "2024-05-03T10:00:00+00:00", "Changed."), encoding="utf-8")
        log = tmp_path / f"serve{run_number}.log"
        process = serve_logged(config, log, tmp_path)
        try:
            line = _serve_log_until(log, r"serving 4 articles.*", process)
            assert re.search(rf"\b{expected}\b", line), line
            assert (b"Story 2 edited" in _feed_once_listening(port, process)) == (run_number == 2)
        finally:
            process.terminate()
            process.wait(10)
        assert process.returncode == 0, log.read_text(encoding="utf-8", errors="replace")
        assert cache_files(config), "the first run wrote its parses before it stopped"
