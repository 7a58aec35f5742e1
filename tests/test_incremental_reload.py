"""Reloads in proportion to the change: unchanged articles keep their parse, everything else is re-read.

Real files, the real app and its Reloader; an incremental build is held to the Snapshot (and the
bytes) a cold build of the same files gives.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syndicate.content.parsecache import ChangeLog, ParseCache
from syndicate.reload import SETTLED, Reloader
from syndicate.snapshot import BuildCache, Snapshot, build_snapshot
from syndicate.web.app import create_app
from syndicate.web.state import RELOADER
from tests.conftest import FEED_YAML, MINIMAL_CONFIG, AppClient, SiteFactory, article
from tests.opsite import wait_for
from tests.processes import serve_logged
from tests.test_reload import until_watching

Client = Callable[..., Any]
FORMATS = ("rss", "atom", "json")


def age(path: Path, seconds: float = 10.0) -> None:
    """Date a file back, as every file not written in the last moments is: its stat can be trusted."""
    stamp = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(stamp, stamp))


def site_files(count: int) -> dict[str, str]:
    files = {"feeds/news/_feed.yaml": FEED_YAML}
    for n in range(count):
        files[f"feeds/news/a{n}.md"] = article(
            f"Story {n}",
            f"2024-05-{n + 1:02d}T10:00:00+00:00",
            f"Body of story {n}, with [a link](/about/).",
            extra="tags: [Trade]\nauthor: Ann\n",
        )
    return files


def age_all(config: Path) -> None:
    for path in config.parent.rglob("*"):
        if path.is_file():
            age(path)


async def start(aiohttp_client: Client, config: Path) -> tuple[AppClient, Reloader]:
    client: AppClient = await aiohttp_client(create_app(config))
    return client, client.app[RELOADER]


def same_content(a: Snapshot, b: Snapshot) -> None:
    """Everything a Snapshot serves, compared field by field (generation and build time aside)."""
    assert a.loaded == b.loaded
    assert a.feeds == b.feeds
    assert a.filtered == b.filtered
    assert a.problems == b.problems
    assert a.spaces == b.spaces
    assert a.scheduled == b.scheduled
    assert a.shortcode_tags == b.shortcode_tags


async def served(client: AppClient) -> dict[str, bytes]:
    pages = {}
    for fmt in FORMATS:
        response = await client.get(f"/feeds/news.{fmt}")
        assert response.status == 200
        pages[fmt] = await response.read()
    return pages


async def test_unchanged_articles_keep_their_parse(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = make_site(site_files(3))
    age_all(config)
    _client, reloader = await start(aiohttp_client, config)
    before = reloader.holder.current
    outcome = await reloader.reload("test")
    assert outcome.accepted
    after = reloader.holder.current
    assert after.generation != before.generation
    for n in range(3):
        assert after.article("news", f"a{n}") is before.article("news", f"a{n}")


async def test_an_edit_an_addition_and_a_removal_are_served(aiohttp_client: Client, make_site: SiteFactory) -> None:
    config = make_site(site_files(3))
    age_all(config)
    client, reloader = await start(aiohttp_client, config)
    before = reloader.holder.current
    news = config.parent / "feeds" / "news"
    (news / "a1.md").write_text(article("Story 1 revised", "2024-05-02T10:00:00+00:00", "New words."), encoding="utf-8")
    (news / "a2.md").unlink()
    (news / "a9.md").write_text(article("Story 9", "2024-06-01T10:00:00+00:00", "Fresh."), encoding="utf-8")
    assert (await reloader.reload("test")).accepted
    after = reloader.holder.current
    assert after.article("news", "a0") is before.article("news", "a0")
    revised = after.article("news", "a1")
    assert revised is not None and revised.title == "Story 1 revised"
    assert after.article("news", "a2") is None
    assert after.article("news", "a9") is not None
    rss = (await served(client))["rss"].decode()
    assert "Story 1 revised" in rss and "New words." in rss and "Fresh." in rss and "Story 2" not in rss

    cold_client, _ = await start(aiohttp_client, config)  # a fresh app: nothing to reuse
    assert await served(client) == await served(cold_client)


async def test_a_same_size_edit_right_after_a_build_is_seen(aiohttp_client: Client, make_site: SiteFactory) -> None:
    """Written within one timestamp tick of its reading, a file's size and mtime can stay the same
    while its text changes: such a file is hashed, not trusted."""
    config = make_site(site_files(1))
    path = config.parent / "feeds" / "news" / "a0.md"
    age(path)
    _client, reloader = await start(aiohttp_client, config)
    stamp = time.time_ns()
    os.utime(path, ns=(stamp, stamp))
    assert (await reloader.reload("test")).accepted  # read now: its mtime is racy from here on
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Story 0", "Story X"), encoding="utf-8")
    os.utime(path, ns=(stamp, stamp))  # same size, same mtime: only the content differs
    assert (await reloader.reload("test")).accepted
    changed = reloader.holder.current.article("news", "a0")
    assert changed is not None and changed.title == "Story X"


def test_a_touched_file_with_the_same_text_keeps_its_parse(make_site: SiteFactory) -> None:
    config = make_site(site_files(2))
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    path = config.parent / "feeds" / "news" / "a0.md"
    age(path, 5.0)  # a new mtime, the same bytes
    second = build_snapshot(config, cache=cache)
    assert second.article("news", "a0") is first.article("news", "a0")
    assert (cache.parses.parsed, cache.parses.reused, cache.parses.hashed) == (2, 2, 3)


def test_a_config_change_the_parse_reads_parses_again(make_site: SiteFactory) -> None:
    config = make_site(site_files(2))
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    config.write_text(MINIMAL_CONFIG.replace("title: Test Site", "title: Renamed Site"), encoding="utf-8")
    renamed = build_snapshot(config, cache=cache)  # the site title is not in any article
    assert renamed.article("news", "a0") is first.article("news", "a0")
    assert cache.parses.parsed == 2

    config.write_text(MINIMAL_CONFIG.replace("https://news.test", "https://moved.test"), encoding="utf-8")
    moved = build_snapshot(config, cache=cache)
    assert cache.parses.parsed == 4
    story = moved.article("news", "a0")
    assert story is not None and story is not first.article("news", "a0")
    assert "https://moved.test/about/" in "".join(p for p in story.body if isinstance(p, str))
    assert story.uid.startswith("tag:moved.test,")
    same_content(moved, build_snapshot(config))


def test_new_ad_tags_parse_again(make_site: SiteFactory) -> None:
    """``ads.strip_tags`` and aliases decide which shortcodes a body keeps as calls."""
    files = site_files(1)
    files["feeds/news/a0.md"] = article("Promo", body="Before [promo id=1] after.")
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    config.write_text(MINIMAL_CONFIG + "ads:\n  strip_tags: [promo]\n", encoding="utf-8")
    second = build_snapshot(config, cache=cache)
    before, after = first.article("news", "a0"), second.article("news", "a0")
    assert before is not None and after is not None
    assert "[promo id=1]" in "".join(p for p in before.body if isinstance(p, str))
    assert "[promo" not in "".join(p for p in after.body if isinstance(p, str))
    same_content(second, build_snapshot(config))


def test_problems_of_a_reused_parse_are_reported_again(make_site: SiteFactory) -> None:
    files = site_files(2)
    files["feeds/news/bad.md"] = "no front matter\n"
    files["feeds/news/warned.md"] = article("Warned", extra="updated: 2020-01-01T00:00:00+00:00\n")
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    second = build_snapshot(config, cache=cache)
    assert [p.message for p in first.problems if p.path.name in ("bad.md", "warned.md")]
    assert second.problems == first.problems
    assert cache.parses.parsed == 4


def test_an_unchanged_folder_is_taken_whole(make_site: SiteFactory) -> None:
    files = site_files(2)
    files["feeds/sport/_feed.yaml"] = "title: Sport\n"
    files["feeds/sport/match.md"] = article("Match", extra="tags: [Cup]\n")
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    (config.parent / "feeds" / "sport" / "match.md").write_text(
        article("Final", extra="tags: [Cup]\n"), encoding="utf-8"
    )
    second = build_snapshot(config, cache=cache)
    assert cache.parses.folders_kept == 1  # news: not one file read
    assert second.feeds["news"].articles is first.feeds["news"].articles
    assert second.filtered[("news", "tags", "trade")] is first.filtered[("news", "tags", "trade")]
    assert second.filtered[("sport", "tags", "cup")].articles[0].title == "Final"
    same_content(second, build_snapshot(config))


def test_an_old_mtime_put_back_on_new_text_is_seen(make_site: SiteFactory) -> None:
    """``touch -d`` or ``rsync -t`` can give new text the old size and mtime; the change time still moves."""
    config = make_site(site_files(1))
    path = config.parent / "feeds" / "news" / "a0.md"
    age(path)
    before = path.stat()
    cache = BuildCache()
    build_snapshot(config, cache=cache)
    path.write_text(path.read_text(encoding="utf-8").replace("Story 0", "Story Z"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    story = build_snapshot(config, cache=cache).article("news", "a0")
    assert story is not None and story.title == "Story Z"


def test_an_id_freed_in_one_folder_lets_the_other_folder_have_it(make_site: SiteFactory) -> None:
    files = {
        "feeds/a/_feed.yaml": FEED_YAML,
        "feeds/b/_feed.yaml": FEED_YAML,
        "feeds/a/x.md": article("In a", extra="id: shared\n"),
        "feeds/b/y.md": article("In b", extra="id: shared\n"),
    }
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    assert first.feeds["b"].articles == ()
    build_snapshot(config, cache=cache)
    (config.parent / "feeds" / "a" / "x.md").unlink()
    third = build_snapshot(config, cache=cache)
    assert [a.title for a in third.feeds["b"].articles] == ["In b"]
    same_content(third, build_snapshot(config))


# A small site edited at random: after every step the incremental build equals a cold one.
_BODIES = (
    "Plain words.",
    "Link [here](/x/).",
    "Ad [bsa_pro_ad_space id=1] in text.",
    "[promo] alone",
    "<div><p>html</p></div>",
    "Same size A",
    "Same size B",
)
_FOLDERS = ("news", "sport", "tech")  # three: a folder kept between two walked ones
_step = st.one_of(
    st.tuples(
        st.just("write"),
        st.sampled_from(_FOLDERS),
        st.integers(0, 2),
        st.sampled_from(_BODIES),
        st.sampled_from(("tags: [One, Two]\n", "author: Ann\n", "id: shared\n")),
    ),
    st.tuples(st.just("broken"), st.sampled_from(_FOLDERS), st.integers(0, 2)),
    st.tuples(st.just("delete"), st.sampled_from(_FOLDERS), st.integers(0, 2)),
    st.tuples(st.just("touch"), st.sampled_from(_FOLDERS), st.integers(0, 2)),
    st.tuples(st.just("age"), st.sampled_from(_FOLDERS), st.integers(0, 2)),
    st.tuples(st.just("config"), st.sampled_from(("https://news.test", "https://moved.test")), st.booleans()),
    st.tuples(st.just("space"), st.booleans()),
)


def _empty_site(root: Path) -> Path:
    """The folders the generated edits write into, each with its _feed.yaml; the config's path."""
    for name in _FOLDERS:
        (root / "feeds" / name).mkdir(parents=True)
        (root / "feeds" / name / "_feed.yaml").write_text(FEED_YAML, encoding="utf-8")
    (root / "adspaces").mkdir()
    (root / "config.yaml").write_text(MINIMAL_CONFIG, encoding="utf-8")
    return root / "config.yaml"


