"""``syndicate serve`` as a real process: one, or ``--workers N`` for the tests of what workers share."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO


def serve_workers(
    config: Path, port: int, log: IO[str], workers: int = 2, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start the supervisor and its workers on ``port``, everything they print going to ``log``."""
    command = [sys.executable, "-m", "syndicate", "serve", "--config", str(config), "--port", str(port)]
    return subprocess.Popen([*command, "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT)


def serve_logged(config: Path, log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    """Start one ``syndicate serve`` on ``config`` (the port it names), everything it prints going to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "syndicate", "serve", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
