"""Runs wrk and reads its report: requests per second and the 99th-percentile latency.

wrk (not a Python client) drives the load because a Python load generator saturates long before an
aiohttp server does on the same machine, and would measure itself.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s+(\d+) requests in", re.MULTILINE)
_NON_OK = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True, slots=True)
class WrkResult:
    rps: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors: a run with errors measured something else


def ensure_wrk() -> str:
    """The wrk binary, installing the Debian package when it is missing (the benchmark runs as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(
        ["apt-get", "install", "-y", "wrk"],
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def wrk_argv(url: str, headers: Mapping[str, str], duration: int, threads: int = 2, connections: int = 64) -> list[str]:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    return [*argv, url]


def command_line(argv: list[str]) -> str:
    return shlex.join(argv)


def parse(report: str) -> WrkResult:
    rps, p99, total = _RPS.search(report), _P99.search(report), _TOTAL.search(report)
    if not (rps and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{report}")
    errors = sum(int(n) for n in _NON_OK.findall(report))
    socket_errors = _SOCKET.search(report)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(float(rps.group(1)), float(p99.group(1)) * _UNIT_MS[p99.group(2)], int(total.group(1)), errors)


def run(argv: list[str], duration: int) -> WrkResult:
    """One wrk run, bounded by its own -d plus a margin for start-up and the report."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=True)
    return parse(done.stdout)