def _apply(root: Path, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind in ("write", "broken", "delete", "touch", "age"):
        path = root / "feeds" / step[1] / f"s{step[2]}.md"
        if kind == "write":
            path.write_text(article(f"T{step[2]}", body=step[3], extra=step[4]), encoding="utf-8")
        elif kind == "broken":
            path.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
        elif kind == "delete":
            path.unlink(missing_ok=True)
        elif path.exists():
            age(path, 3.0 if kind == "touch" else 30.0)
    elif kind == "config":
        strip = "ads:\n  strip_tags: [promo]\n" if step[2] else ""
        (root / "config.yaml").write_text(
            MINIMAL_CONFIG.replace("https://news.test", step[1]) + strip, encoding="utf-8"
        )
    else:
        space = root / "adspaces" / "1.yaml"
        if step[1]:
            space.write_text(
                "units:\n  - id: u\n    type: text\n    title: Buy\n    url: https://ad.test/\n", encoding="utf-8"
            )
        else:
            space.unlink(missing_ok=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_step, min_size=1, max_size=10))
def test_incremental_builds_equal_cold_builds(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = _empty_site(root)
        cache = BuildCache()
        build_snapshot(config, cache=cache)
        for step in steps:
            _apply(root, step)
            same_content(build_snapshot(config, cache=cache), build_snapshot(config))


def _serve_log_until(log: Path, pattern: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        found = re.search(pattern, text)
        if found is not None:
            return found.group(0)
        assert process.poll() is None, text
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not in the log:\n{log.read_text(encoding='utf-8', errors='replace')}")


def test_serve_reloads_on_sighup_and_edits_parse_only_what_changed(make_site: SiteFactory, tmp_path: Path) -> None:
    """The real ``syndicate serve``: its first reload already reuses the articles the start-up build parsed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = make_site(site_files(4), MINIMAL_CONFIG.replace("port: 8080", f"port: {port}"))
    age_all(config)
    log = tmp_path / "serve.log"
    process = serve_logged(config, log, tmp_path)
    try:
        _serve_log_until(log, r"serving 4 articles", process)
        time.sleep(0.5)  # the SIGHUP handler is installed as the app starts
        process.send_signal(signal.SIGHUP)
        assert "(0 parsed)" in _serve_log_until(log, r"reload \(SIGHUP\): .*", process)
        path = config.parent / "feeds" / "news" / "a2.md"
        path.write_text(article("Story 2 edited", "2024-05-03T10:00:00+00:00", "Changed."), encoding="utf-8")
        assert "(1 parsed)" in _serve_log_until(log, r"reload \(watch\): .*", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/news.rss", timeout=10) as response:
            assert b"Story 2 edited" in response.read()
    finally:
        process.terminate()
        process.wait(10)


async def _watch_reload(client: AppClient, reloader: Reloader, change: Callable[[], object]) -> None:
    """Make ``change`` and wait until a reload the watcher triggered has run after it."""
    before = reloader.attempts
    change()

    async def reloaded() -> bool:
        return reloader.attempts > before and reloader.last is not None and reloader.last.trigger == "watch"

    await wait_for(reloaded, "a reload by the watcher")


async def test_the_first_edit_after_start_reads_only_its_folder(aiohttp_client: Client, make_site: SiteFactory) -> None:
    """The start-up build ran before any watch, so nothing vouches for its scans: once the watch has settled
    the server checks every file once, in the background, and the first edit then costs its folder."""
    files = site_files(2)
    files["feeds/sport/_feed.yaml"] = "title: Sport\n"
    files["feeds/sport/match.md"] = article("Match")
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    client: AppClient = await aiohttp_client(create_app(config, watch=True, reuse=cache))
    reloader = client.app[RELOADER]

    async def settled() -> bool:
        return reloader.last is not None and reloader.last.trigger == SETTLED

    await wait_for(settled, "the check of every file once the watch settled")
    unread = cache.parses.folders_unread
    match = config.parent / "feeds" / "sport" / "match.md"
    await _watch_reload(client, reloader, lambda: match.write_text(article("Final"), encoding="utf-8"))
    assert cache.parses.folders_unread > unread  # news: not even listed
    assert "Final" in await (await client.get("/feeds/sport.rss")).text()


async def test_watched_reloads_skip_folders_the_watcher_saw_no_change_in(
    aiohttp_client: Client, make_site: SiteFactory
) -> None:
    files = site_files(2)
    files["feeds/sport/_feed.yaml"] = "title: Sport\n"
    files["feeds/sport/match.md"] = article("Match")
    files["feeds/sport/other.md"] = article("Other", "2024-04-01T10:00:00+00:00")
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    client: AppClient = await aiohttp_client(create_app(config, watch=True, reuse=cache))
    reloader = client.app[RELOADER]
    await until_watching(config, reloader)
    await asyncio.sleep(ChangeLog.SETTLING + 0.2)  # scans from now on are covered by the watch
    await _watch_reload(client, reloader, lambda: config.write_bytes(config.read_bytes()))
    unread, walks = cache.parses.folders_unread, cache.parses.stat_walks
    match = config.parent / "feeds" / "sport" / "match.md"
    await _watch_reload(client, reloader, lambda: match.write_text(article("Final"), encoding="utf-8"))
    assert cache.parses.folders_unread > unread  # news: not even listed
    assert cache.parses.files_unread >= 1  # sport/other.md: not stat-ed
    assert cache.parses.stat_walks == walks  # nor sport as a whole, to learn what the watcher reported
    rss = await client.get("/feeds/sport.rss")
    assert "Final" in await rss.text()
    same_content(reloader.holder.current, build_snapshot(config))

    unread = cache.parses.folders_unread
    outcome = await reloader.reload("admin")  # asked for by hand: every file is checked
    assert outcome.accepted and cache.parses.folders_unread == unread

    space = config.parent / "adspaces" / "1.yaml"
    space.write_text("units: []\n", encoding="utf-8")
    async with reloader.lock:  # as the admin API writes an ad space and reloads
        outcome = await reloader.reload_locked("admin PUT adspaces/1", (space,))
    assert outcome.accepted and cache.parses.folders_unread > unread  # news at least, unread
    unread = cache.parses.folders_unread
    async with reloader.lock:  # an article written by the caller: every folder is checked
        outcome = await reloader.reload_locked("admin PUT articles/news/a0", (config.parent / "feeds/news/a0.md",))
    assert outcome.accepted and cache.parses.folders_unread == unread


def test_articles_share_their_author_and_tag_objects(make_site: SiteFactory) -> None:
    """100,000 articles by a few hundred authors under a few thousand tags hold one copy of each."""
    snapshot = build_snapshot(make_site(site_files(3)))
    first, second = snapshot.article("news", "a0"), snapshot.article("news", "a1")
    assert first is not None and second is not None
    assert first.author is second.author and first.author is not None
    assert first.tags[0] is second.tags[0]


def test_a_rebuild_with_no_change_checks_no_ad_call_again(make_site: SiteFactory) -> None:
    files = site_files(2)
    files["feeds/news/ad.md"] = article("Ad", body="Text [bsa_pro_ad_space id=9] more.")
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    first = build_snapshot(config, cache=cache)
    looked_at = cache.calls.looked_at
    second = build_snapshot(config, cache=cache)
    assert cache.calls.looked_at == looked_at
    assert [p.message for p in second.problems] == [p.message for p in first.problems]
    assert any("no ad space '9'" in p.message for p in second.problems)


def test_an_edit_checks_the_ad_calls_of_its_own_folder_only(make_site: SiteFactory) -> None:
    files = site_files(3)
    files["feeds/sport/_feed.yaml"] = FEED_YAML
    for n in range(4):
        files[f"feeds/sport/s{n}.md"] = article(
            f"Game {n}", f"2024-04-{n + 1:02d}T10:00:00+00:00", "Ad [bsa_pro_ad_space id=9]."
        )
    config = make_site(files)
    age_all(config)
    cache = BuildCache()
    build_snapshot(config, cache=cache)
    looked_at = cache.calls.looked_at
    path = config.parent / "feeds" / "news" / "a1.md"
    path.write_text(article("Story 1 revised", "2024-05-02T10:00:00+00:00", "Ad [bsa_pro_ad_space id=8]."), "utf-8")
    snapshot = build_snapshot(config, cache=cache)
    assert cache.calls.looked_at - looked_at == 3  # news, not sport
    same_content(snapshot, build_snapshot(config))
    assert sum("no ad space '9'" in p.message for p in snapshot.problems) == 4
    assert any("no ad space '8'" in p.message for p in snapshot.problems)


def _changed_path(root: Path, step: tuple[Any, ...]) -> Path:
    """The file a step writes, as the watcher would report it."""
    if step[0] == "config":
        return root / "config.yaml"
    if step[0] == "space":
        return root / "adspaces" / "1.yaml"
    folder, number = str(step[1]), int(step[2])
    return (root / "feeds" / folder / f"s{number}.md").resolve()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_step, min_size=1, max_size=10))
def test_watched_builds_equal_cold_builds(steps: list[tuple[Any, ...]]) -> None:
    """Builds that trust the watcher's change log (every change reported, as a running watch does) skip
    the folders and files it saw no change in, and still equal cold builds."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _empty_site(root)
        for name in _FOLDERS:
            for n in range(3):  # settled files from the start: the watcher's word alone keeps them
                path = root / "feeds" / name / f"s{n}.md"
                path.write_text(article(f"Old {n}", body=_BODIES[n]), encoding="utf-8")
                age(path, 30.0)
        config = root / "config.yaml"
        log = ChangeLog()
        log.watching()
        log.live_since = time.monotonic() - 1.0  # the watch has settled
        cache = BuildCache(parses=ParseCache(log))
        build_snapshot(config, cache=cache)
        for step in steps:
            _apply(root, step)
            log.mark(_changed_path(root, step))
            log.trusted = True
            try:
                incremental = build_snapshot(config, cache=cache)
            finally:
                log.trusted = False
            same_content(incremental, build_snapshot(config))
