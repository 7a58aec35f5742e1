"""Server subprocesses for the benchmarks: start, wait until healthy, and always stop.

Every process is started in its own session and registered with a ``Processes`` stack whose exit kills
the whole group, so an exception, Ctrl-C or SIGTERM in the benchmark never leaves a server listening.
Output goes to a log file (never a pipe nobody reads, which would stall the server once full).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick, released at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def catches(self, signum: int) -> bool:
        """Whether the process has a handler for ``signum`` (SigCgt in /proc), i.e. sending it will not kill it."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
        return False


class Processes(contextlib.AbstractContextManager["Processes"]):
    """Owns the benchmark's servers; leaving the ``with`` block stops every one of them."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(
        self, name: str, argv: Sequence[str], port: int, log: Path, cwd: Path, env: Mapping[str, str] | None = None
    ) -> Server:
        with log.open("wb") as out:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        server = Server(name, process, port, log)
        self.servers.append(server)
        return server

    def serve(self, config: Path, port: int, log: Path, cwd: Path, env: Mapping[str, str] | None = None) -> Server:
        """``syndicate serve`` on ``config``, listening on ``port`` (the one the config names)."""
        argv = [sys.executable, "-m", "syndicate", "serve", "--config", str(config)]
        return self.start("syndicate", argv, port, log, cwd, env)

    def stop(self, server: Server) -> None:
        if server in self.servers:
            self.servers.remove(server)
        _terminate(server.process)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        while self.servers:
            self.stop(self.servers[-1])


def _terminate(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM to the process group, then SIGKILL if it has not gone within ``grace`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(grace)


def wait_healthy(server: Server, path: str = "/healthz", timeout: float = 600.0) -> float:
    """Poll ``path`` until it answers 200; returns the seconds waited. Raises if the server dies or times out."""
    begun = time.monotonic()
    while time.monotonic() - begun < timeout:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url(path), timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - begun
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{server.name} not healthy after {timeout:.0f} s:\n{server.log_tail()}")
