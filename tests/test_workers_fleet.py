"""``serve --workers 2`` on the embedded SQLite store: one partner burst and one replay filter for all workers,
as for replicas sharing PostgreSQL. A real supervisor and its workers, real sockets."""

from __future__ import annotations

import html
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet_support import BURST, FILES
from tests.fleet_support import CONFIG as FLEET_CONFIG
from tests.processes import serve_workers
from tests.test_workers import free_port
from tests.tracking_support import ADMIN_TOKEN, CHROME, CLICK_LINK, PARTNER_KEY, PUBLIC_URL, SIGNING_KEYS

#: The replicas' site on the embedded store: the workers share its buckets through files, not a database.
CONFIG = FLEET_CONFIG.replace("store:\n  url: {url}\n  timeout_seconds: 3\n", "")
assert CONFIG != FLEET_CONFIG


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": CHROME, "Connection": "close", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # a new connection each time
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[str]:
    site = tmp_path / "site"
    files = {**FILES, "adspaces/4.yaml": FILES["adspaces/5.yaml"], "config.yaml": CONFIG}
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "SYNDICATE_SIGNING_KEYS": SIGNING_KEYS, "SYNDICATE_ADMIN_TOKEN": ADMIN_TOKEN}
    for name in ("SYNDICATE_DATABASE_URL", "SYNDICATE_DATABASE_URL_FILE", "SYNDICATE_CONFIG"):
        env.pop(name, None)
    log = (tmp_path / "serve.log").open("w")
    parent = serve_workers(site / "config.yaml", port, log, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        pids: set[int] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(pids) < 2:
            try:
                pids.add(int(json.loads(_get(f"{base}/healthz")[1])["pid"]))
            except OSError:
                time.sleep(0.2)
        assert len(pids) == 2, (tmp_path / "serve.log").read_text()
        yield base
    finally:
        parent.terminate()
        try:
            parent.wait(30)
        except subprocess.TimeoutExpired:
            parent.kill()
        log.close()


def test_a_partner_burst_holds_across_the_workers(workers: str) -> None:
    answered: dict[int, int] = {}
    seen: set[int] = set()
    started = time.monotonic()
    for _ in range(100):  # over about two seconds, each on a new connection: the kernel spreads them
        status, _body = _get(f"{workers}/feeds/news.json", {"Authorization": f"Bearer {PARTNER_KEY}"})
        assert status in (200, 429)
        answered[status] = answered.get(status, 0) + 1
        seen.add(int(json.loads(_get(f"{workers}/healthz")[1])["pid"]))
        time.sleep(0.01)
    expected = BURST + 0.01 * (time.monotonic() - started)
    assert len(seen) == 2  # both workers took part
    health = json.loads(_get(f"{workers}/healthz")[1])
    assert health["workers"] == {"count": 2, "shared_limits": True, "error": None, "fleet_replay_filter": True}
    assert abs(answered.get(200, 0) - expected) <= 0.1 * expected, answered


def test_a_click_replayed_on_every_worker_counts_once(workers: str) -> None:
    _, feed = _get(f"{workers}/feeds/news.rss")
    link = CLICK_LINK.search(html.unescape(html.unescape(feed.decode())))
    assert link, feed[:2000]
    click = link.group(1).replace(PUBLIC_URL, workers)
    opener = urllib.request.build_opener(_NoRedirect)
    for reader in range(5):
        for _ in range(6):  # each reader clicks six times, spread over both workers
            request = urllib.request.Request(
                click,
                headers={"User-Agent": CHROME, "Connection": "close", "X-Forwarded-For": f"203.0.113.{reader + 1}"},
            )
            try:
                opener.open(request, timeout=5)
            except urllib.error.HTTPError as exc:
                assert exc.code == 302
    time.sleep(1.0)  # both workers flush (every 0.2 s)
    totals = []
    for _ in range(4):
        _, body = _get(f"{workers}/admin/stats.json?by=space", {"Authorization": f"Bearer {ADMIN_TOKEN}"})
        totals.append(json.loads(body)["totals"]["clicks"])
    assert set(totals) == {5}, totals
