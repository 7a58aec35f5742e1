"""`syndicate serve` as a real process: a graceful stop by signal loses no event; a hard kill at most one interval."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SiteFactory
from tests.tracking_support import CHROME, CLICK_LINK, PUBLIC_URL, SIGNING_KEYS, stored_report, tracked_site

N = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"User-Agent": CHROME})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until(check: object, what: str, attempts: int = 300) -> None:
    """Poll ``check`` (bounded: about 15 s), for a process coming up or a file filling."""
    for _ in range(attempts):
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@contextlib.contextmanager
def serve(config: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The server on a free port of 127.0.0.1, its log in the site folder; killed if a test leaves it running."""
    port = free_port()
    env = {**os.environ, "SYNDICATE_SIGNING_KEYS": SIGNING_KEYS}
    env.pop("SYNDICATE_ADMIN_TOKEN", None)
    with (config.parent / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "serve", "--config", str(config), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: process.poll() is None and get(port, "/healthz")[0] == 200, "the server to start")
            yield process, port
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=20)


def burst(port: int) -> None:
    """N feed responses (two ads each) and N clicks."""
    status, body = get(port, "/feeds/news.json")
    assert status == 200
    click = CLICK_LINK.findall(body.decode().replace('\\"', '"'))[0].removeprefix(PUBLIC_URL)
    for _ in range(N - 1):
        assert get(port, "/feeds/news.json")[0] == 200
    for _ in range(N):
        assert get(port, click)[0] == 302


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_stop_writes_every_event(make_site: SiteFactory, signum: signal.Signals) -> None:
    config = tracked_site(make_site)  # flush_seconds: 60, so only the stop can have written these
    with serve(config) as (process, port):
        burst(port)
        process.send_signal(signum)
        assert process.wait(timeout=30) == 0
    totals = stored_report(config.parent / "data").totals
    assert (totals.served, totals.fetches, totals.clicks) == (3 * N, N, N)  # three ads per response


def test_a_hard_kill_loses_at_most_one_flush_interval(make_site: SiteFactory) -> None:
    config = tracked_site(make_site, tracking="  flush_seconds: 0.2\n  dedupe_seconds: 0\n")
    data = config.parent / "data"
    with serve(config) as (process, port):
        burst(port)
        wait_until(lambda: stored_report(data).totals.clicks == N, "the periodic flush")
        process.kill()  # SIGKILL: no cleanup runs
        process.wait(timeout=20)
    totals = stored_report(data).totals
    assert (totals.served, totals.fetches, totals.clicks) == (3 * N, N, N)
