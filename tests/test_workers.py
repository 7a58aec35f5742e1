"""``syndicate serve --workers N``: N processes share the port; SIGTERM stops them all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO

from tests.conftest import SAMPLE_CONFIG
from tests.processes import serve_workers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return dict(json.load(response))


def start_two_workers(tmp_path: Path, port: int) -> tuple[subprocess.Popen[bytes], IO[str]]:
    """``serve --workers 2`` on a copy of the sample, so its data folder lands in tmp_path."""
    site = tmp_path / "site"
    for name in ("feeds", "adspaces"):
        shutil.copytree(SAMPLE_CONFIG.parent / name, site / name)
    shutil.copy(SAMPLE_CONFIG, site / "config.yaml")
    log = (tmp_path / "serve.log").open("w")
    return serve_workers(site / "config.yaml", port, log), log


def answering_workers(port: int, count: int) -> set[int]:
    """The pids that answered /healthz on the shared port, once ``count`` did (or a minute passed)."""
    pids: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(pids) < count:
        try:
            pids.add(int(str(get_json(f"http://127.0.0.1:{port}/healthz")["pid"])))
        except OSError:
            time.sleep(0.2)
    return pids


def test_workers_share_the_port_and_stop_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    parent, log = start_two_workers(tmp_path, port)
    try:
        pids = answering_workers(port, 2)
        workers = children_of(parent.pid)
        assert pids <= workers and len(workers) >= 2
        assert len(pids) == 2, "both workers answered on the shared port"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/feeds/world.rss", timeout=5) as response:
            assert response.status == 200
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
        time.sleep(0.5)
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        if parent.poll() is None:
            parent.kill()
            for pid in children_of(parent.pid):
                os.kill(pid, signal.SIGKILL)
        log.close()


def test_workers_exit_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """A supervisor killed with SIGKILL cannot forward anything: its workers must notice and stop,
    not keep the port and serve a config nobody supervises."""
    port = free_port()
    parent, log = start_two_workers(tmp_path, port)
    workers: set[int] = set()
    try:
        pids = answering_workers(port, 2)
        assert len(pids) == 2
        workers = pids
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(alive(pid) for pid in workers), "workers outlived their supervisor"
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        log.close()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
